"""Weighted value = expected value × probability, and the quota (定额) = the sum over a
salesperson's open customers. The method's example: ¥5,000,000 a year at a grade of
20 % counts ¥1,000,000 — on the model, in the API, on the page and in the quota."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from crm import services as crm_services
from crm.tests.factories import CustomerFactory
from funnel.selectors import funnel_summary, quota
from funnel.services import change_grade
from funnel.tests.factories import grade

FIVE_MILLION = Decimal(5_000_000)
ONE_MILLION = Decimal(1_000_000)


@pytest.fixture
def prospect(personas):
    """The method's example: expected to order ¥5,000,000 a year, at D (20 %)."""
    return CustomerFactory(
        owner=personas.salesperson, name="Northwind Ltd", grade=grade("D"), expected_value=FIVE_MILLION
    )


def test_the_model_weighs_five_million_at_twenty_percent_as_one_million(prospect):
    assert prospect.probability == Decimal(20)
    assert prospect.weighted_value == ONE_MILLION


def test_the_api_shows_the_weighted_value(prospect, client_as):
    body = client_as("salesperson").get(reverse("customer-detail", args=[prospect.pk])).json()

    assert (body["expected_value"], body["probability"], body["weighted_value"]) == (
        "5000000.00",
        "20.00",
        "1000000.00",
    )


def test_the_api_list_shows_the_weighted_value(prospect, client_as):
    row = client_as("manager").get(reverse("customer-list")).json()["results"][0]

    assert row["weighted_value"] == "1000000.00"


def test_the_customer_page_shows_the_weighted_value(prospect, client_as):
    response = client_as("salesperson").get(reverse("crm:customer-detail", args=[prospect.pk]))

    assert response.context["customer"].weighted_value == ONE_MILLION
    assert '<dd class="col-auto" data-testid="weighted-value">¥1,000,000</dd>' in response.content.decode()


def test_the_chinese_customer_page_counts_in_wan(prospect, client_as):
    client = client_as("salesperson")

    with translation.override("zh-hans"):
        response = client.get(
            reverse("crm:customer-detail", args=[prospect.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
        )

    assert 'data-testid="weighted-value">¥100万</dd>' in response.content.decode()


def test_the_list_page_shows_the_weighted_value(prospect, client_as):
    response = client_as("salesperson").get(reverse("crm:customer-list"))

    assert [c.weighted_value for c in response.context["customers"]] == [ONE_MILLION]
    assert "¥1,000,000" in response.content.decode()


def test_the_quota_is_the_weighted_value_of_the_open_customers(personas, prospect):
    assert quota(personas.salesperson) == ONE_MILLION


def test_the_quota_leaves_out_won_lost_archived_and_other_peoples_customers(personas, prospect):
    # given: besides the prospect, an A-grade customer and customers that must not count
    CustomerFactory(owner=personas.salesperson, grade=grade("A"), expected_value=Decimal(100_000))
    won = CustomerFactory(owner=personas.salesperson, grade=grade("A"), expected_value=Decimal(900_000))
    change_grade(customer=won, grade=grade("WON"), by=personas.salesperson)
    lost = CustomerFactory(owner=personas.salesperson, grade=grade("C"), expected_value=Decimal(900_000))
    change_grade(customer=lost, grade=grade("LOST"), by=personas.salesperson, note="no budget")
    archived = CustomerFactory(owner=personas.salesperson, grade=grade("C"), expected_value=Decimal(900_000))
    crm_services.archive_customer(customer=archived, by=personas.salesperson)
    CustomerFactory(owner=personas.teammate, grade=grade("C"), expected_value=Decimal(900_000))

    # then: ¥1,000,000 + ¥100,000 × 80 %
    assert quota(personas.salesperson) == Decimal(1_080_000)


def test_the_quota_uses_a_probability_override(personas, prospect):
    crm_services.set_probability_override(
        customer=prospect, by=personas.salesperson, probability=Decimal(50), reason="Champion inside"
    )

    assert quota(personas.salesperson) == Decimal(2_500_000)


def test_the_funnel_summary_shows_the_quota(personas, prospect, client_as):
    response = client_as("salesperson").get(reverse("funnel:summary"))

    assert response.context["total_weighted"] == ONE_MILLION
    assert 'data-testid="quota">¥1,000,000</td>' in response.content.decode()
    row = next(r for r in funnel_summary(personas.salesperson) if r["grade"].code == "D")
    assert (row["count"], row["expected"], row["weighted"]) == (1, FIVE_MILLION, ONE_MILLION)


def test_a_manager_reads_one_salespersons_funnel(personas, prospect, client_as):
    CustomerFactory(owner=personas.teammate, grade=grade("D"), expected_value=FIVE_MILLION)

    team = client_as("manager").get(reverse("funnel:summary"))
    one = client_as("manager").get(reverse("funnel:summary"), {"owner": personas.salesperson.pk})
    outsider = client_as("manager").get(reverse("funnel:summary"), {"owner": personas.other_salesperson.pk})

    assert team.context["total_weighted"] == 2 * ONE_MILLION
    assert one.context["total_weighted"] == ONE_MILLION
    assert outsider.status_code == 404

"""The funnel dashboard and the reports API show the diagnosis with the rule behind it:
each grade's share of the funnel against its share at the current rates, and which of
those rates are measured and which assumed."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from crm.tests.factories import CustomerFactory, OrderFactory
from funnel.tests.factories import grade
from reports.periods import today

pytestmark = pytest.mark.django_db


@pytest.fixture
def piled_at_c(personas):
    """The salesperson's funnel of the method's picture 2 — E 5, D 10, C 60, B 5, A 3, one of
    them with an order today — and another team's 10 prospects that nobody else may count."""
    for code, count in (("E", 5), ("D", 10), ("C", 60), ("B", 5), ("A", 2)):
        for _ in range(count):
            CustomerFactory(owner=personas.salesperson, grade=grade(code), expected_value=Decimal(1000))
    signed = CustomerFactory(owner=personas.salesperson, grade=grade("A"), expected_value=Decimal(1000))
    OrderFactory(customer=signed, signed_on=today())
    for _ in range(10):
        CustomerFactory(owner=personas.other_salesperson, grade=grade("E"))
    return personas


def test_the_funnel_page_shows_the_verdict_its_advice_and_the_rule(piled_at_c, client_as):
    response = client_as("salesperson").get(reverse("reports:funnel"))

    page = response.content.decode()
    assert response.context["diagnosis"].picture == 2
    assert "Few orders and few prospects: customers pile up at C." in page
    assert "Convert the C customers into orders quickly." in page
    assert "Replenish prospects: add new E customers and contact them." in page
    # 60 of the 83 open customers; with no grade left by 5 customers yet, the rates are the
    # ratios of the probabilities (E 50 %, D 50 %, C 67 %, B 75 %, A 80 %): C's ideal share 12 %
    assert "C holds 72 % of the funnel; at the current rates it should hold 12 %." in page
    assert "The rates of E, D, C, B and A are assumed" in page
    assert "The method&#x27;s picture 2 of 4." in page
    assert 'data-testid="shape-table"' in page


def test_the_funnel_page_speaks_the_diagnosis_in_chinese(piled_at_c, client_as):
    client = client_as("salesperson")
    client.cookies["django_language"] = "zh-hans"

    response = client.get(reverse("reports:funnel"))

    result = response.context["diagnosis"]
    with translation.override("zh-hans"):
        expected = [result.text, *(advice.text for advice in result.advice), *(r.text for r in result.rules)]
    page = response.content.decode()
    assert all(line in page for line in expected)


def test_the_manager_s_diagnosis_counts_the_team_only(piled_at_c, client_as):
    body = client_as("manager").get(reverse("report-diagnosis")).json()

    assert body["diagnosis"]["verdict"] == "pile_up"
    assert sum(layer["count"] for layer in body["diagnosis"]["layers"]) == 83


def test_the_api_gives_the_verdict_the_rule_numbers_and_the_measured_flags(piled_at_c, client_as):
    body = client_as("salesperson").get(reverse("report-diagnosis")).json()

    result = body["diagnosis"]
    assert (result["verdict"], result["picture"], result["grade"]) == ("pile_up", 2, "C")
    assert result["text"] == "Few orders and few prospects: customers pile up at C."
    assert [advice["code"] for advice in result["advice"]] == ["convert", "replenish"]
    rule = next(rule for rule in result["rules"] if rule["code"] == "C")
    assert (rule["kind"], rule["count"], rule["actual_share"], rule["ideal_share"]) == (
        "share",
        60,
        "0.723",
        "0.122",
    )
    assert rule["text"] == "C holds 72 % of the funnel; at the current rates it should hold 12 %."
    layers = {layer["code"]: layer for layer in result["layers"]}
    assert (layers["C"]["status"], layers["E"]["status"]) == ("high", "low")
    assert result["orders"]["count"] == 1 and body["recent_orders"] == 1
    assert [(rate["code"], rate["measured"]) for rate in result["rates"]] == [
        (code, False) for code in "EDCBA"
    ]
    assert result["assumed"] == ["E", "D", "C", "B", "A"]
    # the funnel endpoint carries the same diagnosis
    funnel = client_as("salesperson").get(reverse("report-funnel")).json()
    assert funnel["diagnosis"]["text"] == result["text"]


def test_an_empty_funnel_is_diagnosed_as_empty(personas, client_as):
    page = client_as("salesperson").get(reverse("reports:funnel")).content.decode()
    body = client_as("salesperson").get(reverse("report-diagnosis")).json()

    assert "The funnel is empty: no customers and no recent orders." in page
    assert (body["diagnosis"]["verdict"], body["diagnosis"]["layers"]) == ("empty", [])


def test_the_export_writes_the_verdict_advice_and_rule(piled_at_c, client_as):
    response = client_as("manager").get(reverse("reports:funnel-export"), {"file_format": "csv"})

    text = response.content.decode()
    assert "Few orders and few prospects: customers pile up at C." in text
    assert "C holds 72 % of the funnel" in text

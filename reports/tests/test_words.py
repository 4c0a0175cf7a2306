"""Words a new user reads right (issue 16: 13): quota and target explained where both
show, an empty search that says so, conversion rates with their denominator, and the
won / lost badges in the user's language."""

from decimal import Decimal

import pytest
from django.urls import reverse

from crm.tests.factories import CustomerFactory
from funnel.services import change_grade
from funnel.tests.factories import grade

pytestmark = pytest.mark.django_db


def _page(client, name, language="en", **params):
    client.cookies["django_language"] = language
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("name", ["reports:funnel", "reports:quota"])
def test_quota_and_target_are_told_apart_where_both_show(client_as, name):
    page = _page(client_as("manager"), name)

    assert 'data-testid="quota-vs-target"' in page
    assert "weighted pipeline" in page and "It is a forecast, not a goal." in page
    assert "The sales amount set for the period." in page


@pytest.mark.parametrize("name", ["reports:funnel", "reports:quota", "reports:conversion"])
def test_the_report_pages_render_their_words_in_chinese(personas, client_as, name):
    CustomerFactory(owner=personas.salesperson, grade=grade("WON"), name="Signed Ltd")

    page = _page(client_as("manager"), name, language="zh-hans")

    assert 'lang="zh-hans"' in page and ">WON<" not in page


def test_the_conversion_rate_shows_what_it_divides_by(personas, client_as):
    # given six customers that left C this year: two up to B, four down to D
    salesperson = personas.salesperson
    for index in range(6):
        customer = CustomerFactory(owner=salesperson, grade=grade("C"), expected_value=Decimal(1000))
        change_grade(customer=customer, grade=grade("B" if index < 2 else "D"), by=salesperson)

    conversion = _page(client_as("salesperson"), "reports:conversion")
    funnel = _page(client_as("salesperson"), "reports:funnel")

    # then 2 of the 6 that left, not of the 6 + 2 + 4 that entered a grade
    assert "33 % <span" in conversion and "(2 of 6)" in conversion
    assert "(2 of 6)" in funnel and "divides Moved up by Left" in funnel


def test_won_and_lost_badges_are_words_of_the_users_language(personas, client_as):
    CustomerFactory(owner=personas.salesperson, grade=grade("WON"), name="Signed Ltd")
    CustomerFactory(owner=personas.salesperson, grade=grade("LOST"), name="Gone Ltd")

    english = _page(client_as("salesperson"), "crm:customer-list")
    chinese = _page(client_as("salesperson"), "crm:customer-list", language="zh-hans")

    assert ">Won</span>" in english and ">Lost</span>" in english
    assert ">成交客户</span>" in chinese and ">流失客户</span>" in chinese
    assert ">WON<" not in chinese and ">LOST<" not in chinese


def test_a_search_without_results_says_so_and_offers_to_clear_it(personas, client_as):
    CustomerFactory(owner=personas.salesperson, name="Acme Trading")

    page = _page(client_as("salesperson"), "crm:customer-list", search="zzz-nothing")

    assert "No customer matches “zzz-nothing” with these filters." in page
    assert 'data-testid="clear-filters"' in page
    assert "Add your first customer" not in page


def test_only_a_truly_empty_list_invites_the_first_customer(client_as):
    page = _page(client_as("salesperson"), "crm:customer-list", ordering="name")

    assert "No customers yet." in page and "Add your first customer" in page
    assert 'data-testid="clear-filters"' not in page


def test_the_activity_list_tells_no_match_from_nothing_logged(client_as):
    client = client_as("salesperson")

    empty = _page(client, "activities:activity-list")
    filtered = _page(client, "activities:activity-list", kind="visit")

    assert "No activities logged yet." in empty and 'data-testid="clear-filters"' not in empty
    assert "No activities match these filters." in filtered and 'data-testid="clear-filters"' in filtered

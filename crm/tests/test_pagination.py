"""Big customer lists count only as far as the page needs, and say when there are more."""

import pytest
from django.urls import reverse

from crm import pagination
from crm.tests.factories import bulk_customers
from funnel.tests.factories import grade


@pytest.fixture
def customers(personas, monkeypatch):
    """120 customers for the salesperson, with the count capped at 60 (pages of 50)."""
    monkeypatch.setattr(pagination, "COUNT_CAP", 60)
    bulk_customers(owner=personas.salesperson, count=120, grade=grade("D"))


def test_the_list_counts_one_page_past_the_cap_and_shows_the_total_as_a_lower_bound(customers, client_as):
    client = client_as("salesperson")

    first = client.get(reverse("crm:customer-list"))
    second = client.get(reverse("crm:customer-list"), {"page": 2})

    # Page 1 counts up to 100 (the cap, or one page past this one): there are more.
    assert (first.context["paginator"].count, first.context["paginator"].count_is_capped) == (100, True)
    assert "100+ results" in first.content.decode()
    assert "1 / 2+" in first.content.decode()
    # Page 2 counts up to 150, so it reaches the real total and the last page.
    assert (second.context["paginator"].count, second.context["paginator"].count_is_capped) == (120, False)
    assert "120 results" in second.content.decode()
    assert client.get(reverse("crm:customer-list"), {"page": 3}).context["page_obj"].object_list.count() == 20


def test_the_api_says_when_its_count_is_capped(customers, client_as):
    client = client_as("salesperson")

    first = client.get(reverse("customer-list")).json()
    last = client.get(reverse("customer-list"), {"page": 3}).json()

    assert (first["count"], first["count_is_capped"], first["next"] is not None) == (100, True, True)
    assert (last["count"], last["count_is_capped"], last["next"]) == (120, False, None)
    assert len(last["results"]) == 20


def test_a_short_list_keeps_its_exact_count(personas, client_as):
    bulk_customers(owner=personas.salesperson, count=3, grade=grade("D"))

    body = client_as("salesperson").get(reverse("customer-list")).json()

    assert (body["count"], body["count_is_capped"]) == (3, False)


def test_a_page_number_beyond_any_list_is_not_found_instead_of_a_database_error(personas, client_as):
    """Found by the API fuzz test: SQLite refused the count's LIMIT for such a page."""
    response = client_as("salesperson").get(reverse("customer-list"), {"page": 10**20})

    assert response.status_code == 404

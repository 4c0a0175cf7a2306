"""The activities API: the same rules and visibility as the pages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.models import Activity
from crm.models import Customer, KeyPersonRole
from crm.tests.factories import ContactFactory, CustomerFactory

from .factories import log_call, log_visit


@pytest.fixture
def customer(personas):
    return CustomerFactory(owner=personas.salesperson)


def _post(client, data):
    return client.post(reverse("activity-list"), data, content_type="application/json")


def test_logging_a_call_through_the_api(client_as, customer):
    contact = ContactFactory(customer=customer, role=KeyPersonRole.RECOMMENDER)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()

    response = _post(
        client_as("salesperson"),
        {
            "customer": customer.pk,
            "contact": contact.pk,
            "kind": "call",
            "purpose": "order",
            "call_stage": 3,
            "next_follow_up_on": tomorrow,
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["effective"], body["call_stage"]) == (True, 3)  # a recommender is a key person
    assert body["owner_name"] == customer.owner.display_name
    customer.refresh_from_db()
    assert customer.next_follow_up_on.isoformat() == tomorrow


def test_a_call_without_follow_up_answers_400(client_as, customer):
    response = _post(client_as("salesperson"), {"customer": customer.pk, "kind": "call", "purpose": "order"})

    assert response.status_code == 400
    assert "next_follow_up_on" in response.json()


@pytest.mark.parametrize("role", ["teammate", "other_salesperson", "other_manager"])
def test_an_invisible_customer_answers_400_and_nothing_is_written(client_as, customer, role):
    response = _post(client_as(role), {"customer": customer.pk, "kind": "visit", "purpose": "order"})

    assert response.status_code == 400
    assert "customer" in response.json()
    assert not Activity.objects.exists()
    assert Customer.objects.get(pk=customer.pk).last_activity_at is None


def test_a_contact_of_an_invisible_customer_answers_400(client_as, personas, customer):
    mine = CustomerFactory(owner=personas.teammate)
    theirs = ContactFactory(customer=customer)

    response = _post(
        client_as("teammate"),
        {"customer": mine.pk, "contact": theirs.pk, "kind": "visit", "purpose": "order"},
    )

    assert response.status_code == 400
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    "role, expected",
    [
        ("salesperson", {"salesperson"}),
        ("teammate", {"teammate"}),
        ("manager", {"salesperson", "teammate"}),
        ("other_manager", set()),
        ("admin", {"salesperson", "teammate"}),
    ],
)
def test_the_list_shows_activities_of_visible_customers(client_as, personas, customer, role, expected):
    log_call(customer)
    log_visit(CustomerFactory(owner=personas.teammate))

    rows = client_as(role).get(reverse("activity-list")).json()["results"]

    owners = {Customer.objects.get(pk=row["customer"]).owner.username for row in rows}
    assert owners == expected


def test_the_list_filters_by_channel_and_date(client_as, customer):
    log_call(customer)
    log_visit(customer, started_at=timezone.now() - timedelta(days=3))
    client = client_as("salesperson")

    calls = client.get(reverse("activity-list"), {"kind": "call"}).json()["results"]
    older = client.get(
        reverse("activity-list"), {"date_to": (timezone.localdate() - timedelta(days=1)).isoformat()}
    ).json()["results"]

    assert [row["kind"] for row in calls] == ["call"]
    assert [row["kind"] for row in older] == ["visit"]


@pytest.mark.parametrize(
    ("method", "url_name", "data"),
    [
        ("get", "activity-list", {"customer": 10**20}),
        ("post", "notification-mark-all-read", {"ids": [10**20]}),
    ],
)
def test_an_id_too_large_for_a_database_key_is_a_400_not_a_crash(client_as, personas, method, url_name, data):
    """Found by the API fuzz test: SQLite's driver raised OverflowError (a 500) on such ids."""
    client = client_as("salesperson")
    if method == "get":
        response = client.get(reverse(url_name), data)
    else:
        response = client.post(reverse(url_name), data, content_type="application/json")

    assert response.status_code == 400
    assert set(response.json()) == set(data)

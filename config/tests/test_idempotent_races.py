"""Identical writes racing on PostgreSQL, each request on its own connection (issue 17):
20 creates of one customer, 20 creates sharing a phone and 20 sends of one order with
one Idempotency-Key leave exactly one row each and never a 5xx. (SQLite serializes
writers, so these run on PostgreSQL only; CI sets DATABASE_URL to PostgreSQL.)"""

import uuid
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from config.models import IdempotentRequest
from conftest import at_once, skip_or_fail
from crm.models import Customer, Order
from crm.tests.factories import CustomerFactory
from funnel.tests.factories import grade

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PARALLEL = 20
SPELLINGS = ["021-5555 0101", "(021) 5555-0101"]  # one phone, by its digits


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://…")


def _request(url: str, user, body: dict, headers: dict | None = None):
    def send():
        client = Client(raise_request_exception=False)
        client.force_login(user)
        return client.post(url, body, content_type="application/json", headers=headers or {})

    return send


def test_twenty_creates_of_one_customer_make_one_and_refuse_the_rest_as_duplicates(personas):
    body = {"name": "Hotly Contested Ltd", "grade": grade("E").pk}
    sends = [_request(reverse("customer-list"), personas.salesperson, body) for _ in range(PARALLEL)]

    responses = at_once(*sends)

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [400] * (PARALLEL - 1)
    for refused in (response for response in responses if response.status_code == 400):
        assert "already exists" in refused.json()["name"][0]
    assert Customer.objects.filter(name="Hotly Contested Ltd").count() == 1


def test_twenty_creates_under_other_names_with_one_phone_make_one_customer(personas):
    sends = [
        _request(
            reverse("customer-list"),
            personas.salesperson,
            {"name": f"Harbor Point {n}", "grade": grade("E").pk, "phone": SPELLINGS[n % 2]},
        )
        for n in range(PARALLEL)
    ]

    responses = at_once(*sends)

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [400] * (PARALLEL - 1)
    for refused in (response for response in responses if response.status_code == 400):
        assert "already exists" in refused.json()["phone"][0]
    assert Customer.objects.filter(phone_digits="02155550101").count() == 1


def test_twenty_sends_of_one_order_with_one_key_make_one_order_and_answer_it_or_wait(personas):
    customer = CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics", grade=grade("B"))
    body = {"customer": customer.pk, "amount": "120000.00", "signed_on": date(2026, 3, 2).isoformat()}
    key = str(uuid.uuid4())
    sends = [
        _request(reverse("order-list"), personas.salesperson, body, {"Idempotency-Key": key})
        for _ in range(PARALLEL)
    ]

    responses = at_once(*sends)

    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {201, 409}, statuses
    created = [response for response in responses if response.status_code == 201]
    first = [response for response in created if response.get("Idempotent-Replayed") is None]
    assert len(first) == 1
    assert {response.json()["id"] for response in created} == {first[0].json()["id"]}
    assert all(response["Retry-After"] == "1" for response in responses if response.status_code == 409)
    assert Order.objects.count() == 1

    # A late resend gets the first answer; the key with another body is refused.
    again = _request(reverse("order-list"), personas.salesperson, body, {"Idempotency-Key": key})()
    other = _request(
        reverse("order-list"), personas.salesperson, {**body, "amount": "1.00"}, {"Idempotency-Key": key}
    )()
    assert (again.status_code, again["Idempotent-Replayed"], again.json()["id"]) == (
        201,
        "true",
        first[0].json()["id"],
    )
    assert other.status_code == 422
    assert Order.objects.count() == 1
    assert IdempotentRequest.objects.get().status_code == 201

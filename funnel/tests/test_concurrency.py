"""Real concurrency on PostgreSQL, several connections at once: managers reassigning the
same customer leave one owner and one history row, the others get a 409 through the
API; two people claiming the same pool customer leave one winner. (SQLite serializes
writers, so these run on PostgreSQL only; CI sets DATABASE_URL to PostgreSQL.)"""

import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from conftest import at_once, race, skip_or_fail
from crm.models import Customer
from crm.tests.factories import UserFactory
from funnel.models import Reassignment, ReassignmentKind
from funnel.services import ReassignConflict, claim_customer, reassign_customer, reassignment
from funnel.tests.builders import customer_at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://…")


@pytest.fixture
def slow_winner(monkeypatch):
    """Hold the winner's transaction open a moment, so the others really wait on the row lock."""
    original = reassignment._set_owner

    def slow_set_owner(*args, **kwargs):
        original(*args, **kwargs)
        time.sleep(0.5)

    monkeypatch.setattr(reassignment, "_set_owner", slow_set_owner)


def test_two_managers_reassigning_the_same_customer_at_once_leave_one_result(personas, slow_winner):
    customer = customer_at("D", personas.salesperson, name="Contested Ltd")
    # Both managers loaded the customer page before either submitted.
    seen_by_manager = Customer.objects.get(pk=customer.pk)
    seen_by_admin = Customer.objects.get(pk=customer.pk)

    outcomes = race(
        lambda: reassign_customer(
            customer=seen_by_manager,
            new_owner=personas.teammate,
            by=personas.manager,
            reason="Manager's split",
        ),
        lambda: reassign_customer(
            customer=seen_by_admin,
            new_owner=personas.sub_salesperson,
            by=personas.admin,
            reason="Admin's split",
        ),
        refusal=ReassignConflict,
    )

    assert outcomes == ["refused", "won"]
    record = Reassignment.objects.get(customer=customer)
    customer.refresh_from_db()
    assert customer.owner == record.to_owner
    assert customer.history.filter(owner_id=record.to_owner_id).count() == 1


def test_two_people_claiming_the_same_pool_customer_leave_one_winner(personas):
    pooled = customer_at("E", None, by=personas.admin, name="Free Prospect")

    outcomes = race(
        lambda: claim_customer(customer=pooled, by=personas.salesperson),
        lambda: claim_customer(customer=pooled, by=personas.other_salesperson),
        refusal=ReassignConflict,
    )

    assert outcomes == ["refused", "won"]
    claim = Reassignment.objects.get(customer=pooled, kind=ReassignmentKind.CLAIM)
    pooled.refresh_from_db()
    assert pooled.owner == claim.to_owner


def test_twenty_reassignments_through_the_api_at_once_leave_one_move_and_nineteen_409s(personas, slow_winner):
    customer = customer_at("D", personas.salesperson, name="Much Wanted Ltd")
    new_owners = [UserFactory(username=f"rep{index}", team=personas.salesperson.team) for index in range(20)]
    url = reverse("customer-reassign", args=[customer.pk])

    def reassign_to(owner):
        # Every admin saw the same owner and picks someone different.
        client = Client()
        client.force_login(personas.admin)
        return lambda: client.post(
            url,
            {
                "owner": owner.pk,
                "reason": f"Give it to {owner.username}",
                "expected_owner": personas.salesperson.pk,
            },
            content_type="application/json",
        )

    responses = at_once(*[reassign_to(owner) for owner in new_owners])

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [409] * 19
    winner = next(response.json() for response in responses if response.status_code == 200)
    for refused in (response for response in responses if response.status_code == 409):
        assert "was moved by someone else meanwhile" in refused.json()["detail"]
    record = Reassignment.objects.get(customer=customer)
    customer.refresh_from_db()
    assert (record.pk, record.from_owner, customer.owner_id) == (
        winner["id"],
        personas.salesperson,
        record.to_owner_id,
    )
    owners = list(customer.history.order_by("history_date").values_list("owner_id", flat=True))
    assert owners == [personas.salesperson.pk, record.to_owner_id]

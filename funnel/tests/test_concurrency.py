"""Real concurrency on PostgreSQL, two connections at once: two managers reassigning the
same customer leave one owner and one history row; two people claiming the same pool
customer leave one winner. (SQLite serializes writers, so these run on PostgreSQL only;
CI sets DATABASE_URL to PostgreSQL.)"""

import threading
import time

import pytest
from django.db import connection

from conftest import skip_or_fail
from crm.models import Customer
from funnel import services
from funnel.models import Reassignment, ReassignmentKind
from funnel.services import ReassignConflict, claim_customer, reassign_customer
from funnel.tests.builders import customer_at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://…")


def _race(*attempts):
    """Run each ``attempt()`` in its own thread (its own connection), all released at once."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = [""] * len(attempts)

    def run(index, attempt):
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            attempt()
            outcomes[index] = "won"
        except ReassignConflict:
            outcomes[index] = "conflict"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, attempt)) for index, attempt in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


def test_two_managers_reassigning_the_same_customer_at_once_leave_one_result(personas, monkeypatch):
    customer = customer_at("D", personas.salesperson, name="Contested Ltd")
    # Both managers loaded the customer page before either submitted.
    seen_by_manager = Customer.objects.get(pk=customer.pk)
    seen_by_admin = Customer.objects.get(pk=customer.pk)
    # Hold the first winner's transaction open a moment, so the other really waits on the row lock.
    original = services._set_owner

    def slow_set_owner(*args, **kwargs):
        original(*args, **kwargs)
        time.sleep(0.5)

    monkeypatch.setattr(services, "_set_owner", slow_set_owner)

    outcomes = _race(
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
    )

    assert outcomes == ["conflict", "won"]
    record = Reassignment.objects.get(customer=customer)
    customer.refresh_from_db()
    assert customer.owner == record.to_owner
    assert customer.history.filter(owner_id=record.to_owner_id).count() == 1


def test_two_people_claiming_the_same_pool_customer_leave_one_winner(personas):
    pooled = customer_at("E", None, by=personas.admin, name="Free Prospect")

    outcomes = _race(
        lambda: claim_customer(customer=pooled, by=personas.salesperson),
        lambda: claim_customer(customer=pooled, by=personas.other_salesperson),
    )

    assert outcomes == ["conflict", "won"]
    claim = Reassignment.objects.get(customer=pooled, kind=ReassignmentKind.CLAIM)
    pooled.refresh_from_db()
    assert pooled.owner == claim.to_owner

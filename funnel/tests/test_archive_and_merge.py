"""What the funnel does when a customer is archived or merged away: open handover tasks
are cancelled (nobody hands over a customer that is gone), the duplicate's alerts, tasks
and warnings stay with it, and open conflict claims close or follow the kept customer."""

from datetime import date, datetime

import pytest
import time_machine
from django.utils import timezone

from core.models import Grade
from crm import services as crm_services
from funnel.models import ConflictStatus, HandoverStatus, HandoverTask, StagnationAlert
from funnel.services import raise_conflict, reassign_customer, scan_stagnation
from funnel.tests.builders import customer_at

NOW = timezone.make_aware(datetime(2025, 6, 11, 9, 0))


@pytest.fixture
def handed_over(personas):
    """A customer the manager just gave the teammate: open handover tasks for them."""
    customer = customer_at("C", personas.salesperson, name="Harbour Logistics")
    reassign_customer(customer=customer, new_owner=personas.teammate, by=personas.manager, reason="Territory")
    assert HandoverTask.objects.filter(customer=customer, status=HandoverStatus.OPEN).exists()
    return customer


def test_archiving_cancels_open_handover_tasks_and_closes_conflict_claims(personas, handed_over):
    claim = raise_conflict(
        by=personas.salesperson,
        name="Harbour Logistics",
        first_contact_on=date(2025, 1, 6),
        evidence="Visited their depot in January",
    )

    crm_services.archive_customer(customer=handed_over, by=personas.manager, reason="Closed down")

    assert set(HandoverTask.objects.filter(customer=handed_over).values_list("status", flat=True)) == {
        HandoverStatus.CANCELLED
    }
    claim.refresh_from_db()
    assert (claim.status, claim.settled_by, claim.settlement_note) == (
        ConflictStatus.CLOSED,
        personas.manager,
        "The customer was archived.",
    )


def test_a_merged_duplicate_keeps_its_tasks_cancelled_and_its_claim_moves_to_the_kept_customer(
    personas, handed_over
):
    kept = customer_at("D", personas.sub_salesperson, name="Harbor Logistics Group")
    claim = raise_conflict(
        by=personas.salesperson,
        name="Harbour Logistics",
        first_contact_on=date(2025, 1, 6),
        evidence="Visited their depot in January",
    )

    crm_services.merge_customers(keep=kept, merge=handed_over, by=personas.manager)

    tasks = HandoverTask.objects.filter(reassignment__customer=handed_over)
    assert tasks.exists()
    assert set(tasks.values_list("customer", "status")) == {(handed_over.pk, HandoverStatus.CANCELLED)}
    assert not HandoverTask.objects.filter(customer=kept).exists()
    claim.refresh_from_db()
    assert (claim.customer, claim.holder, claim.status) == (
        kept,
        personas.sub_salesperson,
        ConflictStatus.OPEN,
    )


def test_two_customers_alerted_for_stays_that_began_at_the_same_moment_merge(personas):
    """Imported together, both stuck since the same moment: one alert each, and the merge
    leaves each alert with its own customer instead of colliding on the kept one."""
    Grade.objects.filter(code="D").update(stagnation_days=14)
    first = customer_at("D", personas.salesperson, days_ago=20, now=NOW, name="Pacific Paper")
    second = customer_at("D", personas.salesperson, days_ago=20, now=NOW, name="Pacific Paper Mills")
    with time_machine.travel(NOW, tick=False):
        assert scan_stagnation(on=NOW.date()).raised == 2

    crm_services.merge_customers(keep=first, merge=second, by=personas.manager)

    assert sorted(StagnationAlert.objects.values_list("customer", flat=True)) == sorted([first.pk, second.pk])

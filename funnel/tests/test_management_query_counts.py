"""Every funnel-management list (pages and API) runs the same number of SQL queries at two
data sizes: the rows come from one paginated, joined query (plus one count), never one
query per row. Each test asks at a small size, grows the data, and asks again."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import Customer
from crm.tests.factories import bulk_customers
from funnel.models import (
    ConflictClaim,
    FunnelSettings,
    HandoverTask,
    Reassignment,
    ReassignmentKind,
    StagnationAlert,
)
from funnel.tests.builders import ensure_default_handover_steps
from funnel.tests.factories import grade

SIZES = (3, 40)
# Session, user, (team tree), page rows, count, session save …: whatever a page needs once.
CEILING = 20


@pytest.fixture
def world(personas):
    """``world.grow(n)`` gives the salesperson ``n`` more customers at D with an alert, a
    handover task and a conflict each, and the pool ``n`` more customers."""
    ensure_default_handover_steps()
    FunnelSettings.load()  # the settings row exists in production; creating it is no page's cost
    state = {"start": 0}
    now = timezone.now()

    def grow(count: int) -> None:
        start = state["start"]
        state["start"] += count
        mine = bulk_customers(
            owner=personas.salesperson, count=count, start=start, grade=grade("D"), prefix="Mine"
        )
        pool = bulk_customers(owner=None, count=count, start=start, grade=grade("E"), prefix="Pool")
        Reassignment.objects.bulk_create(
            [
                Reassignment(
                    customer=c,
                    from_owner=personas.teammate,
                    to_owner=None,
                    kind=ReassignmentKind.RELEASE,
                    reason="No budget",
                    at=now,
                )
                for c in pool
            ]
        )
        records = Reassignment.objects.bulk_create(
            [
                Reassignment(
                    customer=c,
                    from_owner=personas.teammate,
                    to_owner=personas.salesperson,
                    by=personas.manager,
                    grade=c.grade,
                    reason="Split",
                    at=now,
                )
                for c in mine
            ]
        )
        HandoverTask.objects.bulk_create(
            [
                HandoverTask(
                    reassignment=r,
                    customer_id=r.customer_id,
                    owner=personas.salesperson,
                    kind="visit",
                    description="Visit",
                    due_on=date(2025, 1, 1) + timedelta(days=i),
                )
                for i, r in enumerate(records)
            ]
        )
        StagnationAlert.objects.bulk_create(
            [
                StagnationAlert(
                    customer=c,
                    grade=c.grade,
                    owner=personas.salesperson,
                    grade_entered_at=c.grade_entered_at,
                    stagnant_from=now,
                    raised_on=now.date(),
                )
                for c in mine
            ]
        )
        ConflictClaim.objects.bulk_create(
            [
                ConflictClaim(
                    customer=c,
                    claimant=personas.teammate,
                    holder=personas.salesperson,
                    claimed_as=c.name,
                    first_contact_on=date(2025, 1, 1),
                    evidence="Fair",
                )
                for c in mine
            ]
        )

    return grow


def _queries(client, url, params=None, method="get") -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, params or {})
    assert response.status_code == 200, (url, response.status_code)
    return len(captured), response


def _assert_constant(world, client, url, params=None, ceiling=CEILING):
    client.get(reverse("home"))  # a fresh session records its start once; not the page's cost
    counts = []
    for size in SIZES:
        world(size if not counts else size - SIZES[0])
        count, _response = _queries(client, url, params)
        counts.append(count)
    assert counts[0] == counts[1], f"{url}: {counts}"
    assert counts[0] <= ceiling, f"{url}: {counts[0]} queries"


@pytest.mark.parametrize(
    ("role", "name"),
    [
        ("manager", "funnel:alert-list"),
        ("salesperson", "funnel:pool-list"),
        ("manager", "funnel:handover-tasks"),
        ("manager", "funnel:handover-progress"),
        ("teammate", "funnel:conflict-list"),
        ("manager", "funnel:balance"),
        ("manager", "funnel:bulk-reassign"),
        ("manager", "funnel:departure-list"),
        ("manager", "alert-list"),
        ("salesperson", "handovertask-list"),
        ("teammate", "pool-list"),
        ("manager", "conflict-list"),
        ("manager", "report-balance"),
    ],
)
def test_the_list_runs_the_same_queries_at_two_sizes(world, client_as, role, name):
    _assert_constant(world, client_as(role), reverse(name))


def test_the_departure_wizard_proposal_runs_the_same_queries_at_two_sizes(world, personas, client_as):
    _assert_constant(
        world,
        client_as("manager"),
        reverse("funnel:departure-wizard", args=[personas.salesperson.pk]),
        {"teammates": [personas.teammate.pk, personas.sub_salesperson.pk], "other_teams": "1"},
    )


def test_the_customer_page_with_the_owner_panel_stays_constant(world, personas, client_as):
    customer = Customer.objects.create(name="Panel Ltd", owner=personas.salesperson, grade=grade("D"))
    # The whole customer page (every app's panels); the owner panel adds three: alert, tasks, owners.
    _assert_constant(
        world, client_as("manager"), reverse("crm:customer-detail", args=[customer.pk]), ceiling=35
    )

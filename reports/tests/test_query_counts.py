"""The funnel dashboard (page, export and API) runs the same number of SQL queries with
10 and with 10,000 customers: grouped aggregates, never a query per row."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import CrmSettings, Customer
from funnel.models import FunnelSettings, GradeChange
from funnel.tests.factories import grade

pytestmark = pytest.mark.django_db

CODES = ["E", "D", "C", "B", "A"]
# (page, /api/reports/funnel/, /api/reports/diagnosis/) per role.
EXPECTED = {"salesperson": (12, 10, 10), "manager": (15, 13, 13), "admin": (14, 12, 12)}


@pytest.fixture
def grow(personas):
    """``grow(total)`` brings the East team to ``total`` customers across grades and
    people (with a grade change each), plus as many for the West team."""
    CrmSettings.load()
    FunnelSettings.load()  # the concentration guard's settings row, as in production
    grades = [grade(code) for code in CODES]
    state = {"count": 0}
    east = [personas.salesperson, personas.teammate, personas.sub_salesperson]

    def grow_to(total: int) -> None:
        now = timezone.now()
        customers = []
        for n in range(state["count"], total):
            for side, owners in (("east", east), ("west", [personas.other_salesperson])):
                level = grades[n % 5]
                customers.append(
                    Customer(
                        name=f"{side} {n}",
                        name_normalized=f"{side}n{n}",
                        owner=owners[n % len(owners)],
                        grade=level,
                        grade_entered_at=now,
                        created_at=now,
                        expected_value=Decimal(1000 + n),
                        stagnant_from=now if n % 7 == 0 else None,
                    )
                )
        created = Customer.objects.bulk_create(customers, batch_size=2000)
        GradeChange.objects.bulk_create(
            [
                GradeChange(
                    customer=c,
                    from_grade=grades[0],
                    to_grade=c.grade,
                    changed_at=now,
                    owner=c.owner,
                    days_in_previous=3,
                )
                for c in created
                if c.grade_id != grades[0].pk
            ],
            batch_size=2000,
        )
        state["count"] = total

    return grow_to


def _count(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content[:300]
    return len(queries)


@pytest.mark.slow
@pytest.mark.parametrize(("role", "big"), [("manager", 10_000), ("salesperson", 1_000), ("admin", 1_000)])
def test_funnel_dashboard_queries_do_not_grow_with_customers(grow, client_as, role, big):
    client = client_as(role)
    client.get(reverse("home"))  # a fresh session records its start once; not the page's cost
    counts = {}
    for total in (10, big):
        grow(total)
        counts[total] = (
            _count(client, reverse("reports:funnel")),
            _count(client, reverse("report-funnel")),
            _count(client, reverse("report-diagnosis")),
        )
    assert counts[10] == counts[big], counts
    # Page: session, user, [managers: team tree], grades, the live totals per owner and
    # grade (the customer tally), stuck and new customers, [managers, admins: people of
    # the scope and the concentration guard's settings], stuck list, orders for month /
    # quarter / year, targets, grade flows (rollup rows, the live rest: conversion rates
    # and this week's movement),
    # [salesperson: the export setting], the picker's teams [managers, admins; its people
    # are those of the scope], and the unread bell. The API: the same minus the page's
    # own extras.
    assert counts[10] == EXPECTED[role], counts


def test_manager_export_queries_do_not_grow(grow, client_as):
    client = client_as("manager")
    client.get(reverse("home"))
    counts = []
    for total in (10, 2_000):
        grow(total)
        counts.append(_count(client, reverse("reports:funnel-export")))
    assert counts[0] == counts[1]

"""Grade flows: conversion rates, this week's movement and the backward plan's weekly
additions read rollup rows for whole past weeks and the history for the rest, and give
exactly the numbers of the raw history whether or not (or how far) the rollup has run."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.models import Grade
from crm.models import Customer
from funnel.clock import start_of_day
from funnel.models import GradeChange
from funnel.tests.factories import grade
from reports import selectors
from reports.models import GradeFlowRollup
from reports.periods import PeriodKind, last_complete_week, period_for, today, week_start
from reports.selectors import conversion
from reports.services import compute_weekly_rollups

pytestmark = pytest.mark.django_db

PATHS = [  # grade codes a customer went through, one move every few days
    ["E", "D", "C", "B", "A", "WON"],
    ["E", "D", "LOST"],
    ["D", "C", "D"],
    ["C", "B", "A", "B"],
    ["E", "D", "C"],
    ["B", "A", "WON"],
    ["E"],
]


@pytest.fixture
def history(personas):
    """Customers of three salespeople (two teams), created over the last nine weeks —
    some this week — each moving along one of ``PATHS``, the last move at most today."""
    grades = {code: grade(code) for code in ("E", "D", "C", "B", "A", "WON", "LOST")}
    owners = [personas.salesperson, personas.sub_salesperson, personas.other_salesperson]
    now = timezone.now()
    changes = []
    for n in range(60):
        path = PATHS[n % len(PATHS)]
        created = now - timedelta(hours=26 * (60 - n))
        owner = owners[n % len(owners)]
        customer = Customer.objects.create(
            name=f"Flow {n}",
            name_normalized=f"flow{n}",
            owner=owner,
            grade=grades[path[-1]],
            expected_value=Decimal(10_000),
        )
        Customer.objects.filter(pk=customer.pk).update(created_at=created)
        for step, (src, dst) in enumerate(zip(path, path[1:], strict=False)):
            when = min(created + timedelta(days=3 * (step + 1), hours=step), now - timedelta(minutes=1))
            changes.append(
                GradeChange(
                    customer=customer,
                    from_grade=grades[src],
                    to_grade=grades[dst],
                    changed_at=when,
                    owner=owner,
                    days_in_previous=3,
                )
            )
    GradeChange.objects.bulk_create(changes)
    return personas


def _scopes(personas):
    return [
        selectors.resolve_scope(personas.admin),
        selectors.resolve_scope(personas.manager),
        selectors.resolve_scope(personas.salesperson),
        selectors.resolve_scope(personas.admin, team=personas.other_salesperson.team_id),
    ]


def _numbers(scope):
    """Everything that comes from grade flows, for one scope."""
    grades = list(Grade.objects.order_by("order"))
    start, end = selectors.trailing_window()
    dashboard = selectors.funnel_dashboard(scope)
    quarter = period_for(PeriodKind.QUARTER, today())
    plan = selectors.backward_plan_report(scope, quarter, 10)
    return {
        "flows": selectors.grade_flows(scope, start, end, by_week=True),
        "rates": selectors.conversion_rates(scope, start, end, grades),
        "dashboard": (dashboard.rates, dashboard.movement),
        "weekly": [(entry.week.week_start, entry.week.added, entry.week.steps) for entry in plan.weekly],
        "conversion": selectors.conversion_report(scope, period_for(PeriodKind.YEAR, today())).stages,
    }


def test_rollup_rows_give_the_numbers_of_the_raw_history(history):
    raw = {scope: _numbers(scope) for scope in _scopes(history)}
    assert any(n for n in raw[_scopes(history)[0]]["flows"].values())
    call_command("backfill_rollups", weeks=12)
    assert GradeFlowRollup.objects.values("week_start").distinct().count() >= 9
    for scope, numbers in raw.items():
        assert _numbers(scope) == numbers, scope


def test_weeks_not_rolled_up_yet_are_read_from_the_history(history):
    """The rollup lags (last week and one in the middle missing): still exact."""
    raw = _numbers(selectors.resolve_scope(history.admin))
    last = last_complete_week(today())
    for weeks_back in (2, 3, 5, 6):
        compute_weekly_rollups(week=last - timedelta(weeks=weeks_back))
    assert not GradeFlowRollup.objects.filter(week_start=last).exists()
    assert _numbers(selectors.resolve_scope(history.admin)) == raw


def test_rollup_rates_match_rates_counted_from_the_history(history):
    """Against a direct count of the moves out of each grade, not the code under test."""
    call_command("backfill_rollups", weeks=12)
    scope = selectors.resolve_scope(history.admin)
    start, end = selectors.trailing_window()
    rates = {
        rate.grade.code: rate
        for rate in selectors.conversion_rates(scope, start, end, list(Grade.objects.all()))
    }
    moves = GradeChange.objects.filter(changed_at__gte=start, changed_at__lt=end)
    up, _down = selectors.movement_q()
    for code in ("E", "D", "C", "B", "A"):
        left = moves.filter(from_grade__code=code)
        assert (rates[code].exits, rates[code].advanced) == (left.count(), left.filter(up).count())
    # entered C: moved there, or created there (the customers whose path starts at C)
    assert (
        rates["C"].entered
        == moves.filter(to_grade__code="C").count()
        + Customer.objects.filter(
            name__in=[f"Flow {n}" for n in range(60) if PATHS[n % len(PATHS)][0] == "C"]
        ).count()
    )


def _flow_rows():
    return list(
        GradeFlowRollup.objects.order_by("week_start", "owner", "from_grade", "to_grade").values_list(
            "week_start", "owner", "from_grade", "to_grade", "customers"
        )
    )


def test_the_weekly_rollup_writes_flows_once_a_week_has_ended_and_is_idempotent(history):
    last = last_complete_week(today())
    compute_weekly_rollups(week=last)
    rows = _flow_rows()
    assert rows
    compute_weekly_rollups(week=last + timedelta(days=4))
    assert _flow_rows() == rows
    assert {row[0] for row in rows} == {last}
    # The current week can still change: it is never stored, however often it is computed.
    compute_weekly_rollups(week=today())
    assert not GradeFlowRollup.objects.filter(week_start=week_start(today())).exists()
    # New customers per (owner, initial grade): one row per path start of the week.
    start = start_of_day(last)
    created = Customer.objects.filter(created_at__gte=start, created_at__lt=start + timedelta(days=7))
    assert sum(row[4] for row in rows if row[2] is None) == created.count() > 0


def test_this_weeks_movement(personas):
    seller = personas.salesperson
    grades = {code: grade(code) for code in ("E", "D", "C", "WON", "LOST")}
    this_monday = start_of_day(week_start(today()))
    customers = Customer.objects.bulk_create(
        [
            Customer(name=f"M{n}", name_normalized=f"m{n}", owner=seller, grade=grades[code])
            for n, code in enumerate(["D", "E", "WON", "LOST", "C"])
        ]
    )
    Customer.objects.filter(name="M4").update(created_at=this_monday - timedelta(days=3))
    moves = [("E", "D"), ("D", "E"), ("C", "WON"), ("D", "LOST"), ("E", "C")]
    GradeChange.objects.bulk_create(
        [
            GradeChange(customer=c, from_grade=grades[src], to_grade=grades[dst], owner=seller)
            for c, (src, dst) in zip(customers, moves, strict=True)
        ]
        # last week's move: not this week's
        + [
            GradeChange(
                customer=customers[4],
                from_grade=grades["D"],
                to_grade=grades["E"],
                owner=seller,
                changed_at=this_monday - timedelta(days=2),
            )
        ]
    )
    movement = selectors.funnel_dashboard(selectors.resolve_scope(seller)).movement
    assert vars(movement) == {"new": 4, "up": 2, "down": 1, "won": 1, "lost": 1}


def test_the_created_grade_is_the_from_of_the_earliest_move(personas):
    seller = personas.salesperson
    e, d, c = grade("E"), grade("D"), grade("C")
    customer = Customer.objects.create(name="First", name_normalized="first", owner=seller, grade=c)
    at = timezone.now() - timedelta(days=2)
    GradeChange.objects.bulk_create(
        [
            GradeChange(customer=customer, from_grade=d, to_grade=c, owner=seller, changed_at=at),
            GradeChange(customer=customer, from_grade=e, to_grade=d, owner=seller, changed_at=at),
        ]
    )
    created_at = Customer.objects.annotate(created_at_grade=selectors.created_grade()).get(pk=customer.pk)
    assert created_at.created_at_grade == d.pk  # same time: the lower id is the first move


def test_days_in_grade_mean_and_median_from_a_histogram():
    # 1, 2, 2, 9 → mean 3.5, median 2; 1, 2, 9 → median 2; nothing → none
    assert conversion._mean_and_median([(9, 1), (2, 2), (1, 1)]) == (Decimal("3.5"), Decimal("2.0"))
    assert conversion._mean_and_median([(2, 1), (9, 1), (1, 1)]) == (Decimal("4.0"), Decimal("2.0"))
    assert conversion._mean_and_median([(1, 1), (4, 1)]) == (Decimal("2.5"), Decimal("2.5"))
    assert conversion._mean_and_median([]) == (None, None)


def test_a_range_inside_one_week_is_keyed_by_its_monday_without_a_date_per_row():
    monday = date(2026, 11, 23)
    week_end = start_of_day(monday + timedelta(days=7))
    inside = selectors.by_week_or_day(start_of_day(monday) + timedelta(hours=9), week_end)
    assert {part.value for part in (inside.change, inside.customer, inside.creation_move)} == {monday}
    across = selectors.by_week_or_day(start_of_day(monday), start_of_day(monday + timedelta(days=8)))
    assert across is selectors.BY_DAY

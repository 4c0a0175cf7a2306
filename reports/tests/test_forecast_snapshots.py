"""Weekly forecast snapshots (idempotent, a backfill gives the weekly runs' rows), the
week-by-week history, slips, stuck and slipping commits, and forecast accuracy."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core.models import ForecastCategory
from crm.services import merge_customers, update_customer
from crm.tests.factories import CustomerFactory, OrderFactory
from funnel.tests.factories import grade
from reports import tasks
from reports.models import ForecastSnapshot
from reports.periods import PeriodKind, period_for, today, week_start
from reports.selectors import resolve_scope
from reports.selectors.forecast import (
    accuracy,
    accuracy_periods,
    commit_alerts,
    forecast_accuracy,
    forecast_moves,
    forecast_weeks,
)

pytestmark = pytest.mark.django_db

FIELDS = (
    "week_start",
    "customer_id",
    "owner_id",
    "category",
    "expected_signing_on",
    "expected_value",
    "weighted_value",
)


def rows() -> list[tuple]:
    return list(ForecastSnapshot.objects.order_by("week_start", "customer_id").values_list(*FIELDS))


def monday_morning(monday):
    """Monday 03:00 local time, when beat's run has happened."""
    return timezone.make_aware(datetime.combine(monday, time(3)))


def test_snapshot_twice_for_the_same_week_changes_nothing(personas):
    CustomerFactory(
        owner=personas.salesperson,
        grade=grade("A"),
        expected_value=Decimal(100_000),
        expected_signing_on=today(),
    )
    with time_machine.travel(monday_morning(week_start(today()) + timedelta(days=7)), tick=False):
        assert tasks.snapshot_forecast() == 1
        first = rows()
        assert tasks.snapshot_forecast() == 1
    assert rows() == first
    assert first[0][3] == ForecastCategory.COMMIT and first[0][6] == Decimal(80_000)


def test_backfill_over_eight_weeks_gives_the_weekly_runs_rows(personas):
    """Eight weeks of a salesperson's edits with the Monday task after each week, then the
    same eight weeks backfilled from the history: the same rows."""
    salesperson = personas.salesperson
    first_monday = week_start(today()) - timedelta(weeks=9)
    with time_machine.travel(monday_morning(first_monday) - timedelta(days=3), tick=False):
        customers = [
            CustomerFactory(
                owner=salesperson,
                grade=grade(code),
                expected_value=Decimal(100_000 * (n + 1)),
                expected_signing_on=first_monday + timedelta(days=20 * n),
            )
            for n, code in enumerate(["A", "B", "C", "D"])
        ]
    for week in range(8):
        monday = first_monday + timedelta(weeks=week)
        with time_machine.travel(monday_morning(monday) + timedelta(days=2), tick=False):
            moving = customers[week % len(customers)]
            update_customer(
                customer=moving,
                by=salesperson,
                expected_signing_on=moving.expected_signing_on + timedelta(days=10),
                forecast_category=ForecastCategory.COMMIT if week % 2 else "",
            )
            moving.refresh_from_db()
        with time_machine.travel(monday_morning(monday + timedelta(weeks=1)), tick=False):
            tasks.snapshot_forecast()
    weekly = rows()
    assert len({row[0] for row in weekly}) == 8
    assert len(weekly) > 16 and len({row[3] for row in weekly}) == 3  # rows of every category
    ForecastSnapshot.objects.all().delete()
    last = first_monday + timedelta(weeks=8)
    call_command("backfill_forecast", "--weeks", "8", "--to", last.isoformat(), stdout=StringIO())
    assert rows() == weekly


def test_weeks_and_slips(personas):
    salesperson = personas.salesperson
    month = period_for(PeriodKind.MONTH, today())
    slipping = CustomerFactory(
        owner=salesperson, grade=grade("A"), expected_value=Decimal(300_000), expected_signing_on=today()
    )
    pulled = CustomerFactory(
        owner=salesperson, grade=grade("B"), expected_value=Decimal(200_000), expected_signing_on=month.end
    )
    with time_machine.travel(monday_morning(week_start(today()) + timedelta(days=7)), tick=False):
        tasks.snapshot_forecast()
    # when: the A slips into next month, the B is pulled into this one
    update_customer(customer=slipping, by=salesperson, expected_signing_on=month.end + timedelta(days=3))
    update_customer(customer=pulled, by=salesperson, expected_signing_on=today())
    # then
    scope = resolve_scope(personas.manager)
    (week,) = forecast_weeks(scope, month, day=today() + timedelta(days=7))
    assert (week.commit, week.best_case) == (Decimal(300_000), Decimal(0))
    moves = {move.customer.pk: move.direction for move in forecast_moves(scope, month)}
    assert moves == {slipping.pk: "slipped", pulled.pk: "pulled_in"}
    assert forecast_moves(resolve_scope(personas.other_manager), month) == []


def test_stuck_and_slipping_commits(personas):
    salesperson = personas.salesperson
    stuck = CustomerFactory(
        owner=salesperson,
        grade=grade("A"),
        expected_value=Decimal(100_000),
        expected_signing_on=today() - timedelta(days=3),
    )
    slipping = CustomerFactory(
        owner=salesperson, grade=grade("A"), expected_value=Decimal(100_000), expected_signing_on=today()
    )
    # Snapshots of three weeks, the signing date a month later each time.
    month = period_for(PeriodKind.MONTH, today())
    for weeks_ago, signing_on in (
        (3, month.start - timedelta(days=40)),
        (2, month.start - timedelta(days=10)),
    ):
        ForecastSnapshot.objects.create(
            week_start=week_start(today()) - timedelta(weeks=weeks_ago),
            customer=slipping,
            owner=salesperson,
            category=ForecastCategory.COMMIT,
            expected_signing_on=signing_on,
            expected_value=Decimal(100_000),
            weighted_value=Decimal(80_000),
        )
    alerts = {alert.customer.pk: alert.reason for alert in commit_alerts(resolve_scope(personas.manager))}
    assert alerts == {stuck.pk: "stuck", slipping.pk: "slipping"}
    assert commit_alerts(resolve_scope(personas.other_manager)) == []


# --- Accuracy ------------------------------------------------------------------------------------


def test_accuracy_of_pairs():
    assert accuracy([(Decimal(1_000_000), Decimal(800_000))]) == (Decimal("80.0"), "over")
    assert accuracy([(Decimal(500_000), Decimal(600_000))]) == (Decimal("80.0"), "under")
    assert accuracy([(Decimal(100), Decimal(102))]) == (Decimal("98.0"), "on_target")
    assert accuracy([(Decimal(0), Decimal(5))]) == (None, "")


def generate_periods(person, *, committed: Decimal, weighted: Decimal, signed: Decimal) -> None:
    """Each of the last four months: a snapshot every Monday of it with ``committed`` (and
    ``weighted``) signing in the month, and ``signed`` in orders of that month."""
    customer = CustomerFactory(owner=person, grade=grade("A"), expected_value=committed)
    for period in accuracy_periods(today()):
        for monday in period.weeks():
            if monday >= period.start:
                ForecastSnapshot.objects.create(
                    week_start=monday,
                    customer=customer,
                    owner=person,
                    category=ForecastCategory.COMMIT,
                    expected_signing_on=period.end - timedelta(days=1),
                    expected_value=committed,
                    weighted_value=weighted,
                )
        OrderFactory(customer=customer, amount=signed, signed_on=period.start + timedelta(days=5))


def test_accuracy_over_generated_periods(personas):
    generate_periods(
        personas.salesperson, committed=Decimal(1_000_000), weighted=Decimal(800_000), signed=Decimal(800_000)
    )
    generate_periods(
        personas.teammate, committed=Decimal(500_000), weighted=Decimal(400_000), signed=Decimal(600_000)
    )
    rows_by_person = {row.person.pk: row for row in forecast_accuracy(resolve_scope(personas.manager))}
    mine = rows_by_person[personas.salesperson.pk]
    assert (mine.commit_accuracy, mine.commit_bias, str(mine.commit_bias_label)) == (
        Decimal("80.0"),
        "over",
        "over-forecast",
    )
    assert (mine.weighted_accuracy, mine.weighted_bias) == (Decimal("100.0"), "on_target")
    assert mine.snapshots >= 16  # four months of Mondays
    teammate = rows_by_person[personas.teammate.pk]
    assert (teammate.commit_accuracy, teammate.commit_bias) == (Decimal("80.0"), "under")
    assert (teammate.weighted_accuracy, teammate.weighted_bias) == (Decimal("50.0"), "under")
    # A salesperson sees their own row only.
    assert [row.person.pk for row in forecast_accuracy(resolve_scope(personas.salesperson))] == [
        personas.salesperson.pk
    ]


def test_accuracy_page_and_api(personas, client_as):
    generate_periods(
        personas.salesperson, committed=Decimal(1_000_000), weighted=Decimal(800_000), signed=Decimal(800_000)
    )
    page = client_as("manager").get("/reports/forecast/accuracy/")
    assert page.status_code == 200
    assert "over-forecast" in page.content.decode()
    answer = client_as("manager").get("/api/reports/forecast-accuracy/").json()
    mine = next(row for row in answer["people"] if row["id"] == personas.salesperson.pk)
    assert (mine["commit_accuracy"], mine["commit_bias"]) == (80.0, "over")


def test_stuck_commits_show_in_the_alerts_and_the_weekly_report(personas, client_as):
    stuck = CustomerFactory(
        owner=personas.salesperson,
        grade=grade("A"),
        expected_value=Decimal(100_000),
        expected_signing_on=today() - timedelta(days=10),
    )
    alerts_page = client_as("manager").get(reverse("funnel:alert-list")).content.decode()
    assert 'data-testid="commit-alerts-panel"' in alerts_page and stuck.name in alerts_page
    assert (
        'data-testid="commit-alerts-panel"'
        not in client_as("other_manager").get(reverse("funnel:alert-list")).content.decode()
    )
    assert (
        'data-testid="commit-alerts-panel"'
        not in client_as("salesperson").get(reverse("funnel:alert-list")).content.decode()
    )
    weekly = client_as("manager").get(reverse("reports:weekly"), {"team": personas.salesperson.team.pk})
    assert [alert.customer.pk for alert in weekly.context["report"].commit_alerts] == [stuck.pk]
    answer = client_as("manager").get("/api/reports/weekly/", {"team": personas.salesperson.team.pk}).json()
    assert answer["commit_alerts"] == [{"customer": stuck.pk, "reason": "stuck", "moves": 0}]


def test_merging_two_snapshotted_customers_keeps_each_ones_rows(personas):
    keep, merge = (
        CustomerFactory(
            owner=personas.salesperson,
            grade=grade("A"),
            expected_value=Decimal(100_000),
            expected_signing_on=today(),
        )
        for _ in range(2)
    )
    with time_machine.travel(monday_morning(week_start(today()) + timedelta(days=7)), tick=False):
        assert tasks.snapshot_forecast() == 2
    merge_customers(keep=keep, merge=merge, by=personas.manager)
    assert sorted(ForecastSnapshot.objects.values_list("customer_id", flat=True)) == sorted(
        [keep.pk, merge.pk]
    )

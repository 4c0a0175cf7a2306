"""The weekly rollup: its numbers, idempotency, reconstruction of past weeks, backfill."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from crm.models import Customer
from crm.tests.factories import CustomerFactory
from funnel.services import change_grade
from funnel.tests.builders import funnel_settings
from funnel.tests.factories import grade
from reports.models import WeeklyRollup
from reports.periods import last_complete_week, today, week_start
from reports.services import compute_weekly_rollups
from reports.tasks import compute_weekly_rollup

pytestmark = pytest.mark.django_db


def _rows():
    return list(WeeklyRollup.objects.order_by("salesperson_id", "week_start").values())


def test_a_week_rolls_up_each_salespersons_numbers(personas, this_week):
    compute_weekly_rollups(week=this_week)
    row = WeeklyRollup.objects.get(salesperson=personas.salesperson, week_start=this_week)
    assert (row.new_customers, row.upgrades, row.won_customers, row.orders) == (2, 2, 1, 1)
    assert (row.order_amount, row.gross_profit, row.collections) == (
        Decimal(100_000),
        Decimal(30_000),
        Decimal(40_000),
    )
    assert (row.calls, row.visits, row.effective_visits) == (3, 2, 1)
    assert (row.effective_visit_rate, row.transaction_rate) == (Decimal("50.0"), Decimal("50.0"))
    assert (row.activity_minutes, row.expense) == (120, Decimal(50))
    # quota at week end: the D customer, ¥1,000,000 × 20 %; the won one no longer counts
    assert row.quota == Decimal(200_000)
    assert row.grade_counts == {"D": 1} and row.open_customers == 1
    assert row.team_id == personas.salesperson.team_id
    other = WeeklyRollup.objects.get(salesperson=personas.other_salesperson, week_start=this_week)
    assert other.quota == Decimal(40_000) and other.calls == 0


def test_running_a_week_twice_leaves_identical_rows(personas, this_week):
    compute_weekly_rollups(week=this_week)
    first = _rows()
    compute_weekly_rollups(week=this_week + timedelta(days=3))  # any day of the week: same week
    assert _rows() == first
    assert WeeklyRollup.objects.count() == 2


def test_a_past_week_uses_the_grade_each_customer_had_then(personas):
    funnel_settings(grade_skip_rule=False)  # builds its case with grade skips
    salesperson = personas.salesperson
    month_ago = timezone.now() - timedelta(days=30)
    customer = CustomerFactory(owner=salesperson, grade=grade("E"), expected_value=Decimal(1_000_000))
    Customer.objects.filter(pk=customer.pk).update(created_at=month_ago, grade_entered_at=month_ago)
    # Moved three days ago (grade history is append-only: it is written in the past, not backdated).
    with time_machine.travel(timezone.now() - timedelta(days=3), tick=False):
        change_grade(customer=customer, grade=grade("C"), by=salesperson)
    two_weeks_ago = week_start(today() - timedelta(days=14))
    compute_weekly_rollups(week=two_weeks_ago)
    compute_weekly_rollups(week=today())
    then = WeeklyRollup.objects.get(salesperson=salesperson, week_start=two_weeks_ago)
    now = WeeklyRollup.objects.get(salesperson=salesperson, week_start=week_start(today()))
    assert (then.grade_counts, then.quota) == ({"E": 1}, Decimal(100_000))
    assert (now.grade_counts, now.quota) == ({"C": 1}, Decimal(400_000))


def test_backfill_26_weeks_and_again(personas):
    customer = CustomerFactory(owner=personas.salesperson, grade=grade("B"), expected_value=Decimal(10_000))
    Customer.objects.filter(pk=customer.pk).update(created_at=timezone.now() - timedelta(days=400))
    call_command("backfill_rollups", weeks=26)
    weeks = sorted(WeeklyRollup.objects.values_list("week_start", flat=True))
    assert len(weeks) == 26
    assert weeks[-1] == last_complete_week(today())
    assert weeks[0] == last_complete_week(today()) - timedelta(weeks=25)
    first = _rows()
    call_command("backfill_rollups", "--from", weeks[0].isoformat(), "--to", weeks[-1].isoformat())
    assert _rows() == first


def test_the_beat_task_takes_the_last_complete_week(personas):
    customer = CustomerFactory(owner=personas.salesperson, grade=grade("B"), expected_value=Decimal(10_000))
    Customer.objects.filter(pk=customer.pk).update(created_at=timezone.now() - timedelta(days=30))
    assert compute_weekly_rollup() == 1
    assert compute_weekly_rollup(week=today().isoformat()) == 1
    assert set(WeeklyRollup.objects.values_list("week_start", flat=True)) == {
        last_complete_week(today()),
        week_start(today()),
    }


def test_the_rollup_is_scheduled_on_monday_mornings_with_an_expiry(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["reports-weekly-rollup"]
    assert entry["task"] == "reports.tasks.compute_weekly_rollup"
    assert entry["schedule"].day_of_week == {1} and entry["options"]["expires"] > 0

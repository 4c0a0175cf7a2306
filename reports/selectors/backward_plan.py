"""The backward plan: from a target number of orders back to the customers each grade
needs, and week by week how the period went against it."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Avg, Count
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.models import Grade
from crm.models import Order
from funnel.clock import start_of_day

from .. import planning
from ..columns import Column, Kind
from ..models import WeeklyRollup
from ..periods import Period, today, week_start
from .conversion import MIN_RATE_SAMPLE, RATE_WINDOW_DAYS, conversion_rates
from .flows import grade_flows, move_direction
from .scope import Scope, scope_customers


@dataclass(frozen=True)
class PlanGrade:
    """One open grade's line of the plan: what it needs, has and must add each week."""

    grade: Grade
    row: planning.PlanRow

    @property
    def rate_source(self) -> str:
        return gettext("measured") if self.row.measured else gettext("assumed")


@dataclass(frozen=True)
class PlanWeek:
    """One week of the period so far, re-planned with the rates measured since its start."""

    week: planning.WeekInput
    plan: planning.WeekPlan


@dataclass(frozen=True)
class BackwardPlan:
    """The plan now, the weeks of the period so far re-planned, and the summary."""

    scope: Scope
    period: Period
    target_orders: int
    weeks_left: int
    plan: list[PlanGrade]
    weekly: list[PlanWeek]
    average_rates: list[planning.AverageRate]
    finished: bool
    orders_so_far: int


# The plan table: its page, the first rows of its export and the API's ``plan``.
BACKWARD_PLAN_COLUMNS = (
    Column("code", _("Grade"), Kind.GRADE, source="grade"),
    Column(
        "rate", _("Conversion to next (%)"), Kind.RATE, source="row.rate", heading=_("Conversion to next")
    ),
    Column("measured", "measured", Kind.FLAG, source="row.measured", page=False, export=False),
    Column("needed", _("Needed"), Kind.COUNT, source="row.needed"),
    Column("current", _("Current"), Kind.COUNT, source="row.current"),
    Column("shortfall", _("Shortfall"), Kind.COUNT, source="row.shortfall"),
    Column("weekly_additions", _("Add per week"), Kind.COUNT, source="row.weekly_additions"),
    # On the page, beside the rate.
    Column("rate_source", _("Rate measured or assumed"), page=False, api=False),
)


def average_order(scope: Scope) -> Decimal | None:
    """Mean order amount of the scope over the last year (the amount → orders divisor)."""
    since = today() - timedelta(days=365)
    value = Order.objects.filter(scope.q("owner"), signed_on__gte=since).aggregate(avg=Avg("amount"))["avg"]
    return Decimal(value).quantize(Decimal("0.01")) if value else None


def backward_plan_report(scope: Scope, period: Period, target_orders: int) -> BackwardPlan:
    """Needed vs current per grade and the weekly additions, then week by week the
    re-planned numbers with the rates measured from the period start, and the summary —
    the mean of the weeks' measured rates only. Every rate says whether it was measured or
    assumed (the ratio of the grade probabilities, until ``MIN_RATE_SAMPLE`` customers left).

    Queries: grades (1), current counts (1), grade flows for the rates now (2) and by
    week since the period start (2), orders by week (1), rollup grade counts (1) — fixed.
    Counts at each past week's start come from the weekly rollup (grade counts at the
    end of the week before); weeks without a rollup use today's counts.
    """
    grades = list(Grade.objects.order_by("order"))
    open_grades = [grade for grade in grades if grade.is_open]
    counts = dict(
        scope_customers(scope)
        .order_by()
        .values("grade_id")
        .annotate(n=Count("pk"))
        .values_list("grade_id", "n")
    )
    current = {grade.code: counts.get(grade.pk, 0) for grade in open_grades}
    now = timezone.now()
    rate_start = (
        period.start_at
        if now - period.start_at >= timedelta(days=28)
        else now - timedelta(days=RATE_WINDOW_DAYS)
    )
    rates = conversion_rates(scope, rate_start, min(now, period.end_at), grades)
    steps = [planning.Step(rate.grade.code, rate.rate, rate.is_measured) for rate in rates]
    weeks = period.weeks()
    this_week = week_start(today())
    weeks_left = max(len([w for w in weeks if w >= this_week]), 1)
    plan_rows = planning.backward_plan(
        target_orders=target_orders, steps=steps, current=current, weeks_left=weeks_left
    )
    history = _weekly_history(scope, period, grades, [w for w in weeks if w <= this_week], current)
    replanned = planning.weekly_replan(target_orders=target_orders, weeks=history, total_weeks=len(weeks))
    return BackwardPlan(
        scope=scope,
        period=period,
        target_orders=target_orders,
        weeks_left=weeks_left,
        plan=[PlanGrade(grade, row) for grade, row in zip(open_grades, plan_rows, strict=True)],
        weekly=[PlanWeek(week, plan) for week, plan in zip(history, replanned, strict=True)],
        average_rates=planning.average_rates(history),
        finished=period.end <= today(),
        orders_so_far=sum(week.orders_in_week for week in history),
    )


def _weekly_history(
    scope: Scope, period: Period, grades: list[Grade], weeks: list[date], current: dict[str, int]
) -> list[planning.WeekInput]:
    if not weeks:
        return []
    start, end = period.start_at, min(start_of_day(weeks[-1] + timedelta(days=7)), period.end_at)
    by_id = {grade.pk: grade for grade in grades}
    open_grades = [grade for grade in grades if grade.is_open]
    by_code = {grade.pk: grade.code for grade in open_grades}
    entered: dict = defaultdict(lambda: defaultdict(int))
    advanced: dict = defaultdict(lambda: defaultdict(int))
    exits: dict = defaultdict(lambda: defaultdict(int))
    for (monday, src, dst), n in grade_flows(scope, start, end, by_week=True).items():
        entered[monday][dst] += n
        if src is not None:
            exits[monday][src] += n
            if move_direction(by_id[src], by_id[dst]) == "up":
                advanced[monday][src] += n
    orders: dict = defaultdict(int)
    for day, n in (
        Order.objects.filter(scope.q("owner"), signed_on__gte=period.start, signed_on__lt=period.end)
        .order_by()
        .values("signed_on")
        .annotate(n=Count("pk"))
        .values_list("signed_on", "n")
    ):
        orders[week_start(day)] += n
    snapshots: dict = defaultdict(lambda: defaultdict(int))
    rollups = WeeklyRollup.objects.filter(
        scope.q("salesperson"), week_start__gte=weeks[0] - timedelta(days=7), week_start__lte=weeks[-1]
    )
    for monday, grade_counts in rollups.values_list("week_start", "grade_counts"):
        for code, n in (grade_counts or {}).items():
            snapshots[monday][code] += n
    history = []
    cumulative_out: dict = defaultdict(int)
    cumulative_up: dict = defaultdict(int)
    orders_before = 0
    for monday in weeks:
        for grade_id, n in exits[monday].items():
            cumulative_out[grade_id] += n
        for grade_id, n in advanced[monday].items():
            cumulative_up[grade_id] += n
        steps = []
        for index, grade in enumerate(open_grades):
            nxt = open_grades[index + 1].probability if index + 1 < len(open_grades) else Decimal(100)
            left = cumulative_out[grade.pk]
            rate = (
                Decimal(cumulative_up[grade.pk]) / left
                if left >= MIN_RATE_SAMPLE
                else (grade.probability / nxt)
            )
            steps.append(
                planning.Step(grade.code, Decimal(rate).quantize(Decimal("0.001")), left >= MIN_RATE_SAMPLE)
            )
        previous = monday - timedelta(days=7)
        counts = dict(snapshots[previous]) if previous in snapshots else dict(current)
        added = {by_code[g]: n for g, n in entered[monday].items() if g in by_code}
        history.append(planning.WeekInput(monday, steps, counts, orders_before, added, orders[monday]))
        orders_before += orders[monday]
    return history

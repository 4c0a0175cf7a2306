"""Grade flows: how many customers moved from one grade to another (or were created at
one) in a time range, from the weekly ``GradeFlowRollup`` rows where a whole week has
been rolled up and from the grade history for the rest; and the grade a customer was at
some moment. The conversion rates, the dashboard's movement, the backward plan and the
weekly rollup all count moves through here, so they agree."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import (
    BigIntegerField,
    Count,
    DateField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from core.models import Grade, GradeKind
from crm.models import Customer
from funnel.clock import start_of_day
from funnel.models import GradeChange

from ..models import GradeFlowRollup
from ..periods import week_bounds, week_start
from .scope import Scope


def movement_q() -> tuple[Q, Q]:
    """(up, down) filters on GradeChange: towards A/won, or towards E/lost."""
    up = Q(to_grade__kind=GradeKind.WON) | Q(
        to_grade__kind=GradeKind.OPEN,
        from_grade__kind=GradeKind.OPEN,
        to_grade__order__gt=F("from_grade__order"),
    )
    down = Q(to_grade__kind=GradeKind.LOST) | Q(
        to_grade__kind=GradeKind.OPEN,
        from_grade__kind=GradeKind.OPEN,
        to_grade__order__lt=F("from_grade__order"),
    )
    return up, down


def move_direction(src: Grade, dst: Grade) -> str | None:
    """The direction of a move, "up" or "down", exactly as ``movement_q`` counts it (None: neither)."""
    both_open = src.kind == GradeKind.OPEN and dst.kind == GradeKind.OPEN
    if dst.kind == GradeKind.WON or (both_open and dst.order > src.order):
        return "up"
    if dst.kind == GradeKind.LOST or (both_open and dst.order < src.order):
        return "down"
    return None


# --- Grade flows ----------------------------------------------------------------------------
# A flow is ``{(key, from grade id, to grade id): customers}``; ``from`` None counts the
# customers created at ``to`` (their initial grade).


@dataclass(frozen=True)
class FlowKey:
    """What live flows are grouped by besides the grades: an expression on the grade
    change, one on the customer, and one on a grade change for its customer's creation."""

    change: object
    customer: object
    creation_move: object


NO_KEY = FlowKey(*[Value(None, output_field=IntegerField())] * 3)
BY_DAY = FlowKey(TruncDate("changed_at"), TruncDate("created_at"), TruncDate("customer__created_at"))
BY_OWNER = FlowKey(F("owner_id"), F("owner_id"), F("customer__owner_id"))


def by_week_or_day(range_from: datetime, range_to: datetime) -> FlowKey:
    """A live flow key that the caller turns into weeks: a range inside one week (the
    current week, a window's partial first week) gets that week's Monday for all its rows,
    a constant instead of a local date computed per row; a longer range, each row's day."""
    monday = week_start(timezone.localtime(range_from).date())
    if range_to <= start_of_day(monday + timedelta(days=7)):
        return FlowKey(*[Value(monday, output_field=DateField())] * 3)
    return BY_DAY


def live_flows(
    owner_q: Callable[[str], Q],
    ranges: list[tuple[datetime, datetime]],
    key: FlowKey | Callable[[datetime, datetime], FlowKey],
) -> list[tuple]:
    """Grade moves and creations in ``ranges`` straight from the history, in one query:
    ``[(key, from, to, n)]`` (rows of the same key and grades are summed by the caller).
    ``owner_q(field)`` limits the owners (``Scope.q``): the owner at the move, and the
    customer's owner for creations. ``key``: one for all ranges, or one per range.

    Initial grades are counted without looking up each customer's first move: every
    move takes a customer from ``from_grade`` to ``to_grade`` (``change_grade`` is the
    only way grades move), so the customers a set started with at a grade are those at
    it today, plus the moves out of it, minus the moves into it. One branch per range
    and source, with ``COUNT(*)``, so the moves are index-only range scans.
    """
    change, current, creation_move = 0, 1, 2  # where a row comes from
    no_grade = Value(None, output_field=IntegerField())
    parts = []
    for range_from, range_to in ranges:
        range_key = key(range_from, range_to) if callable(key) else key
        parts += [
            GradeChange.objects.filter(owner_q("owner"), changed_at__gte=range_from, changed_at__lt=range_to)
            .values(k=range_key.change, origin=Value(change), src=F("from_grade_id"), dst=F("to_grade_id"))
            .annotate(n=Count("*")),
            Customer.objects.filter(owner_q("owner"), created_at__gte=range_from, created_at__lt=range_to)
            .values(k=range_key.customer, origin=Value(current), src=no_grade, dst=F("grade_id"))
            .annotate(n=Count("*")),
            GradeChange.objects.filter(
                owner_q("customer__owner"),
                customer__created_at__gte=range_from,
                customer__created_at__lt=range_to,
            )
            .values(
                k=range_key.creation_move,
                origin=Value(creation_move),
                src=F("from_grade_id"),
                dst=F("to_grade_id"),
            )
            .annotate(n=Count("*")),
        ]
    if not parts:
        return []
    flows = []
    for row in parts[0].order_by().union(*(part.order_by() for part in parts[1:]), all=True):
        if row["origin"] == change:
            flows.append((row["k"], row["src"], row["dst"], row["n"]))
        elif row["origin"] == current:
            flows.append((row["k"], None, row["dst"], row["n"]))
        else:
            flows += [(row["k"], None, row["src"], row["n"]), (row["k"], None, row["dst"], -row["n"])]
    return flows


def _rollup_weeks(start: datetime, end: datetime) -> list[date]:
    """Mondays of the whole weeks inside [start, end)."""
    monday = week_start(timezone.localtime(start).date())
    if start_of_day(monday) < start:
        monday += timedelta(days=7)
    weeks = []
    while start_of_day(monday + timedelta(days=7)) <= end:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


def _ranges_outside(start: datetime, end: datetime, weeks: set[date]) -> list[tuple[datetime, datetime]]:
    """[start, end) without the given whole weeks, as a list of [from, to) ranges."""
    ranges, cursor = [], start
    for monday in sorted(weeks):
        week_from, week_to = week_bounds(monday)
        if week_from > cursor:
            ranges.append((cursor, week_from))
        cursor = max(cursor, week_to)
    if cursor < end:
        ranges.append((cursor, end))
    return ranges


def grade_flows(scope: Scope, start: datetime, end: datetime, *, by_week: bool = False) -> dict[tuple, int]:
    """The scope's grade moves and creations in [start, end): ``{(week, from, to): n}``,
    ``week`` the Monday of the move (creation) with ``by_week``, else None.

    Whole weeks that have rollup rows (``GradeFlowRollup``, written when a week has
    ended) are summed from them; the rest — the partial weeks at the edges, the current
    week, any week not rolled up yet — is read live from the grade history. So the
    numbers are those of the raw history whether or not the rollup has run (tests
    compare both). Two queries: the rollup rows, the live rest (none when there is no
    rest, e.g. a past quarter starting on a Monday that was wholly rolled up).
    """
    flows: dict[tuple, int] = defaultdict(int)
    rolled = set()
    for row in (
        GradeFlowRollup.objects.filter(scope.q("owner"), week_start__in=_rollup_weeks(start, end))
        .order_by()
        .values("week_start", "from_grade", "to_grade")
        .annotate(n=Sum("customers"))
    ):
        rolled.add(row["week_start"])
        flows[(row["week_start"] if by_week else None, row["from_grade"], row["to_grade"])] += row["n"]
    ranges = _ranges_outside(start, end, rolled)
    for day, src, dst, n in live_flows(scope.q, ranges, by_week_or_day if by_week else NO_KEY):
        flows[(_week_key(day) if by_week else None, src, dst)] += n
    return {key: n for key, n in flows.items() if n}


def created_grade() -> Subquery:
    """The grade a customer (the outer query's row) was created at: the ``from`` of its
    first move, one probe of the (customer, changed_at) index per customer — for a set of
    customers already narrowed down (e.g. those resolved in a period), not for all."""
    first = GradeChange.objects.filter(customer=OuterRef("pk")).order_by("changed_at", "pk")
    return Subquery(first.values("from_grade_id")[:1])


def customers_as_of(moment: datetime) -> QuerySet[Customer]:
    """Customers that existed and were live at ``moment``, annotated ``grade_then``: the
    grade they were at, reconstructed from the grade history (correlated subqueries on
    the (customer, changed_at) index)."""
    last_before = GradeChange.objects.filter(customer=OuterRef("pk"), changed_at__lt=moment).order_by(
        "-changed_at", "-pk"
    )
    first_after = GradeChange.objects.filter(customer=OuterRef("pk"), changed_at__gte=moment).order_by(
        "changed_at", "pk"
    )
    return (
        Customer.objects.filter(created_at__lt=moment)
        .filter(Q(archived_at__isnull=True) | Q(archived_at__gte=moment))
        .annotate(
            grade_then=Coalesce(
                Subquery(last_before.values("to_grade_id")[:1]),
                Subquery(first_after.values("from_grade_id")[:1]),
                F("grade_id"),
                output_field=BigIntegerField(),
            )
        )
    )


def _week_key(value) -> date:
    """The Monday of a live flow's key: a day, or a moment taken in the local time zone."""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return week_start(value)

"""Reads of the reports app. Every function takes a ``Scope`` resolved from the viewer
(``resolve_scope``), so a number never includes what the viewer's lists would hide.

Each selector runs a fixed number of grouped queries, whatever the data size.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Avg,
    BigIntegerField,
    Case,
    Count,
    DateField,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.http import Http404
from django.utils import timezone

from activities import selectors as activities_selectors
from activities.models import Activity, ActivityKind, CallStage, DailyReport, MarketReport, MarketReportKind
from crm.models import Customer, CustomerTally, Order, Role, Team, User
from crm.selectors import customer_tally_visible_to, customers_visible_to
from funnel.models import FunnelSettings, Grade, GradeChange, GradeKind
from funnel.selectors import WonConcentration, won_concentration

from . import diagnosis, planning
from .models import (
    ActivityCadence,
    ActivityTarget,
    GradeFlowRollup,
    Target,
    WeeklyManagerReport,
    WeeklyRollup,
)
from .periods import Period, PeriodKind, local_midnight, period_for, today, week_bounds, week_start

ZERO = Decimal(0)
# Conversion rates: measured over this many days back, unless a period is given.
RATE_WINDOW_DAYS = 180
# A measured rate needs this many customers entering the grade; else the ratio of the
# grades' probabilities stands in (documented on the pages).
MIN_RATE_SAMPLE = 5
# Calibration: suggest a probability when the won share differs by more than this many
# points from the configured one, over at least this many resolved customers.
CALIBRATION_MARGIN = Decimal(10)
CALIBRATION_MIN_SAMPLE = 30
# Met from 100 % of the target, exceeded from this percentage.
EXCEEDED_FROM = Decimal(110)
LIST_LIMIT = 10


# --- Scope -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose numbers a report shows, within what the viewer may see.

    ``kind``: "owner" (one salesperson), "team" (a team tree), "mine" (a manager's own
    team tree plus themselves) or "company" (admins: everything, the pool included).
    """

    viewer: User
    kind: str
    owner: User | None = None
    team: Team | None = None
    team_ids: frozenset = field(default_factory=frozenset)

    def q(self, owner_field: str = "owner") -> Q:
        if self.kind == "owner":
            return Q(**{f"{owner_field}_id": self.owner.pk})
        if self.kind == "team":
            return Q(**{f"{owner_field}__team_id__in": self.team_ids})
        if self.kind == "mine":
            return Q(**{f"{owner_field}_id": self.viewer.pk}) | Q(
                **{f"{owner_field}__team_id__in": self.team_ids}
            )
        return Q()

    @property
    def label(self) -> str:
        if self.kind == "owner":
            return self.owner.display_name
        if self.kind == "team":
            return str(self.team)
        return ""

    def as_params(self) -> dict:
        if self.kind == "owner":
            return {"owner": self.owner.pk}
        if self.kind == "team":
            return {"team": self.team.pk}
        return {}


def _subtree(team_id: int, pairs: list[tuple[int, int | None]] | None = None) -> frozenset:
    if pairs is None:
        pairs = list(Team.objects.values_list("id", "parent_id"))
    children: dict = defaultdict(list)
    for child, parent in pairs:
        children[parent].append(child)
    seen, stack = set(), [team_id]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(children[current])
    return frozenset(seen)


def _int_or_404(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def resolve_scope(viewer: User, *, owner=None, team=None, scope: str | None = None) -> Scope:
    """The scope a viewer asked for, or 404 when it is outside what they may see.

    Salespeople only ever get their own numbers (another owner or a team → 404).
    Managers pick themselves, anyone in their team tree, or a team of the tree;
    admins anyone and any team. Without a choice: salesperson → own, manager → their
    team tree, admin → the company.
    """
    if owner not in (None, ""):
        owner_id = _int_or_404(owner)
        if owner_id == viewer.pk:
            return Scope(viewer, "owner", owner=viewer)
        person = User.objects.visible_to(viewer).filter(pk=owner_id).select_related("team").first()
        if person is None:
            raise Http404
        return Scope(viewer, "owner", owner=person)
    if team not in (None, ""):
        team_id = _int_or_404(team)
        if not (viewer.is_admin or (viewer.is_manager and team_id in viewer.visible_team_ids)):
            raise Http404
        team_obj = Team.objects.filter(pk=team_id).first()
        if team_obj is None:
            raise Http404
        return team_scope(viewer, team_obj)
    if scope == "me" or viewer.is_salesperson:
        return Scope(viewer, "owner", owner=viewer)
    if viewer.is_admin:
        return Scope(viewer, "company")
    return Scope(viewer, "mine", team_ids=viewer.visible_team_ids)


def team_scope(viewer: User, team: Team, teams: list[Team] | None = None) -> Scope:
    """The scope of ``team``'s tree; the caller has checked that ``viewer`` may see it.
    ``teams``: teams already loaded that hold the whole tree (no query then)."""
    pairs = None if teams is None else [(t.pk, t.parent_id) for t in teams]
    return Scope(viewer, "team", team=team, team_ids=_subtree(team.pk, pairs))


def scope_people(scope: Scope) -> QuerySet[User]:
    """The active people whose numbers make up the scope (for per-salesperson rows)."""
    people = User.objects.filter(is_active=True).select_related("team").order_by("username")
    if scope.kind == "owner":
        return people.filter(pk=scope.owner.pk)
    if scope.kind == "company":
        return people.exclude(role=Role.ADMIN)
    if scope.kind == "mine":
        return people.filter(Q(pk=scope.viewer.pk) | Q(team_id__in=scope.team_ids))
    return people.filter(team_id__in=scope.team_ids)


def scope_customers(scope: Scope) -> QuerySet[Customer]:
    """Live customers of the scope, through the viewer's visibility rule."""
    return customers_visible_to(scope.viewer).filter(scope.q("owner"), archived_at__isnull=True)


# --- Shared SQL pieces ------------------------------------------------------------------


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
    if range_to <= local_midnight(monday + timedelta(days=7)):
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
    if local_midnight(monday) < start:
        monday += timedelta(days=7)
    weeks = []
    while local_midnight(monday + timedelta(days=7)) <= end:
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


def _pct(numerator, denominator) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.1"))


def target_status(actual: Decimal, target: Decimal | None) -> tuple[Decimal | None, str]:
    """(percentage of the target, "met" / "exceeded" / "short" / "none")."""
    if not target:
        return None, "none"
    percentage = _pct(actual, target)
    if percentage >= EXCEEDED_FROM:
        return percentage, "exceeded"
    return percentage, "met" if percentage >= 100 else "short"


# --- Conversion rates --------------------------------------------------------------------


@dataclass
class StageRate:
    grade: Grade
    entered: int
    advanced: int
    exits: int  # customers who left the grade (up, down or lost) in the window
    measured: Decimal | None  # fraction 0..1, None without enough data
    fallback: Decimal  # ratio of the probabilities (this grade's ÷ the next's)

    @property
    def rate(self) -> Decimal:
        return self.measured if self.measured is not None else self.fallback

    @property
    def is_measured(self) -> bool:
        return self.measured is not None


def conversion_rates(
    scope: Scope, start: datetime, end: datetime, grades: list[Grade], flows: dict | None = None
) -> list[StageRate]:
    """Stage-to-stage conversion per open grade (the last one: A→won) between ``start``
    and ``end``, counted on moves: of the customers who left the grade in the window,
    the share that moved up. Customers still sitting at a grade are not counted yet (a
    fresh batch of prospects would otherwise read as a 0 % rate); ``entered`` (moved
    there or created there) is shown beside it. ``grades``: all grades; ``flows``: the
    window's ``grade_flows`` when the caller has them, else fetched (two queries)."""
    by_id = {grade.pk: grade for grade in grades}
    open_grades = [grade for grade in grades if grade.is_open]
    flows = grade_flows(scope, start, end) if flows is None else flows
    entered: dict[int, int] = defaultdict(int)
    left: dict[int, int] = defaultdict(int)
    went: dict[int, int] = defaultdict(int)
    for (_week, src, dst), n in flows.items():
        entered[dst] += n
        if src is not None:
            left[src] += n
            if move_direction(by_id[src], by_id[dst]) == "up":
                went[src] += n
    rates = []
    for index, grade in enumerate(open_grades):
        next_probability = (
            open_grades[index + 1].probability if index + 1 < len(open_grades) else Decimal(100)
        )
        fallback = (
            (grade.probability / next_probability).quantize(Decimal("0.001")) if next_probability else ZERO
        )
        measured = (
            (Decimal(went[grade.pk]) / Decimal(left[grade.pk])).quantize(Decimal("0.001"))
            if left[grade.pk] >= MIN_RATE_SAMPLE
            else None
        )
        rates.append(StageRate(grade, entered[grade.pk], went[grade.pk], left[grade.pk], measured, fallback))
    return rates


def trailing_window(days: int = RATE_WINDOW_DAYS) -> tuple[datetime, datetime]:
    now = timezone.now()
    return now - timedelta(days=days), now


# --- Funnel dashboard ---------------------------------------------------------------------


def _live_totals(scope: Scope) -> list[dict]:
    """The scope's live customers per (owner, grade): count, expected and weighted value,
    summed from the customer tally (about a thousand rows, not every customer)."""
    return list(
        customer_tally_visible_to(scope.viewer).filter(scope.q("owner")).totals("owner_id", "grade_id")
    )


def _stuck_and_new(
    scope: Scope, now: datetime, periods: list[Period]
) -> tuple[dict[tuple, int], dict[str, int]]:
    """Stuck live customers per (owner, grade), and the customers created in each of
    ``periods`` (nested: the year comes last) whatever became of them since, in one query:
    the stuck rows and one row of new-customer counts (its ``stuck`` empty). Each part
    reads an index alone: ``customer_live_stagnant_idx``, and the creation dates in
    ``customer_created_idx`` (the company) or ``customer_owner_grade_idx`` (owners)."""
    customers = Customer.objects.visible_to(scope.viewer).filter(scope.q("owner")).order_by()
    no_id = Value(None, output_field=IntegerField())
    stuck = (
        customers.stuck(now)
        .values(owner_pk=F("owner_id"), grade_pk=F("grade_id"))
        .annotate(stuck=Count("*"), **{f"new_{period.kind}": Value(0) for period in periods})
    )
    year = periods[-1]
    new = (
        customers.filter(created_at__gte=year.start_at, created_at__lt=year.end_at)
        .values(owner_pk=no_id, grade_pk=no_id)
        .annotate(
            stuck=no_id,
            **{
                f"new_{period.kind}": Count(
                    "created_at", filter=Q(created_at__gte=period.start_at, created_at__lt=period.end_at)
                )
                for period in periods
            },
        )
    )
    stuck_counts, new_customers = {}, {}
    for row in stuck.union(new, all=True):
        if row["stuck"] is None:
            new_customers = {period.kind: row[f"new_{period.kind}"] for period in periods}
        else:
            stuck_counts[(row["owner_pk"], row["grade_pk"])] = row["stuck"]
    return stuck_counts, new_customers


def _per_team(people: list[dict]) -> list[dict]:
    """The per-salesperson rows summed by each person's own team, in team name order
    (people without a team last)."""
    teams: dict = {}
    for entry in people:
        team = entry["person"].team
        total = teams.setdefault(
            team,
            {
                "team": team,
                "people": 0,
                "open": 0,
                "weighted": ZERO,
                "stuck": 0,
                "counts": [0] * len(entry["counts"]),
            },
        )
        total["people"] += 1
        for key in ("open", "weighted", "stuck"):
            total[key] += entry[key]
        total["counts"] = [a + b for a, b in zip(total["counts"], entry["counts"], strict=True)]
    return sorted(teams.values(), key=lambda row: (row["team"] is None, row["team"] and row["team"].name))


def _movement(flows: dict, monday: date, grades: dict[int, Grade]) -> dict:
    """This week's new, upgraded, downgraded, won and lost customers, from the flows."""
    moves = {"new": 0, "up": 0, "down": 0, "won": 0, "lost": 0}
    for (week, src, dst), n in flows.items():
        if week != monday:
            continue
        if src is None:
            moves["new"] += n
        elif grades[dst].kind == GradeKind.WON:
            moves["won"] += n
        elif grades[dst].kind == GradeKind.LOST:
            moves["lost"] += n
        elif direction := move_direction(grades[src], grades[dst]):
            moves[direction] += n
    return moves


def funnel_dashboard(scope: Scope) -> dict:
    """Everything the funnel dashboard shows, in a fixed number of queries: grades (1),
    the live totals per owner and grade from the customer tally (1), stuck and new
    customers (1), people of the scope and the concentration guard's settings (2), the
    stuck list (1), orders for the month, quarter and year (1), targets (1), and the
    grade flows of the last 180 days — rollup rows plus the live rest — which give both
    the conversion rates and this week's movement (2)."""
    now = timezone.now()
    day = today()
    grades = list(Grade.objects.order_by("order"))
    open_grades = [grade for grade in grades if grade.is_open]
    periods = [period_for(kind, day) for kind in (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR)]
    stuck_counts, new_customers = _stuck_and_new(scope, now, periods)
    per_grade: dict[int, dict] = {
        g.pk: {"count": 0, "expected": ZERO, "weighted": ZERO, "stuck": 0} for g in grades
    }
    per_owner: dict = defaultdict(lambda: {"counts": {}, "count": 0, "weighted": ZERO, "stuck": 0})
    open_ids = {grade.pk for grade in open_grades}
    by_id = {grade.pk: grade for grade in grades}
    for row in _live_totals(scope):
        if not row["count"]:
            continue
        value = row["weighted"]
        stuck = stuck_counts.get((row["owner_id"], row["grade_id"]), 0)
        totals = per_grade[row["grade_id"]]
        totals["count"] += row["count"]
        totals["expected"] += row["expected"]
        totals["weighted"] += value
        totals["stuck"] += stuck
        owner = per_owner[row["owner_id"]]
        owner["counts"][row["grade_id"]] = row["count"]
        if row["grade_id"] in open_ids:
            owner["count"] += row["count"]
            owner["weighted"] += value
            owner["stuck"] += stuck
    rows = [{"grade": grade, **per_grade[grade.pk]} for grade in grades]
    quota = sum((per_grade[g.pk]["weighted"] for g in open_grades), ZERO)

    people = []
    if scope.kind != "owner":
        for person in scope_people(scope):
            entry = per_owner.get(person.pk, {"counts": {}, "count": 0, "weighted": ZERO, "stuck": 0})
            people.append(
                {
                    "person": person,
                    "counts": [entry["counts"].get(g.pk, 0) for g in grades],
                    "open": entry["count"],
                    "weighted": entry["weighted"],
                    "stuck": entry["stuck"],
                }
            )

    # The whole company's 200 salespeople make a long table: it lists teams, each a link
    # to that team's dashboard, which lists its people.
    teams = _per_team(people) if scope.kind == "company" else []

    stuck = list(scope_customers(scope).stuck(now).order_by("stagnant_from", "pk")[:LIST_LIMIT])

    targets = quota_vs_target(scope, periods=periods, day=day, quota=quota, new_customers=new_customers)
    rate_start, rate_end = trailing_window()
    flows = grade_flows(scope, rate_start, rate_end, by_week=True)
    rates = conversion_rates(scope, rate_start, rate_end, grades, flows)
    recent_orders = targets.pop("recent_orders")
    layers = [
        diagnosis.Layer(g.code, per_grade[g.pk]["count"], rate.rate, rate.is_measured)
        for g, rate in zip(open_grades, rates, strict=True)
    ]
    return {
        "scope": scope,
        "grades": grades,
        "rows": rows,
        "quota": quota,
        "open_count": sum(per_grade[g.pk]["count"] for g in open_grades),
        "people": people,
        "concentration": _won_concentration(people, grades),
        "teams": teams,
        "movement": _movement(flows, week_start(day), by_id),
        "week_start": week_start(day),
        "stuck": stuck,
        "stuck_count": sum(per_grade[g.pk]["stuck"] for g in open_grades),
        "periods": targets["periods"],
        "rates": rates,
        "diagnosis": diagnosis.diagnose(layers, recent_orders),
        "recent_orders": recent_orders,
    }


def _won_concentration(people: list[dict], grades: list[Grade]) -> WonConcentration | None:
    """The concentration guard over the scope's people (none for one salesperson's
    funnel), from the per-person counts the dashboard has already, plus the settings row."""
    if not people:
        return None
    won = [index for index, grade in enumerate(grades) if grade.kind == GradeKind.WON]
    return won_concentration(
        {entry["person"]: sum(entry["counts"][index] for index in won) for entry in people},
        FunnelSettings.load(),
    )


def chart_data(dashboard: dict) -> dict:
    """What static/js/charts.js draws (passed through ``json_script``)."""
    return {
        "grades": [
            {
                "code": row["grade"].code,
                "name": row["grade"].display_name,
                "kind": row["grade"].kind,
                "count": row["count"],
                "weighted": float(row["weighted"]),
            }
            for row in dashboard["rows"]
        ],
    }


# --- Targets, quota vs actual ---------------------------------------------------------------


def _targets_for(scope: Scope, periods: list[Period]) -> dict[tuple, dict]:
    """Target figures per (kind, start) for the scope, summed without double counting.

    The rule (SPEC §2 "Targets"): a team target is the target of the team's own members
    — ``reports.services.split_team_target`` splits it across exactly them, never a
    sub-team's. So for each team of the scope, its own target counts when it has one
    for the period, else the sum of its members' targets; a sub-team is its own team
    under the same rule. People outside the scope's teams (a manager viewing "my team"
    from outside it, salespeople without a team) add their own target. This holds for
    one salesperson, a team tree, a manager's "my team" and the company alike.

    One query: the period's targets of the scope, each with its owner's team."""
    period_q = Q()
    for period in periods:
        period_q |= Q(period_kind=period.kind, period_start=period.start)
    targets = Target.objects.filter(period_q).annotate(owner_team_id=F("owner__team_id")).order_by()
    if scope.kind == "owner":
        targets = targets.filter(owner=scope.owner)
    elif scope.kind == "team":
        targets = targets.filter(Q(team_id__in=scope.team_ids) | Q(owner__team_id__in=scope.team_ids))
    elif scope.kind == "mine":
        targets = targets.filter(
            Q(owner__team_id__in=scope.team_ids) | Q(owner=scope.viewer) | Q(team_id__in=scope.team_ids)
        )
    names = ("sales_amount", "gross_profit", "new_customers", "collections")
    rows = list(targets)
    # Teams with their own target for a period: their members' targets are inside it.
    team_has_target = {
        (target.team_id, target.period_kind, target.period_start) for target in rows if target.team_id
    }
    result: dict[tuple, dict] = {}
    for target in rows:
        if (
            scope.kind != "owner"
            and target.owner_id is not None
            and (target.owner_team_id, target.period_kind, target.period_start) in team_has_target
        ):
            continue
        bucket = result.setdefault((target.period_kind, target.period_start), dict.fromkeys(names, ZERO))
        for name in names:
            bucket[name] += getattr(target, name)
    return result


def quota_vs_target(
    scope: Scope, *, periods: list[Period], day: date, quota: Decimal, new_customers: dict[str, int]
) -> dict:
    """Actual vs target for ``periods`` (the month, quarter and year holding ``day``):
    orders (one query) and targets (one), beside the new customers counted by the
    caller, plus the count of orders in the last 30 days (for the shape diagnosis)."""
    year = periods[-1]
    recent_from = day - timedelta(days=diagnosis.RECENT_ORDER_DAYS)
    aggregates = {}
    for period in periods:
        signed = Q(signed_on__gte=period.start, signed_on__lt=period.end)
        collected = Q(collected_on__gte=period.start, collected_on__lt=period.end)
        aggregates[f"{period.kind}_amount"] = Coalesce(Sum("amount", filter=signed), ZERO)
        aggregates[f"{period.kind}_profit"] = Coalesce(Sum("gross_profit", filter=signed), ZERO)
        aggregates[f"{period.kind}_collections"] = Coalesce(Sum("collected_amount", filter=collected), ZERO)
    aggregates["recent"] = Count("pk", filter=Q(signed_on__gt=recent_from, signed_on__lte=day))
    orders = (
        Order.objects.filter(scope.q("owner"))
        .filter(Q(signed_on__gte=min(year.start, recent_from)) | Q(collected_on__gte=year.start))
        .aggregate(**aggregates)
    )
    targets = _targets_for(scope, periods)
    rows = []
    for period in periods:
        target = targets.get((period.kind, period.start), {})
        actual = orders[f"{period.kind}_amount"]
        percentage, status = target_status(actual, target.get("sales_amount"))
        rows.append(
            {
                "period": period,
                "actual": actual,
                "target": target.get("sales_amount"),
                "percentage": percentage,
                "status": status,
                "quota": quota,
                "gross_profit": orders[f"{period.kind}_profit"],
                "gross_profit_target": target.get("gross_profit"),
                "collections": orders[f"{period.kind}_collections"],
                "collections_target": target.get("collections"),
                "new_customers": new_customers[period.kind],
                "new_customers_target": target.get("new_customers"),
            }
        )
    return {"periods": rows, "recent_orders": orders["recent"]}


def quota_report(scope: Scope, period: Period) -> dict:
    """Per salesperson and per team: actual sales vs target (met / exceeded / short) and
    the quota — the pipeline now for the current period, else the rollup at its end.
    Queries: people (1), orders grouped (1), targets (1), quota (1), teams (1)."""
    people = list(scope_people(scope))
    ids = [person.pk for person in people]
    actual = {
        row["owner"]: row
        for row in Order.objects.filter(
            owner_id__in=ids, signed_on__gte=period.start, signed_on__lt=period.end
        )
        .order_by()
        .values("owner")
        .annotate(amount=Coalesce(Sum("amount"), ZERO), n=Count("pk"))
    }
    person_targets, team_targets = {}, {}
    for target in Target.objects.filter(period_kind=period.kind, period_start=period.start).filter(
        Q(owner_id__in=ids) | Q(team_id__in={p.team_id for p in people if p.team_id})
    ):
        if target.owner_id:
            person_targets[target.owner_id] = target.sales_amount
        else:
            team_targets[target.team_id] = target.sales_amount
    if period.end > today():
        pipeline = CustomerTally.objects.filter(owner_id__in=ids, grade__kind=GradeKind.OPEN)
        quotas = {row["owner_id"]: row["weighted"] for row in pipeline.totals("owner_id")}
    else:
        last_week = week_start(period.end - timedelta(days=1))
        quotas = dict(
            WeeklyRollup.objects.filter(salesperson_id__in=ids, week_start=last_week).values_list(
                "salesperson_id", "quota"
            )
        )
    rows = []
    teams: dict = {}
    for person in people:
        amount = actual.get(person.pk, {}).get("amount", ZERO)
        target = person_targets.get(person.pk)
        percentage, status = target_status(amount, target)
        row = {
            "person": person,
            "team": person.team,
            "actual": amount,
            "orders": actual.get(person.pk, {}).get("n", 0),
            "target": target,
            "percentage": percentage,
            "status": status,
            "quota": quotas.get(person.pk, ZERO),
        }
        rows.append(row)
        if person.team_id:
            team = teams.setdefault(
                person.team_id,
                {
                    "team": person.team,
                    "actual": ZERO,
                    "member_target": ZERO,
                    "quota": ZERO,
                    "has_member_target": False,
                },
            )
            team["actual"] += amount
            team["quota"] += row["quota"]
            if target is not None:
                team["member_target"] += target
                team["has_member_target"] = True
    team_rows = []
    for team_id, team in sorted(teams.items(), key=lambda item: str(item[1]["team"])):
        target = team_targets.get(team_id, team["member_target"] if team["has_member_target"] else None)
        percentage, status = target_status(team["actual"], target)
        team_rows.append({**team, "target": target, "percentage": percentage, "status": status})
    return {"period": period, "rows": rows, "teams": team_rows}


# --- Conversion and cycle -------------------------------------------------------------------


def conversion_report(scope: Scope, period: Period) -> dict:
    """Stage conversion, days in grade (mean, median), the bottleneck and the probability
    calibration for the period. Queries: grades, 2 for the rates, 1 for the days, 2 for
    the calibration."""
    grades = list(Grade.objects.order_by("order"))
    rates = conversion_rates(scope, period.start_at, period.end_at, grades)
    # Days in the grade left, as a histogram (grade, days, moves): a few hundred rows
    # however many moves the period holds.
    days_by_grade: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for grade_id, days, n in (
        GradeChange.objects.filter(
            scope.q("owner"),
            changed_at__gte=period.start_at,
            changed_at__lt=period.end_at,
            days_in_previous__isnull=False,
            from_grade__isnull=False,
        )
        .order_by()
        .values("from_grade", "days_in_previous")
        .annotate(n=Count("*"))
        .values_list("from_grade", "days_in_previous", "n")
    ):
        days_by_grade[grade_id].append((days, n))
    stages = []
    for rate in rates:
        mean, median = _mean_and_median(days_by_grade.get(rate.grade.pk, []))
        stages.append(
            {
                "grade": rate.grade,
                "entered": rate.entered,
                "advanced": rate.advanced,
                "rate": rate.measured,
                "mean_days": mean,
                "median_days": median,
                "exits": rate.exits,
            }
        )
    measured = [stage for stage in stages if stage["rate"] is not None]
    bottleneck = min(measured, key=lambda stage: stage["rate"])["grade"] if measured else None
    return {
        "period": period,
        "stages": stages,
        "bottleneck": bottleneck,
        "calibration": calibration(scope, grades, period),
    }


def _mean_and_median(histogram: list[tuple[int, int]]) -> tuple[Decimal | None, Decimal | None]:
    """Mean and median (to 0.1) of the values of ``[(value, how many)]``."""
    total = sum(n for _value, n in histogram)
    if not total:
        return None, None
    ordered = sorted(histogram)

    def nth(position: int) -> int:
        for value, n in ordered:
            if position < n:
                return value
            position -= n
        raise IndexError(position)

    mean = Decimal(sum(value * n for value, n in histogram)) / total
    median = Decimal(nth((total - 1) // 2) + nth(total // 2)) / 2
    return mean.quantize(Decimal("0.1")), median.quantize(Decimal("0.1"))


def calibration(scope: Scope, grades: list[Grade], period: Period | None = None) -> list[dict]:
    """Per open grade: of the customers that reached it (moved there or were created
    there) and have since been resolved (won or lost), the share won — beside the
    configured probability, with a suggestion when the gap and the sample are big enough."""
    # Only resolved customers count, so both queries start from them (by grade id:
    # the won and lost grades are known here).
    won_ids = [grade.pk for grade in grades if grade.kind == GradeKind.WON]
    resolved_ids = won_ids + [grade.pk for grade in grades if grade.kind == GradeKind.LOST]
    moves = GradeChange.objects.filter(scope.q("customer__owner"), customer__grade_id__in=resolved_ids)
    resolved = Customer.objects.filter(scope.q("owner"), grade_id__in=resolved_ids)
    if period is not None:
        moves = moves.filter(changed_at__gte=period.start_at, changed_at__lt=period.end_at)
        resolved = resolved.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)
    moved = {
        row["to_grade"]: row
        for row in moves.order_by()
        .values("to_grade")
        .annotate(
            resolved=Count("customer", distinct=True),
            won=Count("customer", distinct=True, filter=Q(customer__grade_id__in=won_ids)),
        )
    }
    # Created at a grade: the from of the customer's first move (a customer that never
    # moved is still at its initial grade, so it is not resolved).
    born = {
        row["from_grade"]: row
        for row in resolved.annotate(from_grade=created_grade())
        .order_by()
        .values("from_grade")
        .annotate(resolved=Count("pk"), won=Count("pk", filter=Q(grade_id__in=won_ids)))
    }
    rows = []
    for grade in grades:
        if not grade.is_open:
            continue
        sample = moved.get(grade.pk, {}).get("resolved", 0) + born.get(grade.pk, {}).get("resolved", 0)
        wins = moved.get(grade.pk, {}).get("won", 0) + born.get(grade.pk, {}).get("won", 0)
        observed = _pct(wins, sample)
        suggested = None
        if (
            observed is not None
            and sample >= CALIBRATION_MIN_SAMPLE
            and abs(observed - grade.probability) > CALIBRATION_MARGIN
        ):
            suggested = observed.quantize(Decimal(1))
        rows.append(
            {
                "grade": grade,
                "sample": sample,
                "won": wins,
                "observed": observed,
                "configured": grade.probability,
                "suggested": suggested,
            }
        )
    return rows


# --- Backward plan ----------------------------------------------------------------------------


def average_order(scope: Scope) -> Decimal | None:
    """Mean order amount of the scope over the last year (the amount → orders divisor)."""
    since = today() - timedelta(days=365)
    value = Order.objects.filter(scope.q("owner"), signed_on__gte=since).aggregate(avg=Avg("amount"))["avg"]
    return Decimal(value).quantize(Decimal("0.01")) if value else None


def backward_plan_report(scope: Scope, period: Period, target_orders: int) -> dict:
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
    plan = [
        {"row": row, "grade": grade, "rate": rate}
        for row, grade, rate in zip(plan_rows, open_grades, rates, strict=True)
    ]
    history = _weekly_history(scope, period, grades, [w for w in weeks if w <= this_week], current)
    replanned = planning.weekly_replan(target_orders=target_orders, weeks=history, total_weeks=len(weeks))
    return {
        "period": period,
        "target_orders": target_orders,
        "steps": steps,
        "plan": plan,
        "weeks_left": weeks_left,
        "current": current,
        "weekly": list(zip(history, replanned, strict=True)),
        "average_rates": planning.average_rates(history),
        "finished": period.end <= today(),
        "orders_so_far": sum(week.orders_in_week for week in history),
    }


def _week_key(value) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return week_start(value)


def _weekly_history(
    scope: Scope, period: Period, grades: list[Grade], weeks: list[date], current: dict[str, int]
) -> list[planning.WeekInput]:
    if not weeks:
        return []
    start, end = period.start_at, min(local_midnight(weeks[-1] + timedelta(days=7)), period.end_at)
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


# --- Activity funnel, efficiency, negotiations, 80/20, activity by grade -----------------------


def activity_funnel(scope: Scope, period: Period, commission_rate: Decimal) -> dict:
    """Per salesperson: dials → connected → appointments → presentations → orders →
    amount, revenue and commission per dial, sales per hour and per yuan of expense.
    Queries: people (1), activities grouped (1), orders grouped (1)."""
    people = list(scope_people(scope))
    ids = [person.pk for person in people]
    calls = Q(kind=ActivityKind.CALL)
    activity = {
        row["owner"]: row
        for row in Activity.objects.filter(
            owner_id__in=ids,
            started_at__gte=period.start_at,
            started_at__lt=period.end_at,
        )
        .order_by()
        .values("owner")
        .annotate(
            dials=Count("pk", filter=calls),
            connected=Count("pk", filter=calls & Q(call_stage__gte=CallStage.CONNECTED)),
            appointments=Count("pk", filter=calls & Q(call_stage__gte=CallStage.APPOINTMENT)),
            presentations=Count("pk", filter=calls & Q(call_stage__gte=CallStage.PRESENTATION)),
            visits=Count("pk", filter=Q(kind__in=[ActivityKind.VISIT, ActivityKind.MEETING])),
            minutes=Coalesce(Sum("duration_minutes"), 0),
            expense=Coalesce(Sum("expense"), ZERO),
        )
    }
    orders = {
        row["owner"]: row
        for row in Order.objects.filter(
            owner_id__in=ids, signed_on__gte=period.start, signed_on__lt=period.end
        )
        .order_by()
        .values("owner")
        .annotate(n=Count("pk"), amount=Coalesce(Sum("amount"), ZERO))
    }
    rows = []
    empty = {
        "dials": 0,
        "connected": 0,
        "appointments": 0,
        "presentations": 0,
        "visits": 0,
        "minutes": 0,
        "expense": ZERO,
    }
    totals = dict(empty, orders=0, amount=ZERO)
    for person in people:
        act = activity.get(person.pk, empty)
        order = orders.get(person.pk, {"n": 0, "amount": ZERO})
        row = {
            "person": person,
            **{k: act[k] for k in empty},
            "orders": order["n"],
            "amount": order["amount"],
        }
        for key in totals:
            totals[key] += row[key]
        rows.append(_with_efficiency(row, commission_rate))
    return {
        "period": period,
        "rows": rows,
        "total": _with_efficiency(totals, commission_rate),
        "commission_rate": commission_rate,
    }


def _with_efficiency(row: dict, commission_rate: Decimal) -> dict:
    revenue, commission = planning.per_dial(
        dials=row["dials"], amount=row["amount"], commission_rate=commission_rate
    )
    hours = Decimal(row["minutes"]) / 60
    return {
        **row,
        "revenue_per_dial": revenue,
        "commission_per_dial": commission,
        "per_hour": (row["amount"] / hours).quantize(Decimal("0.01")) if hours else None,
        "per_yuan": (row["amount"] / row["expense"]).quantize(Decimal("0.01")) if row["expense"] else None,
    }


def negotiation_report(scope: Scope, period: Period) -> dict:
    """Close rate by the number of negotiations (visits and meetings) with a customer in
    the period — first, second, several — the repeat-order rate and the 80/20 view.
    Queries: buckets (1), repeat (1), per-customer sales (1)."""
    negotiations = (
        Activity.objects.filter(
            customer=OuterRef("pk"),
            kind__in=[ActivityKind.VISIT, ActivityKind.MEETING],
            started_at__gte=period.start_at,
            started_at__lt=period.end_at,
        )
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    signed = Order.objects.filter(
        customer=OuterRef("pk"), signed_on__gte=period.start, signed_on__lt=period.end
    )
    bucket = Case(
        When(negotiations=1, then=Value(1)),
        When(negotiations=2, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    buckets = {
        row["bucket"]: row
        for row in customers_visible_to(scope.viewer)
        .filter(scope.q("owner"))
        .order_by()
        .annotate(negotiations=Coalesce(Subquery(negotiations, output_field=IntegerField()), 0))
        .filter(negotiations__gte=1)
        .annotate(bucket=bucket, signed=Exists(signed))
        .values("bucket")
        .annotate(customers=Count("pk"), won=Count("pk", filter=Q(signed=True)))
    }
    labels = {1: "first", 2: "second", 3: "several"}
    close_rates = [
        {
            "bucket": labels[key],
            "customers": buckets.get(key, {}).get("customers", 0),
            "won": buckets.get(key, {}).get("won", 0),
            "rate": _pct(buckets.get(key, {}).get("won", 0), buckets.get(key, {}).get("customers", 0)),
        }
        for key in (1, 2, 3)
    ]
    repeat = (
        customers_visible_to(scope.viewer)
        .filter(scope.q("owner"))
        .aggregate(
            buyers=Count("pk", filter=Q(order_count__gte=1)),
            repeaters=Count("pk", filter=Q(order_count__gte=2)),
        )
    )
    amounts = list(
        Order.objects.filter(
            scope.q("customer__owner"), signed_on__gte=period.start, signed_on__lt=period.end
        )
        .order_by()
        .values("customer")
        .annotate(total=Sum("amount"))
        .values_list("total", flat=True)
    )
    share = planning.pareto_share(amounts)
    return {
        "close_rates": close_rates,
        "repeat_rate": _pct(repeat["repeaters"], repeat["buyers"]),
        "buyers": repeat["buyers"],
        "repeaters": repeat["repeaters"],
        "pareto_share": share * 100 if share is not None else None,
        "customers_with_sales": len(amounts),
    }


def activity_by_grade(scope: Scope, start: datetime, end: datetime) -> dict:
    """What each salesperson did between ``start`` and ``end`` for customers at each
    grade (their grade now), by channel. One grouped query plus the grades."""
    grades = list(Grade.objects.order_by("order"))
    cells: dict = defaultdict(lambda: defaultdict(int))
    names = {}
    for owner_id, username, first, last, grade_id, n in (
        Activity.objects.filter(scope.q("owner"), started_at__gte=start, started_at__lt=end)
        .order_by()
        .values("owner", "owner__username", "owner__first_name", "owner__last_name", "customer__grade")
        .annotate(n=Count("pk"))
        .values_list(
            "owner", "owner__username", "owner__first_name", "owner__last_name", "customer__grade", "n"
        )
    ):
        cells[owner_id][grade_id] += n
        names[owner_id] = User.name_from(first, last, username)
    rows = [
        {
            "name": names[owner_id],
            "counts": [cells[owner_id].get(g.pk, 0) for g in grades],
            "total": sum(cells[owner_id].values()),
        }
        for owner_id in sorted(names, key=lambda i: names[i])
    ]
    return {"grades": grades, "rows": rows}


# --- Weekly manager report ------------------------------------------------------------------


def _whole(queryset: QuerySet, **aggregate) -> Subquery:
    """``queryset``'s aggregate as a scalar subquery: grouped by a constant, so by nothing."""
    return Subquery(
        queryset.order_by().annotate(whole=Value(1)).values("whole").annotate(**aggregate).values(*aggregate)
    )


def _salespeople_and_sales(scope: Scope, period: Period) -> tuple[int, Decimal]:
    """The scope's salespeople and the amount of its orders signed in ``period``, in one
    query: two scalar subqueries read on the viewer's own row (the weekly report keeps
    within the page budget of queries)."""
    salespeople = _whole(scope_people(scope).filter(role=Role.SALESPERSON), n=Count("pk"))
    orders = Order.objects.filter(scope.q("owner"), signed_on__gte=period.start, signed_on__lt=period.end)
    sales = _whole(orders, total=Sum("amount"))
    return (
        User.objects.filter(pk=scope.viewer.pk)
        .values_list(Coalesce(salespeople, 0), Coalesce(sales, ZERO, output_field=DecimalField()))
        .get()
    )


def weekly_report(scope: Scope, monday: date) -> dict:
    """One team's week from its rollup rows, with the abnormal customers, complaints,
    competitor news and lateness of the week. Fixed queries."""
    start, end = week_bounds(monday)
    rollups = list(
        WeeklyRollup.objects.filter(scope.q("salesperson"), week_start=monday)
        .select_related("salesperson")
        .order_by("salesperson__username")
    )
    fields = [
        "new_customers",
        "upgrades",
        "won_customers",
        "orders",
        "order_amount",
        "gross_profit",
        "collections",
        "calls",
        "visits",
        "effective_visits",
        "reports_submitted",
        "reports_late",
        "quota",
    ]
    totals = {name: sum((getattr(row, name) for row in rollups), 0) for name in fields}
    month = period_for(PeriodKind.MONTH, monday)
    people, month_actual = _salespeople_and_sales(scope, month)
    targets = _targets_for(scope, [month]).get((month.kind, month.start), {})
    percentage, status = target_status(month_actual, targets.get("sales_amount"))
    # Open = neither won nor lost: PostgreSQL misjudges "kind = open" on the tiny grade
    # table and would then intersect with the grade's index instead of walking each
    # owner's (owner, stagnant_from) / (owner, next_follow_up_on) index.
    customers = scope_customers(scope).exclude(grade__kind__in=[GradeKind.WON, GradeKind.LOST])
    week_q = Q(created_at__gte=start, created_at__lt=end)
    report = None
    if scope.kind == "team":
        report = WeeklyManagerReport.objects.filter(team=scope.team, week_start=monday).first()
    return {
        "week_start": monday,
        "week_end": monday + timedelta(days=6),
        "rollups": rollups,
        "totals": totals,
        "effective_visit_rate": _pct(totals["effective_visits"], totals["visits"]),
        "transaction_rate": _pct(totals["orders"], totals["visits"]),
        "average_sales": (Decimal(totals["order_amount"]) / people).quantize(Decimal("0.01"))
        if people
        else None,
        "people": people,
        "month": month,
        "month_actual": month_actual,
        "month_target": targets.get("sales_amount"),
        "month_percentage": percentage,
        "month_status": status,
        "stuck": list(customers.filter(stagnant_from__lte=end).order_by("stagnant_from", "pk")[:LIST_LIMIT]),
        "overdue": list(
            customers.filter(next_follow_up_on__lt=monday + timedelta(days=7)).order_by(
                "next_follow_up_on", "pk"
            )[:LIST_LIMIT]
        ),
        "complaints": list(
            MarketReport.objects.filter(scope.q("owner"), week_q, kind=MarketReportKind.COMPLAINT)
            .select_related("owner", "customer")
            .order_by("-created_at")[:LIST_LIMIT]
        ),
        "competitor_news": list(
            Activity.objects.filter(scope.q("owner"), started_at__gte=start, started_at__lt=end)
            .exclude(competitor_news="")
            .select_related("owner", "customer")
            .order_by("-started_at")[:LIST_LIMIT]
        ),
        "late_reports": list(
            DailyReport.objects.filter(
                scope.q("owner"), date__gte=monday, date__lt=monday + timedelta(days=7), is_late=True
            )
            .select_related("owner")
            .order_by("date", "owner__username")[: LIST_LIMIT * 3]
        ),
        "manager_report": report,
        "accompanied_visits": activities_selectors.accompanied_visits(scope.q("visit__owner"), start, end),
    }


# --- Activity targets: today's progress for "my day" -------------------------------------------


def activity_progress(user: User, on: date) -> list[dict]:
    """Today's (and this week's) progress against ``user``'s activity targets, for "my
    day": ``[{"cadence", "metric", "done", "target"}]`` for every metric with a target.
    Three queries (targets, activities, new customers)."""
    targets = list(ActivityTarget.objects.filter(owner=user))
    if not targets:
        return []
    week_from, week_to = week_bounds(on)
    day_from, day_to = local_midnight(on), local_midnight(on + timedelta(days=1))
    counts = Activity.objects.filter(owner=user, started_at__gte=week_from, started_at__lt=week_to).aggregate(
        day_calls=Count(
            "pk", filter=Q(kind=ActivityKind.CALL, started_at__gte=day_from, started_at__lt=day_to)
        ),
        day_visits=Count(
            "pk", filter=Q(kind=ActivityKind.VISIT, started_at__gte=day_from, started_at__lt=day_to)
        ),
        week_calls=Count("pk", filter=Q(kind=ActivityKind.CALL)),
        week_visits=Count("pk", filter=Q(kind=ActivityKind.VISIT)),
    )
    created = Customer.objects.filter(
        created_by=user, created_at__gte=week_from, created_at__lt=week_to
    ).aggregate(
        day=Count("pk", filter=Q(created_at__gte=day_from, created_at__lt=day_to)),
        week=Count("pk"),
    )
    progress = []
    for target in sorted(targets, key=lambda t: t.cadence != ActivityCadence.DAY):
        prefix = "day" if target.cadence == ActivityCadence.DAY else "week"
        done = {
            "calls": counts[f"{prefix}_calls"],
            "visits": counts[f"{prefix}_visits"],
            "new_customers": created[prefix],
        }
        for metric in ("calls", "visits", "new_customers"):
            goal = getattr(target, metric)
            if goal:
                progress.append(
                    {"cadence": target.cadence, "metric": metric, "done": done[metric], "target": goal}
                )
    return progress


# --- Lists for the API ---------------------------------------------------------------------------


def targets_visible_to(user: User) -> QuerySet[Target]:
    """Targets of people the user may see, and of teams in their tree (own team too)."""
    targets = Target.objects.select_related("owner", "team")
    if user.is_admin:
        return targets
    if user.is_manager:
        return targets.filter(
            Q(owner_id=user.pk)
            | Q(owner__team_id__in=user.visible_team_ids)
            | Q(team_id__in=user.visible_team_ids)
        )
    return targets.filter(Q(owner_id=user.pk) | Q(team_id=user.team_id))


def rollups_visible_to(user: User) -> QuerySet[WeeklyRollup]:
    rollups = WeeklyRollup.objects.select_related("salesperson", "team")
    if user.is_admin:
        return rollups
    if user.is_manager:
        return rollups.filter(Q(salesperson_id=user.pk) | Q(salesperson__team_id__in=user.visible_team_ids))
    return rollups.filter(salesperson_id=user.pk)


def activity_targets_visible_to(user: User) -> QuerySet[ActivityTarget]:
    targets = ActivityTarget.objects.select_related("owner")
    if user.is_admin:
        return targets
    if user.is_manager:
        return targets.filter(Q(owner_id=user.pk) | Q(owner__team_id__in=user.visible_team_ids))
    return targets.filter(owner_id=user.pk)

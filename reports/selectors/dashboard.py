"""The funnel dashboard: the scope's customers per grade and per person, stuck and new
customers, quota against target, conversion rates, this week's movement and the shape
diagnosis — in a fixed number of queries."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import CharField, Count, F, IntegerField, Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Grade, GradeKind
from crm.models import Customer, Lifecycle, Team, User
from crm.selectors import customer_tally_visible_to
from funnel.models import FunnelSettings
from funnel.selectors import WonConcentration, won_concentration

from .. import diagnosis
from ..columns import Column, Kind
from ..periods import Period, PeriodKind, period_for, today, week_start
from .conversion import StageRate, conversion_rates, trailing_window
from .figures import LIST_LIMIT, ZERO
from .flows import grade_flows, move_direction
from .scope import Scope, ScopeKind, scope_customers, scope_people
from .targets import PeriodTarget, quota_vs_target


@dataclass(frozen=True)
class GradeRow:
    """The scope's live customers at one grade."""

    grade: Grade
    count: int
    expected: Decimal
    weighted: Decimal
    stuck: int


@dataclass(frozen=True)
class PersonRow:
    """One salesperson's funnel: customers per grade (in grade order) and, over the open
    grades, the count, weighted value and stuck customers; their live customers per
    lifecycle stage (``stages``, every stage in ``Lifecycle`` order)."""

    person: User
    counts: list[int]
    open: int
    weighted: Decimal
    stuck: int
    stages: dict[str, int]


@dataclass(frozen=True)
class TeamRow:
    """The people rows of one team summed (``team`` None: people without a team)."""

    team: Team | None
    people: int
    counts: list[int]
    open: int
    weighted: Decimal
    stuck: int
    stages: dict[str, int]


@dataclass(frozen=True)
class Movement:
    """This week's customers: new, moved up or down, won and lost."""

    new: int
    up: int
    down: int
    won: int
    lost: int


@dataclass(frozen=True)
class FunnelDashboard:
    """Everything the funnel dashboard shows; its API and the weekly meeting read it too."""

    scope: Scope
    grades: list[Grade]
    rows: list[GradeRow]
    quota: Decimal
    open_count: int
    people: list[PersonRow]
    concentration: WonConcentration | None
    teams: list[TeamRow]
    movement: Movement
    week_start: date
    stuck: list[Customer]
    stuck_count: int
    periods: list[PeriodTarget]
    rates: list[StageRate]
    diagnosis: diagnosis.Diagnosis
    recent_orders: int
    # The scope's live customers per lifecycle stage (pool customers included).
    stages: dict[str, int]


# The grade table: its page, the first rows of its export and the API's ``grades``.
FUNNEL_COLUMNS = (
    Column("code", _("Grade"), Kind.GRADE, source="grade"),
    Column(
        "probability",
        _("Probability (%)"),
        Kind.PERCENT,
        source="grade.probability",
        heading=_("Probability"),
        api=False,
    ),
    Column("kind", "kind", source="grade.kind", page=False, export=False),
    Column("count", _("Customers"), Kind.COUNT),
    Column("expected", _("Expected value"), Kind.MONEY),
    Column("weighted", _("Weighted value"), Kind.MONEY),
    Column("stuck", _("Stuck"), Kind.COUNT),
)


def _live_totals(scope: Scope) -> list[dict]:
    """The scope's live customers per (owner, grade): count, expected and weighted value,
    summed from the customer tally (about a thousand rows, not every customer)."""
    return list(
        customer_tally_visible_to(scope.viewer).filter(scope.q("owner")).totals("owner_id", "grade_id")
    )


@dataclass(frozen=True)
class _CustomerCounts:
    stuck: dict[tuple, int]  # (owner id, grade id) → stuck live customers
    stages: dict[tuple, int]  # (owner id, lifecycle stage) → live customers
    new: dict[str, int]  # period kind → customers created in it


def _customer_counts(scope: Scope, now: datetime, periods: list[Period]) -> _CustomerCounts:
    """Stuck live customers per (owner, grade), live customers per (owner, lifecycle
    stage), and the customers created in each of ``periods`` (nested: the year comes
    last) whatever became of them since, in one query: the stuck rows, the stage rows
    (their ``stage`` set) and one row of new-customer counts (its ``n`` empty). Each part
    reads an index alone: ``customer_live_stagnant_idx``, ``customer_owner_lifecycle_idx``,
    and the creation dates in ``customer_created_idx`` (the company) or
    ``customer_owner_grade_idx`` (owners)."""
    customers = Customer.objects.visible_to(scope.viewer).filter(scope.q("owner")).order_by()
    no_id = Value(None, output_field=IntegerField())
    no_stage = Value(None, output_field=CharField())
    no_new = {f"new_{period.kind}": Value(0) for period in periods}
    stuck = (
        customers.stuck(now)
        .values(owner_pk=F("owner_id"), grade_pk=F("grade_id"), stage=no_stage)
        .annotate(n=Count("*"), **no_new)
    )
    # Past buyers only (a fifth of the customers): the prospects are the rest of the
    # tally's live customers (``_with_prospects``).
    stages = (
        customers.live()
        .exclude(lifecycle=Lifecycle.PROSPECT)
        .values(owner_pk=F("owner_id"), grade_pk=no_id, stage=F("lifecycle"))
        .annotate(n=Count("*"), **no_new)
    )
    year = periods[-1]
    new = (
        customers.filter(created_at__gte=year.start_at, created_at__lt=year.end_at)
        .values(owner_pk=no_id, grade_pk=no_id, stage=no_stage)
        .annotate(
            n=no_id,
            **{
                f"new_{period.kind}": Count(
                    "created_at", filter=Q(created_at__gte=period.start_at, created_at__lt=period.end_at)
                )
                for period in periods
            },
        )
    )
    counts = _CustomerCounts(stuck={}, stages={}, new={})
    for row in stuck.union(stages, new, all=True):
        if row["n"] is None:
            counts.new.update({period.kind: row[f"new_{period.kind}"] for period in periods})
        elif row["stage"] is not None:
            counts.stages[(row["owner_pk"], row["stage"])] = row["n"]
        else:
            counts.stuck[(row["owner_pk"], row["grade_pk"])] = row["n"]
    return counts


def _with_prospects(stage_counts: dict[tuple, int], per_owner: dict) -> dict[tuple, int]:
    """The stage counts with each owner's prospects: their live customers (the tally's,
    every grade) less those at a later stage."""
    later: dict = defaultdict(int)
    for (owner_id, _stage), n in stage_counts.items():
        later[owner_id] += n
    counts = dict(stage_counts)
    for owner_id, entry in per_owner.items():
        counts[(owner_id, Lifecycle.PROSPECT.value)] = sum(entry.counts.values()) - later[owner_id]
    return counts


def _stage_totals(stage_counts: dict[tuple, int]) -> dict[str, int]:
    """The per-owner stage counts summed: every stage, in ``Lifecycle`` order."""
    totals = dict.fromkeys(Lifecycle.values, 0)
    for (_owner_id, stage), n in stage_counts.items():
        totals[stage] += n
    return totals


def _per_team(people: list[PersonRow]) -> list[TeamRow]:
    """The per-salesperson rows summed by each person's own team, in team name order
    (people without a team last)."""
    by_team: dict = defaultdict(list)
    for entry in people:
        by_team[entry.person.team].append(entry)
    teams = [
        TeamRow(
            team=team,
            people=len(members),
            counts=[sum(column) for column in zip(*(entry.counts for entry in members), strict=True)],
            open=sum(entry.open for entry in members),
            weighted=sum((entry.weighted for entry in members), ZERO),
            stuck=sum(entry.stuck for entry in members),
            stages={stage: sum(entry.stages[stage] for entry in members) for stage in Lifecycle.values},
        )
        for team, members in by_team.items()
    ]
    return sorted(teams, key=lambda row: (row.team is None, row.team and row.team.name))


def _movement(flows: dict, monday: date, grades: dict[int, Grade]) -> Movement:
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
    return Movement(**moves)


def funnel_dashboard(scope: Scope) -> FunnelDashboard:
    """Everything the funnel dashboard shows, in a fixed number of queries: grades (1),
    the live totals per owner and grade from the customer tally (1), stuck and new
    customers and customers per lifecycle stage (1), people of the scope and the
    concentration guard's settings (2), the stuck list (1), orders for the month,
    quarter and year (1), targets (1), and the grade flows of the last 180 days — rollup
    rows plus the live rest — which give both the conversion rates and this week's
    movement (2)."""
    now, day = timezone.now(), today()
    grades = list(Grade.objects.order_by("order"))
    periods = [period_for(kind, day) for kind in (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR)]
    counts = _customer_counts(scope, now, periods)
    rows, per_owner = _per_grade_and_owner(scope, grades, counts.stuck)
    stage_counts = _with_prospects(counts.stages, per_owner)
    open_rows = [row for row in rows if row.grade.is_open]
    quota = sum((row.weighted for row in open_rows), ZERO)
    people = [] if scope.kind == ScopeKind.OWNER else _people_rows(scope, grades, per_owner, stage_counts)
    targets, recent_orders = quota_vs_target(
        scope, periods=periods, day=day, quota=quota, new_customers=counts.new
    )
    rate_start, rate_end = trailing_window()
    flows = grade_flows(scope, rate_start, rate_end, by_week=True)
    rates = conversion_rates(scope, rate_start, rate_end, grades, flows)
    return FunnelDashboard(
        scope=scope,
        grades=grades,
        rows=rows,
        quota=quota,
        open_count=sum(row.count for row in open_rows),
        people=people,
        concentration=_won_concentration(people, grades),
        # The whole company's 200 salespeople make a long table: it lists teams, each a
        # link to that team's dashboard, which lists its people.
        teams=_per_team(people) if scope.kind == ScopeKind.COMPANY else [],
        movement=_movement(flows, week_start(day), {grade.pk: grade for grade in grades}),
        week_start=week_start(day),
        stuck=list(scope_customers(scope).stuck(now).order_by("stagnant_from", "pk")[:LIST_LIMIT]),
        stuck_count=sum(row.stuck for row in open_rows),
        periods=targets,
        rates=rates,
        diagnosis=_diagnosis(open_rows, rates, recent_orders),
        recent_orders=recent_orders,
        stages=_stage_totals(stage_counts),
    )


def _diagnosis(open_rows: list[GradeRow], rates: list[StageRate], recent_orders: int) -> diagnosis.Diagnosis:
    """The shape diagnosis of the open grades' counts at the conversion rates now."""
    layers = [
        diagnosis.Layer(row.grade.code, row.count, rate.rate, rate.is_measured)
        for row, rate in zip(open_rows, rates, strict=True)
    ]
    return diagnosis.diagnose(layers, recent_orders)


@dataclass
class _OwnerTotals:
    """A person's live customers: count per grade; open count, weighted value and stuck
    over the open grades only."""

    counts: dict[int, int] = field(default_factory=dict)
    count: int = 0
    weighted: Decimal = ZERO
    stuck: int = 0


def _per_grade_and_owner(
    scope: Scope, grades: list[Grade], stuck_counts: dict[tuple, int]
) -> tuple[list[GradeRow], dict[int, _OwnerTotals]]:
    """The live totals summed two ways in one pass over the tally: per grade (count,
    expected and weighted value, stuck) for the funnel rows, and per owner for the people
    table — a won or lost customer is no one's pipeline."""
    per_grade = {g.pk: {"count": 0, "expected": ZERO, "weighted": ZERO, "stuck": 0} for g in grades}
    per_owner: dict[int, _OwnerTotals] = defaultdict(_OwnerTotals)
    open_ids = {grade.pk for grade in grades if grade.is_open}
    for row in _live_totals(scope):
        if not row["count"]:
            continue
        stuck = stuck_counts.get((row["owner_id"], row["grade_id"]), 0)
        totals = per_grade[row["grade_id"]]
        totals["count"] += row["count"]
        totals["expected"] += row["expected"]
        totals["weighted"] += row["weighted"]
        totals["stuck"] += stuck
        owner = per_owner[row["owner_id"]]
        owner.counts[row["grade_id"]] = row["count"]
        if row["grade_id"] in open_ids:
            owner.count += row["count"]
            owner.weighted += row["weighted"]
            owner.stuck += stuck
    return [GradeRow(grade=grade, **per_grade[grade.pk]) for grade in grades], per_owner


def _people_rows(
    scope: Scope, grades: list[Grade], per_owner: dict[int, _OwnerTotals], stage_counts: dict[tuple, int]
) -> list[PersonRow]:
    """One row per person of the scope, also those with no customers (they show as zeros,
    so a manager sees who has an empty funnel)."""
    people = []
    for person in scope_people(scope):
        entry = per_owner.get(person.pk) or _OwnerTotals()
        people.append(
            PersonRow(
                person=person,
                counts=[entry.counts.get(g.pk, 0) for g in grades],
                open=entry.count,
                weighted=entry.weighted,
                stuck=entry.stuck,
                stages={stage: stage_counts.get((person.pk, stage), 0) for stage in Lifecycle.values},
            )
        )
    return people


def _won_concentration(people: list[PersonRow], grades: list[Grade]) -> WonConcentration | None:
    """The concentration guard over the scope's people (none for one salesperson's
    funnel), from the per-person counts the dashboard has already, plus the settings row."""
    if not people:
        return None
    won = [index for index, grade in enumerate(grades) if grade.kind == GradeKind.WON]
    return won_concentration(
        {entry.person: sum(entry.counts[index] for index in won) for entry in people},
        FunnelSettings.load(),
    )


def chart_data(dashboard: FunnelDashboard) -> dict:
    """What static/js/charts.js draws (passed through ``json_script``)."""
    return {
        "grades": [
            {
                "code": row.grade.code,
                "name": row.grade.display_name,
                "kind": row.grade.kind,
                "count": row.count,
                "weighted": float(row.weighted),
            }
            for row in dashboard.rows
        ],
    }

"""The forecast (预测): what a salesperson, a team or the company will sign this month and
quarter and next — closed, commit, best case and pipeline beside the weighted value and
the target — how it moved week by week, what slipped, and whose word to trust.

Open customers count in the period holding their expected signing date, under their
effective forecast category (``crm.models.effective_forecast_category``: the owner's
choice, else the grade's default). Omitted customers count nowhere.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, DateField, ExpressionWrapper, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.translation import gettext_lazy as _

from core.models import ForecastCategory, GradeKind
from crm.models import Customer, Order, Team, User, effective_forecast_category

from ..columns import Column, Kind
from ..models import ForecastAdjustment, ForecastSnapshot, Target
from ..periods import Period, PeriodKind, period_for, today, week_start
from .figures import ZERO, pct
from .scope import Scope, ScopeKind, scope_customers, scope_people
from .targets import _targets_for, target_status

# The categories a forecast sums, most certain first; omitted customers are left out.
COUNTED = (ForecastCategory.COMMIT, ForecastCategory.BEST_CASE, ForecastCategory.PIPELINE)
# Weeks of snapshots the page shows; slips counted over the same window.
HISTORY_WEEKS = 13
# A commit whose signing date moved out of its month this many times is slipping.
SLIPPING_AFTER_MOVES = 2
# Customers a drill-down, a list of moves or of commit alerts shows at most.
DRILL_LIMIT = 200
# Accuracy: over the last complete periods of this many months...
ACCURACY_PERIODS = 4
# ...and a bias within ± this percentage of the forecast is "on target".
BIAS_TOLERANCE = Decimal(5)


def forecast_periods(day: date) -> list[Period]:
    """This month, next month, this quarter and next quarter, from ``day``."""
    month = period_for(PeriodKind.MONTH, day)
    quarter = period_for(PeriodKind.QUARTER, day)
    return [
        month,
        period_for(PeriodKind.MONTH, month.end),
        quarter,
        period_for(PeriodKind.QUARTER, quarter.end),
    ]


@dataclass
class ForecastFigures:
    """One subject's forecast of one period, in yuan."""

    closed: Decimal = ZERO
    commit: Decimal = ZERO
    best_case: Decimal = ZERO
    pipeline: Decimal = ZERO
    weighted: Decimal = ZERO  # Σ value × probability of the three counted categories
    commit_customers: int = 0

    def add(self, other: "ForecastFigures") -> None:
        for name in ("closed", "commit", "best_case", "pipeline", "weighted", "commit_customers"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class ForecastRow:
    """A person's, a team's or the whole scope's forecast of a period, against its target,
    and the manager's latest adjustment of the commit beside (never over) it."""

    kind: str  # "person", "team" or "total"
    name: str
    subject_id: int | None
    period: Period
    figures: ForecastFigures
    target: Decimal | None
    adjustment: ForecastAdjustment | None = None

    @property
    def period_label(self) -> str:
        return self.period.label

    @property
    def adjusted(self) -> Decimal | None:
        return self.adjustment.amount if self.adjustment else None

    @property
    def adjustment_note(self) -> str:
        return self.adjustment.note if self.adjustment else ""

    @property
    def forecast(self) -> Decimal:
        """Closed plus the commit (the manager's figure when adjusted): what will be signed."""
        commit = self.adjusted if self.adjustment else self.figures.commit
        return self.figures.closed + commit

    @property
    def percentage(self) -> Decimal | None:
        return target_status(self.forecast, self.target)[0]

    @property
    def status(self) -> str:
        return target_status(self.forecast, self.target)[1]


@dataclass(frozen=True)
class ForecastReport:
    periods: list[Period]
    period: Period  # the period of the people and team tables
    totals: list[ForecastRow]  # the scope, one per period
    people: list[ForecastRow]
    teams: list[ForecastRow]


FORECAST_COLUMNS = (
    Column("id", "id", Kind.ID, source="subject_id", page=False, export=False),
    Column("kind", "kind", page=False, export=False),
    Column("name", _("Salesperson / team")),
    Column("period", _("Period"), source="period_label"),
    Column("closed", _("Closed"), Kind.MONEY, source="figures.closed"),
    Column("commit", _("Commit"), Kind.MONEY, source="figures.commit"),
    Column(
        "commit_customers", _("Commit customers"), Kind.COUNT, source="figures.commit_customers", page=False
    ),
    Column("best_case", _("Best case"), Kind.MONEY, source="figures.best_case"),
    Column("pipeline", _("Pipeline"), Kind.MONEY, source="figures.pipeline"),
    Column("weighted", _("Weighted value"), Kind.MONEY, source="figures.weighted", heading=_("Weighted")),
    Column("adjusted", _("Adjusted commit"), Kind.MONEY, heading=_("Adjusted")),
    Column("adjustment_note", _("Adjustment note"), heading=_("Note")),
    Column("forecast", _("Forecast (closed + commit)"), Kind.MONEY, heading=_("Forecast")),
    Column("target", _("Target"), Kind.MONEY),
    Column("percentage", _("Of target (%)"), Kind.PERCENT, heading="%"),
    Column("status", _("Status"), Kind.STATUS),
)


def _open_figures(scope: Scope, periods: list[Period]) -> dict[int, list[ForecastFigures]]:
    """Per owner, per period: the open customers' sums by effective category. One query,
    grouped by (owner, category) with one filtered sum per period."""
    aggregates = {}
    for index, period in enumerate(periods):
        inside = Q(expected_signing_on__gte=period.start, expected_signing_on__lt=period.end)
        aggregates[f"value_{index}"] = Coalesce(Sum("expected_value", filter=inside), ZERO)
        aggregates[f"weighted_{index}"] = Coalesce(Sum("weighted_value", filter=inside), ZERO)
        aggregates[f"customers_{index}"] = Count("pk", filter=inside)
    rows = (
        scope_customers(scope)
        .filter(
            owner__isnull=False,
            grade__kind=GradeKind.OPEN,
            expected_signing_on__gte=min(period.start for period in periods),
            expected_signing_on__lt=max(period.end for period in periods),
        )
        .annotate(category=effective_forecast_category())
        .filter(category__in=COUNTED)
        .order_by()
        .values("owner_id", "category")
        .annotate(**aggregates)
    )
    result: dict[int, list[ForecastFigures]] = defaultdict(lambda: [ForecastFigures() for _ in periods])
    for row in rows:
        for index, figures in enumerate(result[row["owner_id"]]):
            setattr(figures, row["category"], getattr(figures, row["category"]) + row[f"value_{index}"])
            figures.weighted += row[f"weighted_{index}"]
            if row["category"] == ForecastCategory.COMMIT:
                figures.commit_customers += row[f"customers_{index}"]
    return result


def _closed(scope: Scope, periods: list[Period]) -> dict[int, list[Decimal]]:
    """Per owner, per period: the amount of the orders signed in it. One query."""
    aggregates = {
        f"amount_{index}": Coalesce(
            Sum("amount", filter=Q(signed_on__gte=period.start, signed_on__lt=period.end)), ZERO
        )
        for index, period in enumerate(periods)
    }
    rows = (
        Order.objects.filter(scope.q("owner"), owner__isnull=False)
        .filter(
            signed_on__gte=min(period.start for period in periods),
            signed_on__lt=max(period.end for period in periods),
        )
        .order_by()
        .values("owner_id")
        .annotate(**aggregates)
    )
    return {row["owner_id"]: [row[f"amount_{index}"] for index in range(len(periods))] for row in rows}


def _adjustments(periods: list[Period], owner_ids, team_ids) -> dict[tuple, ForecastAdjustment]:
    """The latest adjustment per (("owner" | "team", id), kind, start). One query."""
    period_q = Q()
    for period in periods:
        period_q |= Q(period_kind=period.kind, period_start=period.start)
    rows = ForecastAdjustment.objects.filter(period_q).filter(
        Q(owner_id__in=owner_ids) | Q(team_id__in=team_ids)
    )
    latest = {}
    for adjustment in rows.order_by("created_at", "pk"):  # the latest wins
        subject = ("owner", adjustment.owner_id) if adjustment.owner_id else ("team", adjustment.team_id)
        latest[(subject, adjustment.period_kind, adjustment.period_start)] = adjustment
    return latest


def _subject_targets(period: Period, owner_ids, team_ids) -> dict[tuple, Decimal]:
    """Sales targets of the people and teams of the table's period. One query."""
    targets = Target.objects.filter(period_kind=period.kind, period_start=period.start).filter(
        Q(owner_id__in=owner_ids) | Q(team_id__in=team_ids)
    )
    return {(("owner", t.owner_id) if t.owner_id else ("team", t.team_id)): t.sales_amount for t in targets}


def _scope_subject(scope: Scope) -> tuple | None:
    """Whose adjustment the scope's total shows: one person's or one team's, as
    ("owner", pk) or ("team", pk) (the scope's own parameters)."""
    return next(iter(scope.as_params().items()), None)


def forecast_report(scope: Scope, *, day: date | None = None, period_index: int = 0) -> ForecastReport:
    """The forecast of ``scope`` for this and next month and quarter (the scope's totals)
    and, for ``periods[period_index]``, per salesperson and per (direct) team.
    Queries: people (1), open customers grouped (1), orders grouped (1), the scope's
    targets (1), people's and teams' targets (1), adjustments (1)."""
    periods = forecast_periods(day or today())
    period = periods[period_index]
    people = list(scope_people(scope))
    open_figures = _open_figures(scope, periods)
    closed = _closed(scope, periods)
    totals = [ForecastFigures() for _ in periods]
    for owner_id in set(open_figures) | set(closed):
        for index, figures in enumerate(_owner_figures(open_figures, closed, owner_id, len(periods))):
            totals[index].add(figures)
    team_ids = {person.team_id for person in people if person.team_id}
    if scope.kind == ScopeKind.TEAM:
        team_ids.add(scope.team.pk)
    owner_ids = [person.pk for person in people]
    adjustments = _adjustments(periods, owner_ids, team_ids)
    scope_targets = _targets_for(scope, periods)
    subject = _scope_subject(scope)
    total_rows = [
        ForecastRow(
            kind="total",
            name=scope.label or str(_("All")),
            subject_id=subject[1] if subject else None,
            period=each,
            figures=totals[index],
            target=scope_targets.get((each.kind, each.start), {}).get("sales_amount"),
            adjustment=adjustments.get((subject, each.kind, each.start)) if subject else None,
        )
        for index, each in enumerate(periods)
    ]
    people_rows, team_rows = _subject_rows(
        people, periods, period_index, open_figures, closed, adjustments, team_ids
    )
    return ForecastReport(
        periods=periods, period=period, totals=total_rows, people=people_rows, teams=team_rows
    )


def _owner_figures(open_figures, closed, owner_id: int, count: int) -> list[ForecastFigures]:
    """An owner's figures per period: the open customers' with the closed orders added."""
    figures = [ForecastFigures(**vars(each)) for each in open_figures.get(owner_id, [])] or [
        ForecastFigures() for _ in range(count)
    ]
    for index, amount in enumerate(closed.get(owner_id, [ZERO] * count)):
        figures[index].closed = amount
    return figures


def _subject_rows(people, periods, index, open_figures, closed, adjustments, team_ids) -> tuple[list, list]:
    """The rows of ``periods[index]`` per person and per team (its members summed)."""
    period = periods[index]
    targets = _subject_targets(period, [person.pk for person in people], team_ids)
    people_rows, teams = [], {}
    for person in people:
        figures = _owner_figures(open_figures, closed, person.pk, len(periods))[index]
        key = ("owner", person.pk)
        people_rows.append(
            ForecastRow(
                kind="person",
                name=person.display_name,
                subject_id=person.pk,
                period=period,
                figures=figures,
                target=targets.get(key),
                adjustment=adjustments.get((key, period.kind, period.start)),
            )
        )
        if person.team_id:
            team, summed = teams.setdefault(person.team_id, (person.team, ForecastFigures()))
            summed.add(figures)
    team_rows = [
        ForecastRow(
            kind="team",
            name=str(team),
            subject_id=team.pk,
            period=period,
            figures=summed,
            target=targets.get(("team", team.pk)),
            adjustment=adjustments.get((("team", team.pk), period.kind, period.start)),
        )
        for team, summed in sorted(teams.values(), key=lambda pair: str(pair[0]))
    ]
    return people_rows, team_rows


# --- Drill down: the customers behind a number --------------------------------------------------------


@dataclass(frozen=True)
class ForecastLine:
    """A customer behind a forecast number (or, for "closed", an order)."""

    customer: Customer
    owner_name: str
    category: str
    signing_on: date | None
    value: Decimal
    weighted: Decimal | None

    @property
    def name(self) -> str:
        return self.customer.name

    @property
    def category_label(self) -> str:
        return (
            ForecastCategory(self.category).label if self.category in ForecastCategory.values else _("Closed")
        )


DRILL_COLUMNS = (
    Column("id", "id", Kind.ID, source="customer.pk", page=False, export=False),
    Column("name", _("Customer")),
    Column("owner", _("Owner"), source="owner_name"),
    Column("category", _("Forecast category"), source="category_label"),
    Column("signing_on", _("Signing date")),
    Column("value", _("Value"), Kind.MONEY),
    Column("weighted", _("Weighted value"), Kind.MONEY),
)
CLOSED = "closed"


def forecast_lines(scope: Scope, period: Period, category: str) -> list[ForecastLine]:
    """The customers behind one number of the scope's forecast: those of ``category``
    signing in ``period``, or the orders signed in it for "closed"; biggest first, at most
    ``DRILL_LIMIT``. One query."""
    if category == CLOSED:
        orders = (
            Order.objects.filter(scope.q("owner"), owner__isnull=False)
            .filter(
                signed_on__gte=period.start, signed_on__lt=period.end, customer__in=scope_customers(scope)
            )
            .select_related("customer", "owner")
            .order_by("-amount", "pk")[:DRILL_LIMIT]
        )
        return [
            ForecastLine(
                order.customer, order.owner.display_name, CLOSED, order.signed_on, order.amount, None
            )
            for order in orders
        ]
    customers = (
        scope_customers(scope)
        .filter(
            owner__isnull=False,
            grade__kind=GradeKind.OPEN,
            expected_signing_on__gte=period.start,
            expected_signing_on__lt=period.end,
        )
        .annotate(category=effective_forecast_category())
        .filter(category=category)
        .select_related("owner", "grade")
        .order_by("-expected_value", "pk")[:DRILL_LIMIT]
    )
    return [
        ForecastLine(
            customer,
            customer.owner.display_name,
            category,
            customer.expected_signing_on,
            customer.expected_value,
            customer.weighted_value,
        )
        for customer in customers
    ]


# --- Week by week, slips ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastWeek:
    """The scope's forecast of a period as frozen on a Monday."""

    week_start: date
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    weighted: Decimal


def forecast_weeks(scope: Scope, period: Period, *, day: date | None = None) -> list[ForecastWeek]:
    """How the scope's forecast of ``period`` moved over the last ``HISTORY_WEEKS`` weekly
    snapshots. One grouped query on the snapshots."""
    since = week_start(day or today()) - timedelta(weeks=HISTORY_WEEKS - 1)
    rows = (
        ForecastSnapshot.objects.filter(scope.q("owner"))
        .filter(
            week_start__gte=since, expected_signing_on__gte=period.start, expected_signing_on__lt=period.end
        )
        .order_by()
        .values("week_start", "category")
        .annotate(value=Sum("expected_value"), weighted=Sum("weighted_value"))
    )
    weeks: dict[date, dict] = defaultdict(lambda: dict.fromkeys((*COUNTED, "weighted"), ZERO))
    for row in rows:
        weeks[row["week_start"]][row["category"]] += row["value"]
        weeks[row["week_start"]]["weighted"] += row["weighted"]
    return [
        ForecastWeek(
            week_start=monday,
            commit=sums[ForecastCategory.COMMIT],
            best_case=sums[ForecastCategory.BEST_CASE],
            pipeline=sums[ForecastCategory.PIPELINE],
            weighted=sums["weighted"],
        )
        for monday, sums in sorted(weeks.items())
    ]


@dataclass(frozen=True)
class ForecastMove:
    """A customer whose signing date left the period since the last snapshot ("slipped")
    or came into it ("pulled in")."""

    customer: Customer
    direction: str  # "slipped" or "pulled_in"
    was_on: date
    now_on: date | None


def forecast_moves(scope: Scope, period: Period) -> list[ForecastMove]:
    """Customers of the scope that slipped out of ``period`` or were pulled into it since
    the latest weekly snapshot: the snapshot's signing date against the customer's now.
    One query: the moved rows of the latest week, with their customers."""
    latest = (
        ForecastSnapshot.objects.filter(scope.q("owner")).order_by("-week_start").values("week_start")[:1]
    )
    inside_then = Q(expected_signing_on__gte=period.start, expected_signing_on__lt=period.end)
    later_now = Q(customer__expected_signing_on__gte=period.end) | Q(
        customer__expected_signing_on__isnull=True
    )
    inside_now = Q(
        customer__expected_signing_on__gte=period.start, customer__expected_signing_on__lt=period.end
    )
    rows = (
        ForecastSnapshot.objects.filter(scope.q("owner"), week_start=Subquery(latest))
        .filter((inside_then & later_now) | (Q(expected_signing_on__gte=period.end) & inside_now))
        .filter(customer__archived_at__isnull=True)
        .select_related("customer")
        .order_by("expected_signing_on", "pk")[:DRILL_LIMIT]
    )
    return [
        ForecastMove(
            customer=row.customer,
            direction="slipped" if period.start <= row.expected_signing_on < period.end else "pulled_in",
            was_on=row.expected_signing_on,
            now_on=row.customer.expected_signing_on,
        )
        for row in rows
    ]


# --- Stuck and slipping commits ------------------------------------------------------------------


@dataclass(frozen=True)
class CommitAlert:
    """A commit to ask about: its signing date has passed ("stuck"), or it moved out of
    its month ``SLIPPING_AFTER_MOVES`` times in the weekly snapshots ("slipping")."""

    customer: Customer
    reason: str  # "stuck" or "slipping"
    moves: int


def commit_alerts(scope: Scope, *, day: date | None = None) -> list[CommitAlert]:
    """The scope's stuck or slipping commits, most overdue first, for the manager's alerts
    and the weekly report. A commit moved out as many times as the earlier months its
    signing date stood in at the last ``HISTORY_WEEKS`` weekly snapshots. One query: the
    open commits, each with that count as a subquery."""
    day = day or today()
    earlier_months = (
        ForecastSnapshot.objects.filter(
            customer_id=OuterRef("pk"),
            week_start__gte=week_start(day) - timedelta(weeks=HISTORY_WEEKS - 1),
            expected_signing_on__lt=TruncMonth(
                ExpressionWrapper(OuterRef("expected_signing_on"), DateField())
            ),
        )
        .order_by()
        .values("customer_id")
        .annotate(months=Count(TruncMonth("expected_signing_on"), distinct=True))
        .values("months")
    )
    commits = (
        scope_customers(scope)
        .filter(owner__isnull=False, grade__kind=GradeKind.OPEN, expected_signing_on__isnull=False)
        .annotate(category=effective_forecast_category(), moves=Coalesce(Subquery(earlier_months), 0))
        .filter(category=ForecastCategory.COMMIT)
        .filter(Q(expected_signing_on__lt=day) | Q(moves__gte=SLIPPING_AFTER_MOVES))
        .select_related("owner")
        .order_by("expected_signing_on", "pk")[:DRILL_LIMIT]
    )
    return [
        CommitAlert(customer, "stuck" if customer.expected_signing_on < day else "slipping", customer.moves)
        for customer in commits
    ]


# --- Accuracy ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccuracyRow:
    """How well a salesperson's commit, and the plain weighted value, foretold what they
    signed over the last complete months: the mean over every weekly snapshot of a month
    of 1 − |forecast − signed| ÷ forecast (in %), and the bias (Σ forecast − signed ÷ Σ
    forecast): "over" when they promise more than they sign, "under" when less."""

    person: User
    team: Team | None
    snapshots: int
    committed: Decimal  # Σ over the snapshots
    signed: Decimal  # Σ over the same snapshots (each compared with its month's orders)
    commit_accuracy: Decimal | None
    commit_bias: str
    weighted_accuracy: Decimal | None
    weighted_bias: str

    @property
    def name(self) -> str:
        return self.person.display_name

    @property
    def team_name(self) -> str:
        return str(self.team or "")

    @property
    def commit_bias_label(self) -> str:
        return str(BIAS_LABELS.get(self.commit_bias, ""))

    @property
    def weighted_bias_label(self) -> str:
        return str(BIAS_LABELS.get(self.weighted_bias, ""))


BIAS_LABELS = {
    "over": _("over-forecast"),
    "under": _("under-forecast"),
    "on_target": _("on target"),
}
ACCURACY_COLUMNS = (
    Column("id", "id", Kind.ID, source="person.pk", page=False, export=False),
    Column("name", _("Salesperson")),
    Column("team", _("Team"), source="team_name"),
    Column("snapshots", _("Weekly snapshots"), Kind.COUNT),
    Column("commit_accuracy", _("Commit accuracy (%)"), Kind.PERCENT),
    Column("commit_bias", "commit_bias", page=False, export=False),
    Column("commit_bias_label", _("Commit bias"), api=False),
    Column("weighted_accuracy", _("Weighted value accuracy (%)"), Kind.PERCENT),
    Column("weighted_bias", "weighted_bias", page=False, export=False),
    Column("weighted_bias_label", _("Weighted value bias"), api=False),
)


def accuracy_periods(day: date, count: int = ACCURACY_PERIODS) -> list[Period]:
    """The last ``count`` complete months before ``day``'s, oldest first."""
    periods, month = [], period_for(PeriodKind.MONTH, day)
    for _each in range(count):
        month = period_for(PeriodKind.MONTH, month.start - timedelta(days=1))
        periods.insert(0, month)
    return periods


def accuracy(forecasts: list[tuple[Decimal, Decimal]]) -> tuple[Decimal | None, str]:
    """(mean accuracy in %, bias) of (forecast, signed) pairs; pairs forecasting nothing
    are left out. Bias: "over", "under" or "on_target" (within ``BIAS_TOLERANCE`` %)."""
    pairs = [(forecast, signed) for forecast, signed in forecasts if forecast > 0]
    if not pairs:
        return None, ""
    scores = [max(ZERO, 100 - pct(abs(forecast - signed), forecast)) for forecast, signed in pairs]
    mean = (sum(scores, ZERO) / len(scores)).quantize(Decimal("0.1"))
    total = sum((forecast for forecast, _signed in pairs), ZERO)
    bias = pct(sum((forecast - signed for forecast, signed in pairs), ZERO), total)
    if bias > BIAS_TOLERANCE:
        return mean, "over"
    if bias < -BIAS_TOLERANCE:
        return mean, "under"
    return mean, "on_target"


def forecast_accuracy(scope: Scope, *, day: date | None = None) -> list[AccuracyRow]:
    """Per salesperson of the scope, the accuracy and bias of their commit and of their
    weighted value at each weekly snapshot of the last ``ACCURACY_PERIODS`` complete
    months, against what they signed in that month. A snapshot belongs to the month
    holding its Monday and counts the customers it had signing in that month.
    Queries: people (1), snapshots grouped by (owner, week) (1), orders grouped (1)."""
    periods = accuracy_periods(day or today())
    people = list(scope_people(scope))
    ids = [person.pk for person in people]
    in_own_month = Q()
    for period in periods:
        in_own_month |= Q(
            week_start__gte=period.start,
            week_start__lt=period.end,
            expected_signing_on__gte=period.start,
            expected_signing_on__lt=period.end,
        )
    snapshots = (
        ForecastSnapshot.objects.filter(in_own_month, owner_id__in=ids)
        .order_by()
        .values("owner_id", "week_start")
        .annotate(
            committed=Coalesce(Sum("expected_value", filter=Q(category=ForecastCategory.COMMIT)), ZERO),
            weighted=Coalesce(Sum("weighted_value"), ZERO),
        )
    )
    signed = _closed_by_period(ids, periods)
    pairs: dict[int, list] = defaultdict(list)
    for row in snapshots:
        index = next(i for i, period in enumerate(periods) if period.start <= row["week_start"] < period.end)
        pairs[row["owner_id"]].append(
            (row["committed"], row["weighted"], signed.get((row["owner_id"], index), ZERO))
        )
    return [_accuracy_row(person, pairs[person.pk]) for person in people]


def _closed_by_period(ids: list[int], periods: list[Period]) -> dict[tuple[int, int], Decimal]:
    aggregates = {
        f"amount_{index}": Coalesce(
            Sum("amount", filter=Q(signed_on__gte=period.start, signed_on__lt=period.end)), ZERO
        )
        for index, period in enumerate(periods)
    }
    rows = (
        Order.objects.filter(owner_id__in=ids, signed_on__gte=periods[0].start, signed_on__lt=periods[-1].end)
        .order_by()
        .values("owner_id")
        .annotate(**aggregates)
    )
    return {(row["owner_id"], index): row[f"amount_{index}"] for row in rows for index in range(len(periods))}


def _accuracy_row(person: User, pairs: list[tuple[Decimal, Decimal, Decimal]]) -> AccuracyRow:
    commit_accuracy, commit_bias = accuracy([(committed, signed) for committed, _w, signed in pairs])
    weighted_accuracy, weighted_bias = accuracy([(weighted, signed) for _c, weighted, signed in pairs])
    return AccuracyRow(
        person=person,
        team=person.team,
        snapshots=len(pairs),
        committed=sum((committed for committed, _w, _s in pairs), ZERO),
        signed=sum((signed for _c, _w, signed in pairs), ZERO),
        commit_accuracy=commit_accuracy,
        commit_bias=commit_bias,
        weighted_accuracy=weighted_accuracy,
        weighted_bias=weighted_bias,
    )

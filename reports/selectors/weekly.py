"""The weekly manager report (a team's week from its rollup rows) and the rollups a user may list."""

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from activities import selectors as activities_selectors
from activities.models import Activity, DailyReport, MarketReport, MarketReportKind
from core.models import GradeKind
from crm import glossary
from crm.models import Customer, Order, Role, User

from ..columns import Column, Kind
from ..models import WeeklyManagerReport, WeeklyRollup
from ..periods import Period, PeriodKind, period_for, week_bounds
from .figures import LIST_LIMIT, ZERO, pct
from .forecast import CommitAlert, commit_alerts
from .scope import Scope, ScopeKind, scope_customers, scope_people
from .targets import _targets_for, target_status


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


@dataclass(frozen=True)
class WeeklyTotals:
    """The rollup columns the weekly report sums over the scope's salespeople (each field
    is a ``WeeklyRollup`` column); it is the export's last row."""

    new_customers: int = 0
    upgrades: int = 0
    won_customers: int = 0
    orders: int = 0
    order_amount: Decimal = ZERO
    gross_profit: Decimal = ZERO
    collections: Decimal = ZERO
    calls: int = 0
    visits: int = 0
    effective_visits: int = 0
    reports_submitted: int = 0
    reports_late: int = 0
    quota: Decimal = ZERO

    # The export's total row, under the salesperson column.
    salesperson = _("Total")

    @property
    def effective_visit_rate(self) -> Decimal | None:
        return pct(self.effective_visits, self.visits)

    @property
    def transaction_rate(self) -> Decimal | None:
        return pct(self.orders, self.visits)


@dataclass(frozen=True)
class WeeklyReport:
    week_start: date
    week_end: date
    rollups: list[WeeklyRollup]
    totals: WeeklyTotals
    average_sales: Decimal | None
    people: int
    month: Period
    month_actual: Decimal
    month_target: Decimal | None
    month_percentage: Decimal | None
    month_status: str
    stuck: list[Customer]
    overdue: list[Customer]
    complaints: list[MarketReport]
    competitor_news: list[Activity]
    late_reports: list[DailyReport]
    manager_report: WeeklyManagerReport | None
    accompanied_visits: list[dict] = field(default_factory=list)
    # Commits whose signing date passed by the week's end, or that keep slipping (as of now).
    commit_alerts: list[CommitAlert] = field(default_factory=list)

    @property
    def effective_visit_rate(self) -> Decimal | None:
        return self.totals.effective_visit_rate

    @property
    def transaction_rate(self) -> Decimal | None:
        return self.totals.transaction_rate


# The export's rows: each salesperson's rollup, then the totals (the page shows fewer).
WEEKLY_COLUMNS = (
    Column("salesperson", _("Salesperson"), api=False),
    Column("new_customers", glossary.NEW_CUSTOMERS, Kind.COUNT),
    Column("upgrades", _("Upgrades"), Kind.COUNT),
    Column("orders", _("Orders"), Kind.COUNT),
    Column("order_amount", _("Amount"), Kind.MONEY),
    Column("gross_profit", _("Gross profit"), Kind.MONEY),
    Column("collections", _("Collections"), Kind.MONEY),
    Column("calls", _("Calls"), Kind.COUNT),
    Column("visits", _("Visits"), Kind.COUNT),
    Column("effective_visit_rate", glossary.in_percent(glossary.EFFECTIVE_VISIT_RATE), Kind.PERCENT),
    Column("transaction_rate", glossary.in_percent(glossary.TRANSACTION_RATE), Kind.PERCENT),
    Column("reports_late", _("Reports late"), Kind.COUNT),
    Column("quota", _("Quota"), Kind.MONEY),
)
# The API's totals: every summed rollup column.
WEEKLY_TOTAL_COLUMNS = tuple(
    Column(total.name, total.name, Kind.MONEY if total.type is Decimal else Kind.COUNT)
    for total in fields(WeeklyTotals)
)


def weekly_report(scope: Scope, monday: date) -> WeeklyReport:
    """One team's week from its rollup rows, with the abnormal customers, complaints,
    competitor news and lateness of the week. Fixed queries."""
    start, end = week_bounds(monday)
    rollups = list(
        WeeklyRollup.objects.filter(scope.q("salesperson"), week_start=monday)
        .select_related("salesperson")
        .order_by("salesperson__username")
    )
    names = [total.name for total in fields(WeeklyTotals)]
    totals = WeeklyTotals(**{name: sum((getattr(row, name) for row in rollups), 0) for name in names})
    month = _month_so_far(scope, monday)
    people = month["people"]
    report = None
    if scope.kind == ScopeKind.TEAM:
        report = WeeklyManagerReport.objects.filter(team=scope.team, week_start=monday).first()
    return WeeklyReport(
        week_start=monday,
        week_end=monday + timedelta(days=6),
        rollups=rollups,
        totals=totals,
        average_sales=(Decimal(totals.order_amount) / people).quantize(Decimal("0.01")) if people else None,
        **month,
        **_week_exceptions(scope, monday),
        manager_report=report,
        accompanied_visits=activities_selectors.accompanied_visits(scope.q("visit__owner"), start, end),
        commit_alerts=commit_alerts(scope, day=monday + timedelta(days=7)),
    )


def _month_so_far(scope: Scope, monday: date) -> dict:
    """The month holding ``monday``: its sales so far against the scope's target, and the
    salespeople the week's average is taken over (two queries)."""
    month = period_for(PeriodKind.MONTH, monday)
    people, month_actual = _salespeople_and_sales(scope, month)
    targets = _targets_for(scope, [month]).get((month.kind, month.start), {})
    percentage, status = target_status(month_actual, targets.get("sales_amount"))
    return {
        "people": people,
        "month": month,
        "month_actual": month_actual,
        "month_target": targets.get("sales_amount"),
        "month_percentage": percentage,
        "month_status": status,
    }


def _week_exceptions(scope: Scope, monday: date) -> dict:
    """What needs the manager's attention that week, each list cut to a page: customers
    stuck or overdue at its end, complaints, competitor news and late daily reports."""
    start, end = week_bounds(monday)
    # Open = neither won nor lost: PostgreSQL misjudges "kind = open" on the tiny grade
    # table and would then intersect with the grade's index instead of walking each
    # owner's (owner, stagnant_from) / (owner, next_follow_up_on) index.
    customers = scope_customers(scope).exclude(grade__kind__in=[GradeKind.WON, GradeKind.LOST])
    week_q = Q(created_at__gte=start, created_at__lt=end)
    return {
        "stuck": list(customers.stuck(end).order_by("stagnant_from", "pk")[:LIST_LIMIT]),
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
    }


def rollups_visible_to(user: User) -> QuerySet[WeeklyRollup]:
    rollups = WeeklyRollup.objects.select_related("salesperson", "team")
    if user.is_admin:
        return rollups
    if user.is_manager:
        return rollups.filter(Q(salesperson_id=user.pk) | Q(salesperson__team_id__in=user.visible_team_ids))
    return rollups.filter(salesperson_id=user.pk)

"""Targets against actual sales: the rule that sums a scope's targets without counting a
team's twice, quota vs target per period and per person, and the targets a user may list."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from core.models import GradeKind
from crm.models import CustomerTally, Order, Team, User

from .. import diagnosis
from ..columns import Column, Kind
from ..models import Target, WeeklyRollup
from ..periods import Period, today, week_start
from .figures import ZERO, pct
from .scope import Scope, ScopeKind, scope_people

# Met from 100 % of the target, exceeded from this percentage.
EXCEEDED_FROM = Decimal(110)


def target_status(actual: Decimal, target: Decimal | None) -> tuple[Decimal | None, str]:
    """(percentage of the target, "met" / "exceeded" / "short" / "none")."""
    if not target:
        return None, "none"
    percentage = pct(actual, target)
    if percentage >= EXCEEDED_FROM:
        return percentage, "exceeded"
    return percentage, "met" if percentage >= 100 else "short"


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
    if scope.kind == ScopeKind.OWNER:
        targets = targets.filter(owner=scope.owner)
    elif scope.kind == ScopeKind.TEAM:
        targets = targets.filter(Q(team_id__in=scope.team_ids) | Q(owner__team_id__in=scope.team_ids))
    elif scope.kind == ScopeKind.MINE:
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
            scope.kind != ScopeKind.OWNER
            and target.owner_id is not None
            and (target.owner_team_id, target.period_kind, target.period_start) in team_has_target
        ):
            continue
        bucket = result.setdefault((target.period_kind, target.period_start), dict.fromkeys(names, ZERO))
        for name in names:
            bucket[name] += getattr(target, name)
    return result


@dataclass(frozen=True)
class PeriodTarget:
    """One period's actual against its target (sales, gross profit, collections, new
    customers), beside the quota now."""

    period: Period
    actual: Decimal
    target: Decimal | None
    percentage: Decimal | None
    status: str
    quota: Decimal
    gross_profit: Decimal
    gross_profit_target: Decimal | None
    collections: Decimal
    collections_target: Decimal | None
    new_customers: int
    new_customers_target: int | None


def quota_vs_target(
    scope: Scope, *, periods: list[Period], day: date, quota: Decimal, new_customers: dict[str, int]
) -> tuple[list[PeriodTarget], int]:
    """Actual vs target for ``periods`` (the month, quarter and year holding ``day``):
    orders (one query) and targets (one), beside the new customers counted by the
    caller; and the count of orders in the last 30 days (for the shape diagnosis)."""
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
            PeriodTarget(
                period=period,
                actual=actual,
                target=target.get("sales_amount"),
                percentage=percentage,
                status=status,
                quota=quota,
                gross_profit=orders[f"{period.kind}_profit"],
                gross_profit_target=target.get("gross_profit"),
                collections=orders[f"{period.kind}_collections"],
                collections_target=target.get("collections"),
                new_customers=new_customers[period.kind],
                new_customers_target=target.get("new_customers"),
            )
        )
    return rows, orders["recent"]


@dataclass(frozen=True)
class QuotaRow:
    """A salesperson's actual sales against their target, and their quota."""

    person: User
    team: Team | None
    orders: int
    actual: Decimal
    target: Decimal | None
    percentage: Decimal | None
    status: str
    quota: Decimal

    @property
    def name(self) -> str:
        return self.person.display_name

    @property
    def team_name(self) -> str:
        return str(self.team or "")


@dataclass(frozen=True)
class TeamQuotaRow:
    """A team's members summed, against the team's own target (else its members')."""

    team: Team
    actual: Decimal
    target: Decimal | None
    percentage: Decimal | None
    status: str
    quota: Decimal

    @property
    def name(self) -> str:
        return str(self.team)

    # The export lists the teams under the people, marked in the team column, without orders.
    team_name = _("Team")
    orders = None


@dataclass(frozen=True)
class QuotaReport:
    period: Period
    rows: list[QuotaRow]
    teams: list[TeamQuotaRow]


QUOTA_COLUMNS = (
    Column("id", "id", Kind.ID, source="person.pk", page=False, export=False),
    Column("username", "username", source="person.username", page=False, export=False),
    Column("name", _("Salesperson / team"), heading=_("Salesperson"), api=False),
    Column("team", _("Team"), source="team_name", api=False),
    Column("orders", _("Orders"), Kind.COUNT),
    Column("actual", _("Actual sales"), Kind.MONEY, heading=_("Actual")),
    Column("target", _("Target"), Kind.MONEY),
    Column("percentage", _("Achieved (%)"), Kind.PERCENT, heading="%"),
    Column("status", _("Status"), Kind.STATUS),
    Column("quota", _("Quota (weighted pipeline)"), Kind.MONEY, heading=_("Quota")),
)
TEAM_QUOTA_COLUMNS = (
    Column("id", "id", Kind.ID, source="team.pk", page=False, export=False),
    Column("name", _("Team"), source="team.name"),
    *(
        column
        for column in QUOTA_COLUMNS
        if column.key in {"actual", "target", "percentage", "status", "quota"}
    ),
)


def _orders_by_owner(ids: list[int], period: Period) -> dict[int, dict]:
    """Each person's signed amount and number of orders in the period (one query)."""
    return {
        row["owner"]: row
        for row in Order.objects.filter(
            owner_id__in=ids, signed_on__gte=period.start, signed_on__lt=period.end
        )
        .order_by()
        .values("owner")
        .annotate(amount=Coalesce(Sum("amount"), ZERO), n=Count("pk"))
    }


def _period_targets(people: list[User], period: Period) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    """The period's sales targets of the people and of their teams (one query)."""
    person_targets, team_targets = {}, {}
    for target in Target.objects.filter(period_kind=period.kind, period_start=period.start).filter(
        Q(owner_id__in=[p.pk for p in people]) | Q(team_id__in={p.team_id for p in people if p.team_id})
    ):
        if target.owner_id:
            person_targets[target.owner_id] = target.sales_amount
        else:
            team_targets[target.team_id] = target.sales_amount
    return person_targets, team_targets


def _quotas(ids: list[int], period: Period) -> dict[int, Decimal]:
    """Each person's quota: the open pipeline now for a period still running, else the
    rollup of the period's last week (one query)."""
    if period.end > today():
        pipeline = CustomerTally.objects.filter(owner_id__in=ids, grade__kind=GradeKind.OPEN)
        return {row["owner_id"]: row["weighted"] for row in pipeline.totals("owner_id")}
    last_week = week_start(period.end - timedelta(days=1))
    return dict(
        WeeklyRollup.objects.filter(salesperson_id__in=ids, week_start=last_week).values_list(
            "salesperson_id", "quota"
        )
    )


def _team_rows(rows: list[QuotaRow], team_targets: dict[int, Decimal]) -> list[TeamQuotaRow]:
    """The people's rows summed by team, in team name order; a team without a target of
    its own is measured against its members' targets (if any has one)."""
    teams: dict[int, list[QuotaRow]] = {}
    for row in rows:
        if row.team is not None:
            teams.setdefault(row.team.pk, []).append(row)
    team_rows = []
    for team_id, members in sorted(teams.items(), key=lambda item: str(item[1][0].team)):
        actual = sum((row.actual for row in members), ZERO)
        member_targets = [row.target for row in members if row.target is not None]
        target = team_targets.get(team_id, sum(member_targets, ZERO) if member_targets else None)
        percentage, status = target_status(actual, target)
        team_rows.append(
            TeamQuotaRow(
                team=members[0].team,
                actual=actual,
                target=target,
                percentage=percentage,
                status=status,
                quota=sum((row.quota for row in members), ZERO),
            )
        )
    return team_rows


def quota_report(scope: Scope, period: Period) -> QuotaReport:
    """Per salesperson and per team: actual sales vs target (met / exceeded / short) and
    the quota — the pipeline now for the current period, else the rollup at its end.
    Queries: people (1), orders grouped (1), targets (1), quota (1), teams (1)."""
    people = list(scope_people(scope))
    ids = [person.pk for person in people]
    actual = _orders_by_owner(ids, period)
    person_targets, team_targets = _period_targets(people, period)
    quotas = _quotas(ids, period)
    rows = []
    for person in people:
        amount = actual.get(person.pk, {}).get("amount", ZERO)
        target = person_targets.get(person.pk)
        percentage, status = target_status(amount, target)
        rows.append(
            QuotaRow(
                person=person,
                team=person.team,
                actual=amount,
                orders=actual.get(person.pk, {}).get("n", 0),
                target=target,
                percentage=percentage,
                status=status,
                quota=quotas.get(person.pk, ZERO),
            )
        )
    return QuotaReport(period=period, rows=rows, teams=_team_rows(rows, team_targets))


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

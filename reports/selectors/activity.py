"""What salespeople did: the activity funnel and efficiency, negotiations and the 80/20
view, activity by grade, and "my day" progress against activity targets."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from activities.models import Activity, ActivityKind, CallStage
from core.models import Grade
from crm import glossary
from crm.models import Customer, Lifecycle, Order, User
from crm.selectors import customers_visible_to
from funnel.clock import start_of_day

from .. import planning
from ..columns import Column, Kind
from ..models import ActivityCadence, ActivityTarget
from ..periods import Period, week_bounds
from .figures import ZERO, pct
from .scope import Scope, scope_people


@dataclass(frozen=True)
class ActivityRow:
    """A salesperson's calls down the funnel, visits, orders and efficiency (``person``
    None: the total of the rows)."""

    person: User | None
    dials: int
    connected: int
    appointments: int
    presentations: int
    visits: int
    minutes: int
    expense: Decimal
    orders: int
    amount: Decimal
    revenue_per_dial: Decimal
    commission_per_dial: Decimal
    per_hour: Decimal | None
    per_yuan: Decimal | None

    @property
    def name(self) -> str:
        return self.person.display_name if self.person else str(_("Total"))

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)


@dataclass(frozen=True)
class ActivityFunnel:
    period: Period
    rows: list[ActivityRow]
    total: ActivityRow
    commission_rate: Decimal


ACTIVITY_COLUMNS = (
    Column("id", "id", Kind.ID, source="person.pk", page=False, export=False),
    Column("name", _("Salesperson"), api=False),
    Column("dials", glossary.DIALS, Kind.COUNT),
    Column("connected", glossary.CALLS_COMPLETED, Kind.COUNT),
    Column("appointments", glossary.APPOINTMENTS, Kind.COUNT),
    Column("presentations", glossary.PRESENTATIONS, Kind.COUNT),
    Column("visits", _("Visits"), Kind.COUNT),
    Column("minutes", "minutes", Kind.COUNT, page=False, export=False),
    Column("orders", glossary.CALL_ORDERS, Kind.COUNT),
    Column("amount", glossary.CALL_SALES_TOTAL, Kind.MONEY),
    Column("revenue_per_dial", glossary.SALES_PER_DIAL, Kind.MONEY),
    Column("commission_per_dial", glossary.COMMISSION_PER_DIAL, Kind.MONEY),
    Column("hours", _("Hours"), Kind.NUMBER, page=False, api=False),
    Column("per_hour", _("Sales per hour"), Kind.MONEY),
    Column("expense", _("Expense"), Kind.MONEY, page=False),
    Column("per_yuan", _("Sales per yuan of expense"), Kind.NUMBER),
)


def activity_funnel(scope: Scope, period: Period, commission_rate: Decimal) -> ActivityFunnel:
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
            **{k: act[k] for k in empty},
            "orders": order["n"],
            "amount": order["amount"],
        }
        for key in totals:
            totals[key] += row[key]
        rows.append(_with_efficiency(person, row, commission_rate))
    return ActivityFunnel(
        period=period,
        rows=rows,
        total=_with_efficiency(None, totals, commission_rate),
        commission_rate=commission_rate,
    )


def _with_efficiency(person: User | None, row: dict, commission_rate: Decimal) -> ActivityRow:
    revenue, commission = planning.per_dial(
        dials=row["dials"], amount=row["amount"], commission_rate=commission_rate
    )
    hours = Decimal(row["minutes"]) / 60
    return ActivityRow(
        person=person,
        **row,
        revenue_per_dial=revenue,
        commission_per_dial=commission,
        per_hour=(row["amount"] / hours).quantize(Decimal("0.01")) if hours else None,
        per_yuan=(row["amount"] / row["expense"]).quantize(Decimal("0.01")) if row["expense"] else None,
    )


def negotiation_report(scope: Scope, period: Period) -> dict:
    """Close rate by the number of negotiations (visits and meetings) with a customer in
    the period — first, second, several — the repeat-order rate (customers who bought
    that are repeat or loyal now, by their lifecycle stage) and the 80/20 view.
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
            "rate": pct(buckets.get(key, {}).get("won", 0), buckets.get(key, {}).get("customers", 0)),
        }
        for key in (1, 2, 3)
    ]
    repeat = (
        customers_visible_to(scope.viewer)
        .filter(scope.q("owner"))
        .aggregate(
            buyers=Count("pk", filter=~Q(lifecycle=Lifecycle.PROSPECT)),
            repeaters=Count("pk", filter=Q(lifecycle__in=[Lifecycle.REPEAT, Lifecycle.LOYAL])),
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
        "repeat_rate": pct(repeat["repeaters"], repeat["buyers"]),
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


# --- Activity targets: today's progress for "my day" -------------------------------------------


def activity_progress(user: User, on: date) -> list[dict]:
    """Today's (and this week's) progress against ``user``'s activity targets, for "my
    day": ``[{"cadence", "metric", "done", "target"}]`` for every metric with a target.
    Three queries (targets, activities, new customers)."""
    targets = list(ActivityTarget.objects.filter(owner=user))
    if not targets:
        return []
    week_from, week_to = week_bounds(on)
    day_from, day_to = start_of_day(on), start_of_day(on + timedelta(days=1))
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


def activity_targets_visible_to(user: User) -> QuerySet[ActivityTarget]:
    targets = ActivityTarget.objects.select_related("owner")
    if user.is_admin:
        return targets
    if user.is_manager:
        return targets.filter(Q(owner_id=user.pk) | Q(owner__team_id__in=user.visible_team_ids))
    return targets.filter(owner_id=user.pk)

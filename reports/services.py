"""Writes of the reports app: targets (and their split), the weekly rollup, the
manager's weekly report, and applying a calibrated grade probability."""

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Max, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.models import Activity, ActivityKind, DailyPlan, DailyReport
from activities.selectors import CONNECTED_CALL
from core.models import Grade, GradeKind
from crm.models import Customer, Order, Role, Team, User, effective_forecast_category, weighted_value_of
from funnel import services as funnel_services
from funnel.models import GradeChange

from . import permissions
from .models import (
    ActivityTarget,
    ForecastAdjustment,
    ForecastSnapshot,
    GradeFlowRollup,
    Target,
    WeeklyManagerReport,
    WeeklyRollup,
)
from .periods import Period, PeriodKind, is_period_start, period_for, week_bounds, week_start
from .selectors import BY_OWNER, customers_as_of, live_flows, movement_q
from .selectors.figures import ZERO
from .selectors.forecast import COUNTED

CENT = Decimal("0.01")
TARGET_FIELDS = ("sales_amount", "gross_profit", "new_customers", "collections")
ROLLUP_FIELDS = [
    "team",
    "new_customers",
    "upgrades",
    "downgrades",
    "won_customers",
    "lost_customers",
    "orders",
    "order_amount",
    "gross_profit",
    "collections",
    "calls",
    "connected_calls",
    "effective_calls",
    "visits",
    "effective_visits",
    "activity_minutes",
    "expense",
    "effective_visit_rate",
    "transaction_rate",
    "quota",
    "open_customers",
    "grade_counts",
    "plans_submitted",
    "reports_submitted",
    "reports_late",
]


# --- Targets ---------------------------------------------------------------------------


@transaction.atomic
def save_target(
    *,
    by: User,
    owner: User | None = None,
    team: Team | None = None,
    period_kind: str,
    period_start: date,
    **amounts,
) -> Target:
    """Create or update the target of ``owner`` or ``team`` for one period (managers of
    that person/team, admins). Idempotent on (owner|team, period)."""
    if (owner is None) == (team is None):
        raise ValidationError(_("A target is for a salesperson or a team, not both."))
    if not is_period_start(period_kind, period_start):
        raise ValidationError({"period_start": _("Give the first day of the month, quarter or year.")})
    if not permissions.can_set_target(by, owner=owner, team=team):
        raise PermissionDenied(_("You may not set targets for this salesperson or team."))
    for field, value in amounts.items():
        if field not in TARGET_FIELDS:
            raise TypeError(f"Not a target field: {field}")
        if value is not None and Decimal(value) < 0:
            raise ValidationError({field: _("A target cannot be negative.")})
    lookup = {"owner": owner} if owner else {"team": team}
    target, _created = Target.objects.update_or_create(
        **lookup,
        period_kind=period_kind,
        period_start=period_start,
        defaults={**{k: v for k, v in amounts.items() if v is not None}, "created_by": by},
    )
    return target


def even_split(total: Decimal, parts: int, places: Decimal = CENT) -> list[Decimal]:
    """``total`` in ``parts`` shares that add up exactly (the remainder cents go to the first)."""
    base = (Decimal(total) / parts).quantize(places, rounding=ROUND_DOWN)
    shares = [base] * parts
    remainder = Decimal(total) - base * parts
    index = 0
    while remainder > 0:
        step = min(places, remainder)
        shares[index % parts] += step
        remainder -= step
        index += 1
    return shares


@transaction.atomic
def split_team_target(
    *, target: Target, by: User, shares: dict[int, dict[str, Decimal]] | None = None
) -> list[Target]:
    """Split a team target across the team's active salespeople: evenly (``shares`` None)
    or by hand (``shares``: member id → {field: amount}). By hand, every field must add
    up to the team's figure, or nothing is written and the error says by how much.
    Members' existing targets for the period are replaced (upsert)."""
    if target.team_id is None:
        raise ValidationError(_("Only a team target can be split."))
    if not permissions.can_set_target(by, team=target.team):
        raise PermissionDenied(_("You may not set targets for this team."))
    members = list(
        User.objects.filter(team=target.team, is_active=True, role=Role.SALESPERSON).order_by("pk")
    )
    if not members:
        raise ValidationError(_("The team has no active salespeople to split the target across."))
    if shares is None:
        columns = {
            field: even_split(
                getattr(target, field), len(members), Decimal(1) if field == "new_customers" else CENT
            )
            for field in TARGET_FIELDS
        }
        shares = {m.pk: {field: columns[field][i] for field in TARGET_FIELDS} for i, m in enumerate(members)}
    member_ids = {m.pk for m in members}
    unknown = set(shares) - member_ids
    if unknown:
        raise ValidationError(_("Only the team's active salespeople can receive a share."))
    errors = {}
    for field in TARGET_FIELDS:
        total = sum((Decimal(share.get(field) or 0) for share in shares.values()), ZERO)
        expected = Decimal(getattr(target, field))
        if total != expected:
            errors[field] = _(
                "The shares add up to %(total)s, but the team target is %(expected)s (difference %(diff)s)."
            ) % {"total": total, "expected": expected, "diff": expected - total}
        if any(Decimal(share.get(field) or 0) < 0 for share in shares.values()):
            errors[field] = _("A share cannot be negative.")
    if errors:
        raise ValidationError(errors)
    result = []
    for member in members:
        share = shares.get(member.pk, {})
        values = {field: Decimal(share.get(field) or 0) for field in TARGET_FIELDS}
        values["new_customers"] = int(values["new_customers"])
        member_target, _created = Target.objects.update_or_create(
            owner=member,
            period_kind=target.period_kind,
            period_start=target.period_start,
            defaults={**values, "split_from": target, "created_by": by},
        )
        result.append(member_target)
    return result


# --- Weekly rollup -----------------------------------------------------------------------


def _rate(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return min(Decimal(100), (Decimal(numerator) * 100 / Decimal(denominator))).quantize(Decimal("0.1"))


def _grouped(queryset, key: str, **aggregates) -> dict:
    return {row[key]: row for row in queryset.order_by().values(key).annotate(**aggregates)}


def compute_weekly_rollups(*, week: date) -> int:
    """Compute and upsert every salesperson's rollup for the ISO week holding ``week``.

    Set-based: one grouped query per source (customers, grade changes, orders,
    collections, activities, plans, reports, the pipeline at week end), then one
    ``INSERT … ON CONFLICT (salesperson, week_start) DO UPDATE``. Idempotent: the same
    week computed twice gives identical rows. Rows are written for every salesperson
    who had anything that week or has open customers at its end. Once the week has
    ended, its grade flows (``GradeFlowRollup``) are replaced in the same transaction.

    Approximations (documented): the pipeline at week end uses each customer's grade
    then (reconstructed from the grade history) with today's owner, expected value,
    probability override and grade probabilities; customers are credited to their
    current owner for "new customers".
    """
    monday = week_start(week)
    start, end = week_bounds(monday)
    sources = _week_sources(monday)
    pipeline = _pipeline_at(end)
    owner_ids = set(pipeline).union(*sources.values())
    teams = dict(User.objects.filter(pk__in=owner_ids).values_list("pk", "team_id"))
    rows = [
        _rollup_row(owner_id, monday, teams[owner_id], sources, pipeline.get(owner_id, _empty_pipeline()))
        for owner_id in sorted(teams)
    ]
    with transaction.atomic():
        WeeklyRollup.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["salesperson", "week_start"],
            update_fields=ROLLUP_FIELDS,
        )
        # A salesperson whose numbers for the week vanished (e.g. a customer moved away)
        # must not keep a stale row from an earlier run.
        WeeklyRollup.objects.filter(week_start=monday).exclude(salesperson_id__in=teams).delete()
        if end <= timezone.now():
            _replace_grade_flows(monday, start, end)
    return len(rows)


def _week_sources(monday: date) -> dict[str, dict]:
    """What each salesperson did in the week of ``monday``, one grouped query per source,
    each ``{owner id: row}``: the rollup's counts and amounts come from these."""
    start, end = week_bounds(monday)
    sunday = monday + timedelta(days=6)
    up, down = movement_q()
    return {
        "new_customers": _grouped(
            Customer.objects.filter(created_at__gte=start, created_at__lt=end, owner__isnull=False),
            "owner",
            n=Count("pk"),
        ),
        "changes": _grouped(
            GradeChange.objects.filter(changed_at__gte=start, changed_at__lt=end, owner__isnull=False),
            "owner",
            upgrades=Count("pk", filter=up),
            downgrades=Count("pk", filter=down),
            won=Count("pk", filter=Q(to_grade__kind=GradeKind.WON)),
            lost=Count("pk", filter=Q(to_grade__kind=GradeKind.LOST)),
        ),
        "orders": _grouped(
            Order.objects.filter(signed_on__gte=monday, signed_on__lte=sunday, owner__isnull=False),
            "owner",
            n=Count("pk"),
            amount=Coalesce(Sum("amount"), ZERO),
            profit=Coalesce(Sum("gross_profit"), ZERO),
        ),
        "collections": _grouped(
            Order.objects.filter(collected_on__gte=monday, collected_on__lte=sunday, owner__isnull=False),
            "owner",
            amount=Coalesce(Sum("collected_amount"), ZERO),
        ),
        "activities": _grouped(
            Activity.objects.filter(started_at__gte=start, started_at__lt=end),
            "owner",
            calls=Count("pk", filter=Q(kind=ActivityKind.CALL)),
            connected_calls=Count("pk", filter=CONNECTED_CALL),
            effective_calls=Count("pk", filter=CONNECTED_CALL & Q(effective=True)),
            visits=Count("pk", filter=Q(kind=ActivityKind.VISIT)),
            effective_visits=Count("pk", filter=Q(kind=ActivityKind.VISIT, effective=True)),
            minutes=Coalesce(Sum("duration_minutes"), 0),
            expense=Coalesce(Sum("expense"), ZERO),
        ),
        "plans": _grouped(
            DailyPlan.objects.filter(date__gte=monday, date__lte=sunday),
            "owner",
            submitted=Count("pk", filter=Q(submitted_at__isnull=False)),
        ),
        "reports": _grouped(
            DailyReport.objects.filter(date__gte=monday, date__lte=sunday),
            "owner",
            submitted=Count("pk", filter=Q(first_submitted_at__isnull=False) | Q(submitted_at__isnull=False)),
            late=Count("pk", filter=Q(is_late=True)),
        ),
    }


def _empty_pipeline() -> dict:
    """The pipeline of a salesperson without open customers at the week's end."""
    return {"quota": ZERO, "open": 0, "counts": {}}


def _pipeline_at(end: datetime) -> dict[int, dict]:
    """Each salesperson's open customers at ``end``: quota (weighted value), count, and
    count per grade code — from the grades reconstructed at that moment, in one grouped
    query plus the grades, because the customers' grades may have moved on since."""
    grades = {grade.pk: grade for grade in Grade.objects.all()}
    pipeline: dict[int, dict] = defaultdict(_empty_pipeline)
    for row in (
        customers_as_of(end)
        .filter(owner__isnull=False)
        .order_by()
        .values("owner", "grade_then")
        .annotate(
            n=Count("pk"),
            plain=Coalesce(Sum("expected_value", filter=Q(probability_override__isnull=True)), ZERO),
            overridden=Coalesce(
                Sum(_overridden_weight(), filter=Q(probability_override__isnull=False)), ZERO
            ),
        )
    ):
        grade = grades.get(row["grade_then"])
        if grade is None or not grade.is_open:
            continue
        entry = pipeline[row["owner"]]
        entry["quota"] += (row["plain"] * grade.probability + row["overridden"]) / 100
        entry["open"] += row["n"]
        entry["counts"][grade.code] = entry["counts"].get(grade.code, 0) + row["n"]
    return pipeline


def _rollup_row(
    owner_id: int, monday: date, team_id: int | None, sources: dict[str, dict], entry: dict
) -> WeeklyRollup:
    """One salesperson's rollup from the week's sources and their pipeline ``entry``; a
    source without a row for them counts zero."""
    change = sources["changes"].get(owner_id, {})
    order = sources["orders"].get(owner_id, {})
    activity = sources["activities"].get(owner_id, {})
    plans = sources["plans"].get(owner_id, {})
    reports = sources["reports"].get(owner_id, {})
    visits = activity.get("visits", 0)
    return WeeklyRollup(
        salesperson_id=owner_id,
        week_start=monday,
        team_id=team_id,
        new_customers=sources["new_customers"].get(owner_id, {}).get("n", 0),
        upgrades=change.get("upgrades", 0),
        downgrades=change.get("downgrades", 0),
        won_customers=change.get("won", 0),
        lost_customers=change.get("lost", 0),
        orders=order.get("n", 0),
        order_amount=order.get("amount", ZERO),
        gross_profit=order.get("profit", ZERO),
        collections=sources["collections"].get(owner_id, {}).get("amount", ZERO),
        calls=activity.get("calls", 0),
        connected_calls=activity.get("connected_calls", 0),
        effective_calls=activity.get("effective_calls", 0),
        visits=visits,
        effective_visits=activity.get("effective_visits", 0),
        activity_minutes=activity.get("minutes", 0),
        expense=activity.get("expense", ZERO),
        effective_visit_rate=_rate(activity.get("effective_visits", 0), visits),
        transaction_rate=_rate(order.get("n", 0), visits),
        quota=Decimal(entry["quota"]).quantize(CENT),
        open_customers=entry["open"],
        grade_counts=dict(sorted(entry["counts"].items())),
        plans_submitted=plans.get("submitted", 0),
        reports_submitted=reports.get("submitted", 0),
        reports_late=reports.get("late", 0),
    )


def _replace_grade_flows(monday: date, start, end) -> None:
    """Replace the week's ``GradeFlowRollup`` rows: its grade moves per (owner at the
    move, from, to) and its new customers per (owner, initial grade), grouped in one
    query (``selectors.live_flows``), so reports read them instead of the history.
    Only for a week that has ended: its history can no longer change, so rows for a
    week mean the week is complete."""
    flows: dict[tuple, int] = defaultdict(int)
    for owner_id, src, dst, n in live_flows(lambda _field: Q(), [(start, end)], BY_OWNER):
        flows[(owner_id, src, dst)] += n
    GradeFlowRollup.objects.filter(week_start=monday).delete()
    GradeFlowRollup.objects.bulk_create(
        [
            GradeFlowRollup(
                owner_id=owner_id, week_start=monday, from_grade_id=src, to_grade_id=dst, customers=n
            )
            for (owner_id, src, dst), n in sorted(flows.items(), key=str)
            if n
        ],
        batch_size=2000,
    )


def _overridden_weight():
    return ExpressionWrapper(
        F("expected_value") * F("probability_override"),
        output_field=DecimalField(max_digits=20, decimal_places=4),
    )


# --- Weekly manager report ----------------------------------------------------------------


@transaction.atomic
def save_weekly_report(
    *, by: User, team: Team, week: date, next_week_plan: str, competitor_news: str = ""
) -> WeeklyManagerReport:
    """The manager's own part of the weekly report (the team's manager tree, or an admin)."""
    if not permissions.can_write_weekly_report(by, team):
        raise PermissionDenied(_("Only the team's managers write its weekly report."))
    report, _created = WeeklyManagerReport.objects.update_or_create(
        team=team,
        week_start=week_start(week),
        defaults={
            "next_week_plan": next_week_plan.strip(),
            "competitor_news": competitor_news.strip(),
            "updated_by": by,
            "updated_at": timezone.now(),
        },
    )
    return report


# --- Probability calibration --------------------------------------------------------------


def apply_suggested_probability(*, grade: Grade, probability: Decimal, by: User) -> Grade:
    """Admins: set a grade's probability to the calibrated value. Goes through
    ``funnel.services.save_grade`` (validation, history with the admin as author)."""
    if not by.is_admin:
        raise PermissionDenied(_("Only admins configure grades."))
    grade.probability = Decimal(probability)
    grade._change_reason = _("Calibrated from the won share of customers that reached the grade")
    return funnel_services.save_grade(grade=grade, by=by)


@transaction.atomic
def save_activity_target(
    *, by: User, owner: User, cadence: str, calls: int = 0, visits: int = 0, new_customers: int = 0
):
    """Set ``owner``'s calls / visits / new customers per day or week (their managers,
    admins). Upsert on (owner, cadence)."""
    if not (owner.pk == by.pk and by.is_manager_or_admin) and not by.oversees(owner):
        raise PermissionDenied(_("You may not set activity targets for this salesperson."))
    target, _created = ActivityTarget.objects.update_or_create(
        owner=owner,
        cadence=cadence,
        defaults={"calls": calls, "visits": visits, "new_customers": new_customers},
    )
    return target


# --- The forecast ---------------------------------------------------------------------------------


@transaction.atomic
def adjust_forecast(
    *,
    by: User,
    period: Period,
    amount: Decimal,
    note: str,
    owner: User | None = None,
    team: Team | None = None,
) -> ForecastAdjustment:
    """A manager's own figure for ``owner``'s or ``team``'s commit in ``period`` (a month or
    quarter), with why. Managers of the person or team (``can_adjust_forecast``) and
    admins. Appends a row: earlier adjustments and the commit itself stay as they were."""
    if (owner is None) == (team is None):
        raise ValidationError(_("Adjust either a salesperson's or a team's forecast."))
    if not permissions.can_adjust_forecast(by, owner=owner, team=team):
        raise PermissionDenied(_("You may not adjust this forecast."))
    if period.kind not in (PeriodKind.MONTH, PeriodKind.QUARTER):
        raise ValidationError({"period": _("A forecast is of a month or a quarter.")})
    if amount < 0:
        raise ValidationError({"amount": _("The adjusted commit cannot be negative.")})
    if not note.strip():
        raise ValidationError({"note": _("Say why the forecast is adjusted.")})
    return ForecastAdjustment.objects.create(
        owner=owner,
        team=team,
        period_kind=period.kind,
        period_start=period.start,
        amount=amount,
        note=note.strip(),
        created_by=by,
    )


def snapshot_window(monday: date) -> tuple[date, date]:
    """The signing dates a snapshot keeps: from the week's quarter to the end of the next."""
    quarter = period_for(PeriodKind.QUARTER, monday)
    return quarter.start, period_for(PeriodKind.QUARTER, quarter.end).end


def _customers_then(moment: datetime):
    """The customers as they stood at ``moment``: each one's last history row before it
    (the customer history records every edit, grade change and reassignment)."""
    history = Customer.history.model
    last_rows = (
        history.objects.filter(history_date__lt=moment)
        .order_by()
        .values("id")
        .annotate(last=Max("history_id"))
        .values("last")
    )
    # A customer purged since has no row to point at (an archived one stays until purged).
    return history.objects.filter(history_id__in=last_rows, id__in=Customer.objects.values("pk")).exclude(
        history_type="-"
    )


@transaction.atomic
def snapshot_forecast(*, week: date) -> int:
    """Freeze every salesperson's forecast as it stood at the Monday 00:00 of ``week``'s
    ISO week (company time zone): one ``ForecastSnapshot`` per open, owned, live customer
    of a counted category signing within ``snapshot_window``. Read from the customers'
    history as of that moment, so the Monday run and a later backfill of the week give the
    same rows. For the weekly task and ``backfill_forecast``; idempotent on the week:
    its rows are replaced in one transaction. Returns the number of rows."""
    monday = week_start(week)
    first, end = snapshot_window(monday)
    rows = (
        _customers_then(week_bounds(monday)[0])
        .filter(
            owner_id__isnull=False,
            archived_at__isnull=True,
            grade__kind=GradeKind.OPEN,
            expected_signing_on__gte=first,
            expected_signing_on__lt=end,
        )
        .annotate(category=effective_forecast_category())
        .filter(category__in=COUNTED)
        .values_list(
            "id",
            "owner_id",
            "category",
            "expected_signing_on",
            "expected_value",
            "probability_override",
            "grade__probability",
        )
    )
    snapshots = [
        ForecastSnapshot(
            week_start=monday,
            customer_id=customer_id,
            owner_id=owner_id,
            category=category,
            expected_signing_on=signing_on,
            expected_value=value,
            weighted_value=weighted_value_of(value, grade_probability if override is None else override),
        )
        for customer_id, owner_id, category, signing_on, value, override, grade_probability in rows
    ]
    ForecastSnapshot.objects.filter(week_start=monday).delete()
    ForecastSnapshot.objects.bulk_create(snapshots, batch_size=2000)
    return len(snapshots)

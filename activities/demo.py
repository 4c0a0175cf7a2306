"""Demo data of the daily routine (development only): a few weeks of calls and visits,
daily plans and reports — most approved and signed off on time, some returned with the
manager's comment, some reports late — and a couple of escalations.

``create_demo_activities(today, rng)`` works on the customers that already exist (it is
called by ``manage.py seed_demo`` after the customers are made) and writes rows directly
with past timestamps: the services stamp "now", the demo needs history. The customers'
contact dates are then kept by ``crm.services.record_contact``, as logging would.

``generate_routine`` is the benchmark-sized version for ``manage.py generate_data``:
a million activities and half a year of plans and reports, written set-based.
"""

import random
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from crm import services as crm_services
from crm.bulk import TableWriter
from crm.demo import ensure_demo_allowed, pick
from crm.models import Customer, Order, Role, User
from funnel.demo import allocate, prefetch

from . import selectors
from .models import (
    Activity,
    ActivityKind,
    ActivitySettings,
    Attendance,
    CallStage,
    DailyPlan,
    DailyReport,
    MarketReport,
    MarketReportKind,
    Objection,
    PlanItem,
    PlanItemKind,
    PlanState,
    Purpose,
    ReportState,
    ReviewEvent,
)
from .services import FIGURE_FIELDS

WEEKS = 3
OUTCOMES = {
    ActivityKind.CALL: [
        "Spoke to the buyer; wants a quotation by Friday.",
        "Left a message with the assistant.",
        "Agreed a visit next week.",
        "Asked for references in their industry.",
        "Confirmed the delivery schedule.",
    ],
    ActivityKind.VISIT: [
        "Presented the product line to the production manager.",
        "Site survey done; needs two units.",
        "Met the decision maker; budget is approved for Q3.",
        "Handled the invoice complaint on site.",
        "Collected the overdue payment.",
    ],
    ActivityKind.EMAIL: ["Sent the quotation and the case study."],
    ActivityKind.MESSAGE: ["WeChat: confirmed tomorrow's meeting."],
}
COMPETITOR_NEWS = [
    "Competitor offered 8 % off for a two-year contract.",
    "A rival opened a depot in the same park.",
    "Their current supplier missed two deliveries this month.",
]
RETURN_COMMENTS = [
    "Visit the A and B customers first; the calls can wait.",
    "Too few visits for a Tuesday: add two customers in your area.",
    "Fill in the lessons and the money collected before I sign.",
]


@dataclass(frozen=True)
class DemoTexts:
    """What the demo's people write, in the demo's language."""

    outcomes: dict
    competitor_news: list[str]
    return_comments: list[str]
    feedback: list[str]
    lessons: list[str]
    complaint: str
    price_cut: str
    escalation_body: str


TEXTS_EN = DemoTexts(
    outcomes=OUTCOMES,
    competitor_news=COMPETITOR_NEWS,
    return_comments=RETURN_COMMENTS,
    feedback=["", "Customers ask for shorter delivery times.", "Price is the main topic."],
    lessons=["Call the decision maker before 10:00.", "Bring samples to every first visit.", ""],
    complaint="Delivery damaged, customer wants a credit note",
    price_cut="Competitor cuts prices by 8 % in our region",
    escalation_body="Reported during today's visit; see the activity log.",
)
TEXTS_ZH = DemoTexts(
    outcomes={
        ActivityKind.CALL: [
            "和采购通了电话,对方希望周五前收到报价。",
            "给总经理助理留了言。",
            "约好下周上门拜访。",
            "对方想要同行业的客户案例。",
            "确认了交货时间。",
        ],
        ActivityKind.VISIT: [
            "向生产经理介绍了产品线。",
            "现场勘查完成,需要两台设备。",
            "见到了决策人,三季度预算已批。",
            "现场处理了发票投诉。",
            "收回了逾期货款。",
        ],
        ActivityKind.EMAIL: ["发送了报价单和成功案例。"],
        ActivityKind.MESSAGE: ["微信确认了明天的会面。"],
    },
    competitor_news=[
        "竞争对手对两年期合同给出8%的优惠。",
        "一家竞争对手在同一园区开了仓库。",
        "客户现有供应商本月两次延迟交货。",
    ],
    return_comments=[
        "先拜访A类和B类客户,电话可以晚点打。",
        "周二的拜访太少:在你的区域再加两个客户。",
        "签批前请填写心得和回款金额。",
    ],
    feedback=["", "客户希望缩短交货期。", "价格是主要话题。"],
    lessons=["上午十点前联系决策人。", "首次拜访都带上样品。", ""],
    complaint="到货破损,客户要求开具红字发票",
    price_cut="竞争对手在本区域降价8%",
    escalation_body="今天拜访时反映,详见活动记录。",
)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _workdays(today: date) -> list[date]:
    days = [today - timedelta(days=offset) for offset in range(WEEKS * 7, 0, -1)]
    return [day for day in days if day.weekday() < 5]


@transaction.atomic
def create_demo_activities(today: date, rng: random.Random, *, chinese: bool = False) -> dict[str, int]:
    """A few weeks of the daily routine for every salesperson who owns customers, written
    in Chinese when ``chinese``. Development only; does nothing for a salesperson who
    already has plans."""
    ensure_demo_allowed()
    texts = TEXTS_ZH if chinese else TEXTS_EN
    objections = list(Objection.objects.active())
    cutoff = ActivitySettings.load().report_cutoff
    counts = dict.fromkeys(["activities", "plans", "reports", "late", "returned", "escalations"], 0)
    salespeople = User.objects.filter(role=Role.SALESPERSON, is_active=True).order_by("username")
    for position, person in enumerate(salespeople):
        customers = list(Customer.objects.filter(owner=person, archived_at__isnull=True).order_by("pk"))
        if not customers or DailyPlan.objects.filter(owner=person).exists():
            continue
        reviewer = next(iter(selectors.managers_of(person)), None)
        for day in _workdays(today):
            _demo_day(person, reviewer, customers, objections, day, today, cutoff, rng, counts, texts)
        _demo_today(person, customers, today, rng, counts)
        if position % 2 == 0:  # every other salesperson escalated something this week
            _demo_escalation(person, reviewer, rng.choice(customers), today, rng, counts, texts)
    _record_contact_dates()
    counts["activities"] = Activity.objects.count()
    return counts


def _demo_day(person, reviewer, customers, objections, day, today, cutoff, rng, counts, texts) -> None:
    planned = rng.sample(customers, k=min(len(customers), rng.randint(3, 5)))
    plan = DailyPlan.objects.create(owner=person, date=day, created_at=_at(day - timedelta(days=1), 18))
    items = PlanItem.objects.bulk_create(
        [
            PlanItem(
                plan=plan,
                customer=customer,
                kind=rng.choice([PlanItemKind.VISIT, PlanItemKind.CALL]),
                area=customer.region,
                starts_at=time(9 + 2 * index, 0),
                ends_at=time(10 + 2 * index, 0),
                purpose=rng.choice(
                    [Purpose.NEW_DEVELOPMENT, Purpose.SERVICE, Purpose.ORDER, Purpose.COLLECTION]
                ),
            )
            for index, customer in enumerate(planned)
        ]
    )
    _review_plan(plan, person, reviewer, day, rng, counts, texts)
    for index, item in enumerate(items):
        if rng.random() < 0.8:  # most of the plan gets done
            activity = _activity(
                person,
                item.customer,
                item.kind,
                item.purpose,
                _at(day, 9 + 2 * index, 15),
                objections,
                rng,
                texts,
            )
            PlanItem.objects.filter(pk=item.pk).update(done=True, activity=activity)
    for extra in range(rng.randint(2, 5)):  # calls beyond the plan
        _activity(
            person,
            rng.choice(customers),
            ActivityKind.CALL,
            Purpose.NEW_DEVELOPMENT,
            _at(day, 14 + extra % 4, 10 * extra % 60),
            objections,
            rng,
            texts,
        )
    counts["plans"] += 1
    _report_day(person, reviewer, day, today, cutoff, rng, counts, texts)


def _activity(person, customer, kind, purpose, started_at, objections, rng, texts) -> Activity:
    kind = kind if rng.random() < 0.85 else rng.choice([ActivityKind.EMAIL, ActivityKind.MESSAGE])
    stage = None
    if kind == ActivityKind.CALL:
        stage = rng.choices(list(CallStage), weights=[30, 40, 20, 10])[0]
    reached = stage is None or stage >= CallStage.CONNECTED
    return Activity.objects.create(
        owner=person,
        customer=customer,
        kind=kind,
        started_at=started_at,
        created_at=started_at,
        duration_minutes=rng.choice([5, 10, 15] if kind == ActivityKind.CALL else [30, 45, 60, 90]),
        purpose=purpose,
        call_stage=stage,
        outcome=rng.choice(texts.outcomes.get(kind, texts.outcomes[ActivityKind.CALL])),
        effective=reached and rng.random() < 0.6,
        objection=rng.choice(objections) if objections and reached and rng.random() < 0.25 else None,
        next_follow_up_on=started_at.date() + timedelta(days=rng.choice([1, 3, 7, 14])),
        competitor_news=rng.choice(texts.competitor_news) if rng.random() < 0.1 else "",
        expense=Decimal(rng.choice([0, 0, 20, 35, 80])) if kind == ActivityKind.VISIT else Decimal(0),
    )


def _review_plan(plan, person, reviewer, day, rng, counts, texts) -> None:
    submitted = _at(day - timedelta(days=1), 19, rng.randint(0, 59))
    events = [
        ReviewEvent(
            plan=plan, from_state=PlanState.DRAFT, to_state=PlanState.SUBMITTED, by=person, at=submitted
        )
    ]
    state, comment = PlanState.APPROVED, ""
    if rng.random() < 0.12:
        comment = rng.choice(texts.return_comments)
        events += [
            ReviewEvent(
                plan=plan,
                from_state=PlanState.SUBMITTED,
                to_state=PlanState.RETURNED,
                by=reviewer,
                at=submitted + timedelta(hours=1),
                comment=comment,
            ),
            ReviewEvent(
                plan=plan,
                from_state=PlanState.RETURNED,
                to_state=PlanState.SUBMITTED,
                by=person,
                at=submitted + timedelta(hours=2),
            ),
        ]
        counts["returned"] += 1
    events.append(
        ReviewEvent(
            plan=plan, from_state=PlanState.SUBMITTED, to_state=state, by=reviewer, at=_at(day, 8, 30)
        )
    )
    ReviewEvent.objects.bulk_create(events)
    DailyPlan.objects.filter(pk=plan.pk).update(
        state=state,
        submitted_at=events[-2].at,
        reviewed_at=_at(day, 8, 30),
        reviewed_by=reviewer,
        review_comment=comment,
    )


def _report_day(person, reviewer, day, today, cutoff, rng, counts, texts) -> None:
    figures = selectors.day_figures(person, day)
    late = rng.random() < 0.15
    submitted = _at(day, cutoff.hour + 1, rng.randint(0, 59)) if late else _at(day, 18, rng.randint(0, 59))
    report = DailyReport.objects.create(
        owner=person,
        date=day,
        attendance=Attendance.PRESENT if rng.random() < 0.9 else Attendance.FIELD,
        complaints_handled=rng.choice([0, 0, 0, 1]),
        money_collected=figures["collected"],
        order_target=Decimal(rng.choice([20000, 30000, 50000])),
        competitor_info=rng.choice(texts.competitor_news) if rng.random() < 0.3 else "",
        customer_feedback=rng.choice(texts.feedback),
        lessons=rng.choice(texts.lessons),
        state=ReportState.SIGNED_OFF,
        first_submitted_at=submitted,
        submitted_at=submitted,
        is_late=late,
        reviewed_at=submitted + timedelta(hours=14),
        reviewed_by=reviewer,
        created_at=_at(day, 17),
        **{name: figures[name] for name in FIGURE_FIELDS},
    )
    events = [
        ReviewEvent(
            report=report,
            from_state=ReportState.DRAFT,
            to_state=ReportState.SUBMITTED,
            by=person,
            at=submitted,
        )
    ]
    if rng.random() < 0.1:
        comment = texts.return_comments[2]
        events.append(
            ReviewEvent(
                report=report,
                from_state=ReportState.SUBMITTED,
                to_state=ReportState.RETURNED,
                by=reviewer,
                at=submitted + timedelta(hours=13),
                comment=comment,
            )
        )
        if day >= today - timedelta(days=3):  # a recent one still waits for the fix
            DailyReport.objects.filter(pk=report.pk).update(
                state=ReportState.RETURNED, review_comment=comment
            )
            ReviewEvent.objects.bulk_create(events)
            counts["returned"] += 1
            counts["reports"] += 1
            counts["late"] += late
            return
        events.append(
            ReviewEvent(
                report=report,
                from_state=ReportState.RETURNED,
                to_state=ReportState.SUBMITTED,
                by=person,
                at=submitted + timedelta(hours=14),
            )
        )
        counts["returned"] += 1
    events.append(
        ReviewEvent(
            report=report,
            from_state=ReportState.SUBMITTED,
            to_state=ReportState.SIGNED_OFF,
            by=reviewer,
            at=submitted + timedelta(hours=15),
        )
    )
    ReviewEvent.objects.bulk_create(events)
    counts["reports"] += 1
    counts["late"] += late


def _demo_today(person, customers, today, rng, counts) -> None:
    """Today: a submitted plan waiting for the manager, no report yet."""
    plan = DailyPlan.objects.create(
        owner=person, date=today, state=PlanState.SUBMITTED, submitted_at=_at(today - timedelta(days=1), 19)
    )
    PlanItem.objects.bulk_create(
        [
            PlanItem(
                plan=plan,
                customer=customer,
                kind=PlanItemKind.VISIT,
                area=customer.region,
                starts_at=time(9 + 2 * index, 0),
                purpose=Purpose.SERVICE,
            )
            for index, customer in enumerate(rng.sample(customers, k=min(len(customers), 3)))
        ]
    )
    ReviewEvent.objects.create(
        plan=plan, from_state=PlanState.DRAFT, to_state=PlanState.SUBMITTED, by=person, at=plan.submitted_at
    )
    counts["plans"] += 1


def _demo_escalation(person, reviewer, customer, today, rng, counts, texts) -> None:
    kind = rng.choice(list(MarketReportKind))
    title = texts.complaint if kind == MarketReportKind.COMPLAINT else texts.price_cut
    report = MarketReport.objects.create(
        owner=person,
        kind=kind,
        customer=customer,
        title=title,
        body=texts.escalation_body,
        created_at=_at(today - timedelta(days=rng.randint(1, 5)), 16),
    )
    if reviewer is not None:
        crm_services.notify(
            recipients=[reviewer],
            kind=f"escalation_{kind}",
            title=f"{kind.label}: {title}",
            body=report.body,
            url=reverse("activities:market-report-detail", args=[report.pk]),
            customer=customer,
        )
    counts["escalations"] += 1


def _record_contact_dates() -> None:
    """Keep every demo customer's last-activity / last-call / last-visit / next-follow-up
    as logging would: the newest activity of each channel goes through ``record_contact``."""
    newest: dict[tuple[int, str], Activity] = {}
    for activity in Activity.objects.select_related("customer").order_by("started_at"):
        newest[(activity.customer_id, activity.kind)] = activity
    for activity in sorted(newest.values(), key=lambda a: a.started_at):
        crm_services.record_contact(
            customer=activity.customer,
            at=activity.started_at,
            channel=activity.kind,
            next_follow_up_on=activity.next_follow_up_on,
        )


# --- A benchmark-sized routine (manage.py generate_data) -------------------------------------

KIND_WEIGHTS = [
    (ActivityKind.CALL, 60),
    (ActivityKind.VISIT, 15),
    (ActivityKind.EMAIL, 10),
    (ActivityKind.MESSAGE, 12),
    (ActivityKind.MEETING, 3),
]
PURPOSE_WEIGHTS = [
    (Purpose.NEW_DEVELOPMENT, 35),
    (Purpose.SERVICE, 20),
    (Purpose.ORDER, 15),
    (Purpose.COLLECTION, 10),
    (Purpose.MARKET_RESEARCH, 10),
    (Purpose.COMPLAINT, 3),
    (Purpose.OTHER, 7),
]
STAGE_WEIGHTS = [
    (CallStage.DIALLED, 30),
    (CallStage.CONNECTED, 40),
    (CallStage.APPOINTMENT, 20),
    (CallStage.PRESENTATION, 10),
]
# Relative activity by weekday (Monday first): salespeople work the week, a few calls on weekends.
WEEKDAY_WEIGHTS = [1.0, 1.05, 1.0, 1.0, 0.9, 0.08, 0.03]


@dataclass
class OwnerRows:
    """One salesperson's generated rows. Dependants point at their parent's position in
    its list until the parents are written and have ids."""

    activities: list[dict] = field(default_factory=list)
    plans: list[dict] = field(default_factory=list)
    items: list[tuple[int, int | None, dict]] = field(default_factory=list)  # plan, activity position
    reports: list[dict] = field(default_factory=list)
    plan_events: list[tuple[int, dict]] = field(default_factory=list)
    report_events: list[tuple[int, dict]] = field(default_factory=list)


def generate_routine(
    *,
    owners: list[User],
    activities: int,
    weeks: int,
    rng: random.Random,
    customers: QuerySet[Customer],
    now: datetime | None = None,
    batch_size: int = 5000,
) -> dict[str, int]:
    """About ``activities`` activities of ``owners`` with their own customers over the
    last ``weeks`` weeks (uneven over people, weekdays and customers; never before a
    customer existed or its owner was hired), and each owner's daily plan and report for
    every workday — plans mostly done by the day's activities, reports holding the day's
    figures, most signed off on time, some late or returned. Today has a submitted plan.

    Set-based: rows are built in a background thread and written with ``TableWriter``
    (COPY on PostgreSQL); afterwards ``update_contact_dates`` sets the denormalized
    contact dates of ``customers`` (last activity / call / visit, next follow-up) as
    logging every activity through ``log_activity`` would have left them."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    first_day = today - timedelta(days=7 * weeks)
    days = [first_day + timedelta(days=n) for n in range((today - first_day).days)]
    owner_ids = [owner.pk for owner in owners]
    books: dict[int, tuple[list[datetime], list[int]]] = {pk: ([], []) for pk in owner_ids}  # by creation
    live = Customer.objects.filter(owner_id__in=owner_ids, archived_at__isnull=True).order_by(
        "created_at", "pk"
    )
    for owner_id, pk, created_at in live.values_list("owner_id", "pk", "created_at"):
        books[owner_id][0].append(created_at)
        books[owner_id][1].append(pk)
    reviewers = dict(User.objects.filter(pk__in=owner_ids).values_list("pk", "team__manager_id"))
    hired = dict(User.objects.filter(pk__in=owner_ids).values_list("pk", "hire_date"))
    orders = _order_figures(owner_ids, first_day)
    context = RoutineContext(
        rng=rng,
        today=today,
        cutoff=ActivitySettings.load().report_cutoff,
        objections=list(Objection.objects.active().values_list("pk", flat=True)),
        orders=orders,
    )
    per_owner = allocate(activities, [rng.uniform(0.5, 1.5) for _ in owner_ids])

    def build() -> Iterator[OwnerRows]:
        for owner_id, count in zip(owner_ids, per_owner, strict=True):
            start = max(first_day, hired[owner_id] or first_day)
            owner_days = [day for day in days if day >= start]
            yield _owner_rows(context, owner_id, reviewers[owner_id], owner_days, count, books[owner_id])

    writers = {
        model: TableWriter(model, batch_size=batch_size)
        for model in (Activity, DailyPlan, PlanItem, DailyReport, ReviewEvent)
    }
    totals = dict.fromkeys(["activities", "plans", "plan_items", "reports", "review_events"], 0)
    for rows in prefetch(build()):
        activity_ids = writers[Activity].insert(rows.activities, returning=True)
        plan_ids = writers[DailyPlan].insert(rows.plans, returning=True)
        report_ids = writers[DailyReport].insert(rows.reports, returning=True)
        for plan, activity, values in rows.items:
            values.update(
                plan_id=plan_ids[plan], activity_id=None if activity is None else activity_ids[activity]
            )
        for plan, values in rows.plan_events:
            values["plan_id"] = plan_ids[plan]
        for report, values in rows.report_events:
            values["report_id"] = report_ids[report]
        writers[PlanItem].insert([values for _plan, _activity, values in rows.items])
        writers[ReviewEvent].insert(
            [values for _plan, values in rows.plan_events]
            + [values for _report, values in rows.report_events]
        )
        totals["activities"] += len(rows.activities)
        totals["plans"] += len(rows.plans)
        totals["plan_items"] += len(rows.items)
        totals["reports"] += len(rows.reports)
        totals["review_events"] += len(rows.plan_events) + len(rows.report_events)
    update_contact_dates(customers)
    return totals


def update_contact_dates(customers: QuerySet[Customer]) -> None:
    """Each of ``customers``' last activity / call / visit and next follow-up from its
    activities, as ``crm.services.record_contact`` keeps them (the follow-up is the one
    agreed in the newest activity that set one); none without activities. Two UPDATEs:
    one over an aggregate of the activities (a single pass, not a lookup per customer
    and field), one for the customers without any."""
    quote = connection.ops.quote_name
    customer, activity = quote(Customer._meta.db_table), quote(Activity._meta.db_table)
    scope, params = customers.values("pk").query.sql_with_params()
    if connection.vendor == "postgresql":  # the planner must know the table is no longer empty
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {activity}")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {customer} SET last_activity_at = latest.at, last_call_at = latest.call_at, "  # noqa: S608
            "last_visit_at = latest.visit_at, next_follow_up_on = ("
            f"  SELECT MAX(agreed.next_follow_up_on) FROM {activity} agreed"
            f"  WHERE agreed.customer_id = {customer}.id AND agreed.started_at = latest.follow_up_at"
            "   AND agreed.next_follow_up_on IS NOT NULL) "
            "FROM (SELECT customer_id, MAX(started_at) AS at, "
            "  MAX(CASE WHEN kind = %s THEN started_at END) AS call_at, "
            "  MAX(CASE WHEN kind = %s THEN started_at END) AS visit_at, "
            "  MAX(CASE WHEN next_follow_up_on IS NOT NULL THEN started_at END) AS follow_up_at "
            f"  FROM {activity} GROUP BY customer_id) latest "
            f"WHERE {customer}.id = latest.customer_id AND {customer}.id IN ({scope})",
            [ActivityKind.CALL, ActivityKind.VISIT, *params],
        )
    customers.exclude(Exists(Activity.objects.filter(customer=OuterRef("pk")))).update(
        last_activity_at=None,
        last_call_at=None,
        last_visit_at=None,
        next_follow_up_on=None,
    )


@dataclass
class RoutineContext:
    rng: random.Random
    today: date
    cutoff: time
    objections: list[int]
    orders: dict[tuple[int, date], dict[str, Decimal | int]]


def _order_figures(owner_ids: list[int], since: date) -> dict[tuple[int, date], dict]:
    """Orders signed and money collected per (owner, day) since ``since``: the reports' figures."""
    figures: dict[tuple[int, date], dict] = {}
    rows = Order.objects.filter(Q(signed_on__gte=since) | Q(collected_on__gte=since), owner_id__in=owner_ids)
    for owner_id, signed_on, amount, collected_on, collected in rows.values_list(
        "owner_id", "signed_on", "amount", "collected_on", "collected_amount"
    ):
        day = figures.setdefault((owner_id, signed_on), _no_orders())
        day["orders_count"] += 1
        day["orders_amount"] += amount
        if collected_on is not None:
            figures.setdefault((owner_id, collected_on), _no_orders())["collected"] += collected
    return figures


def _no_orders() -> dict:
    return {"orders_count": 0, "orders_amount": Decimal(0), "collected": Decimal(0)}


def _owner_rows(
    context: RoutineContext,
    owner_id: int,
    reviewer_id: int | None,
    days: list[date],
    count: int,
    book: tuple[list[datetime], list[int]],
) -> OwnerRows:
    """One salesperson's activities, plans, reports and review history. Pure Python."""
    rng, rows = context.rng, OwnerRows()
    created, customer_ids = book
    if not days or not customer_ids:
        return rows
    weights = [WEEKDAY_WEIGHTS[day.weekday()] for day in days]
    per_day = Counter(rng.choices(range(len(days)), weights=weights, k=count))
    for index, day in enumerate(days):
        day_start = _at(day, 0)
        known = bisect_left(created, day_start)  # customers that existed when the day began
        first = len(rows.activities)
        if known:
            for _n in range(per_day[index]):
                started_at = day_start + timedelta(minutes=rng.randint(8 * 60 + 30, 18 * 60 + 30))
                rows.activities.append(
                    _activity_row(
                        rng, context.objections, owner_id, customer_ids[rng.randrange(known)], started_at
                    )
                )
        if day.weekday() < 5 and known:
            items = _plan_rows(context, rows, owner_id, reviewer_id, day, first, customer_ids[:known])
            _report_rows(context, rows, owner_id, reviewer_id, day, rows.activities[first:], items)
    if context.today.weekday() < 5 and created:
        _plan_rows(context, rows, owner_id, reviewer_id, context.today, len(rows.activities), customer_ids)
    return rows


def _activity_row(
    rng: random.Random, objections: list[int], owner_id: int, customer_id: int, started_at: datetime
) -> dict:
    kind = pick(rng, KIND_WEIGHTS)
    stage = pick(rng, STAGE_WEIGHTS) if kind == ActivityKind.CALL else None
    reached = stage is None or stage >= CallStage.CONNECTED
    follow_up = kind == ActivityKind.CALL or rng.random() < 0.5  # every call agrees the next contact
    return {
        "owner_id": owner_id,
        "customer_id": customer_id,
        "contact_id": None,
        "kind": kind,
        "started_at": started_at,
        "created_at": started_at + timedelta(minutes=rng.randint(1, 90)),
        "duration_minutes": rng.choice([3, 5, 10, 15] if kind == ActivityKind.CALL else [30, 45, 60, 90]),
        "purpose": pick(rng, PURPOSE_WEIGHTS),
        "call_stage": stage,
        "outcome": rng.choice(OUTCOMES.get(kind, OUTCOMES[ActivityKind.CALL])),
        "effective": reached and rng.random() < 0.5,
        "objection_id": rng.choice(objections) if objections and reached and rng.random() < 0.15 else None,
        "next_follow_up_on": started_at.date() + timedelta(days=rng.choice([1, 3, 7, 14, 30]))
        if follow_up
        else None,
        "competitor_news": rng.choice(COMPETITOR_NEWS) if rng.random() < 0.03 else "",
        "expense": Decimal(rng.choice([0, 0, 20, 35, 80])) if kind == ActivityKind.VISIT else Decimal(0),
        "import_batch_id": None,
    }


def _plan_rows(
    context: RoutineContext,
    rows: OwnerRows,
    owner_id: int,
    reviewer_id: int | None,
    day: date,
    first: int,
    known: list[int],
) -> list[dict]:
    """The day's plan (its items returned): 3–6 customers, most of them met that day
    (done, with the activity), the rest not reached. Approved the evening before, some
    after a return; today's waits for the manager."""
    rng = context.rng
    plan = len(rows.plans)
    met = [
        position
        for position in range(first, len(rows.activities))
        if rows.activities[position]["kind"] in (ActivityKind.CALL, ActivityKind.VISIT)
    ]
    size = rng.randint(3, 6)
    done = rng.sample(met, k=min(len(met), round(size * 0.8)))
    chosen = [(position, rows.activities[position]["customer_id"]) for position in done]
    chosen += [(None, rng.choice(known)) for _ in range(size - len(chosen))]
    items = []
    for slot, (position, customer_id) in enumerate(chosen):
        kind = (
            PlanItemKind.CALL
            if position is not None and rows.activities[position]["kind"] == ActivityKind.CALL
            else PlanItemKind.VISIT
        )
        items.append(
            {
                "customer_id": customer_id,
                "kind": kind,
                "area": "",
                "starts_at": time(9 + slot, 0),
                "ends_at": time(9 + slot, 45),
                "purpose": pick(rng, PURPOSE_WEIGHTS),
                "note": "",
                "done": position is not None,
            }
        )
        rows.items.append((plan, position, items[-1]))
    submitted = _at(day - timedelta(days=1), 19, rng.randint(0, 59))
    row = {
        "owner_id": owner_id,
        "date": day,
        "state": PlanState.SUBMITTED,
        "submitted_at": submitted,
        "reviewed_at": None,
        "reviewed_by_id": None,
        "review_comment": "",
        "created_at": submitted,
    }
    rows.plans.append(row)
    events = [(PlanState.DRAFT, PlanState.SUBMITTED, owner_id, submitted, "")]
    if day < context.today and reviewer_id is not None:
        comment = ""
        if rng.random() < 0.1:
            comment = rng.choice(RETURN_COMMENTS)
            returned = submitted + timedelta(hours=1)
            events += [
                (PlanState.SUBMITTED, PlanState.RETURNED, reviewer_id, returned, comment),
                (PlanState.RETURNED, PlanState.SUBMITTED, owner_id, returned + timedelta(hours=1), ""),
            ]
        reviewed = _at(day, 8, rng.randint(0, 59))
        events.append((PlanState.SUBMITTED, PlanState.APPROVED, reviewer_id, reviewed, ""))
        row.update(
            state=PlanState.APPROVED,
            submitted_at=events[-2][3],
            reviewed_at=reviewed,
            reviewed_by_id=reviewer_id,
            review_comment=comment,
        )
    rows.plan_events += [(plan, _event(*event)) for event in events]
    return items


def _report_rows(
    context: RoutineContext,
    rows: OwnerRows,
    owner_id: int,
    reviewer_id: int | None,
    day: date,
    activities: list[dict],
    plan_items: list[dict],
) -> None:
    """The day's report: its figures are the day's activities, plan and orders (as
    ``selectors.day_figures`` counts them when the report is filled in). Signed off the
    next morning; some late, some returned first (the last days' still waiting)."""
    rng = context.rng
    report = len(rows.reports)
    orders = context.orders.get((owner_id, day), _no_orders())
    late = rng.random() < 0.12
    hour = min(23, context.cutoff.hour + 1) if late else 18
    submitted = _at(day, hour, rng.randint(0, 59))
    row = {
        "owner_id": owner_id,
        "date": day,
        "state": ReportState.SUBMITTED,
        "submitted_at": submitted,
        "first_submitted_at": submitted,
        "is_late": late,
        "reviewed_at": None,
        "reviewed_by_id": None,
        "review_comment": "",
        "created_at": _at(day, 17),
        "calls": sum(a["kind"] == ActivityKind.CALL for a in activities),
        "connected_calls": sum(
            a["kind"] == ActivityKind.CALL and a["call_stage"] >= CallStage.CONNECTED for a in activities
        ),
        "visits": sum(a["kind"] == ActivityKind.VISIT for a in activities),
        "other_activities": sum(a["kind"] not in (ActivityKind.CALL, ActivityKind.VISIT) for a in activities),
        "effective_activities": sum(a["effective"] for a in activities),
        "expenses": sum((a["expense"] for a in activities), Decimal(0)),
        "plan_items_planned": len(plan_items),
        "plan_items_done": sum(item["done"] for item in plan_items),
        # The generated routine has no check-ins: planned visits are never "checked in".
        "planned_visits": sum(item["kind"] == PlanItemKind.VISIT for item in plan_items),
        "orders_count": orders["orders_count"],
        "orders_amount": orders["orders_amount"],
        "money_collected": orders["collected"],
        "attendance": Attendance.PRESENT if rng.random() < 0.9 else Attendance.FIELD,
        "complaints_handled": rng.choice([0, 0, 0, 1]),
        "order_target": Decimal(rng.choice([20000, 30000, 50000])),
        "competitor_info": "",
        "customer_feedback": "",
        "lessons": "",
    }
    rows.reports.append(row)
    events = [(ReportState.DRAFT, ReportState.SUBMITTED, owner_id, submitted, "")]
    if reviewer_id is not None:
        reviewed = submitted + timedelta(hours=14)
        if rng.random() < 0.08:
            comment = RETURN_COMMENTS[2]
            events.append((ReportState.SUBMITTED, ReportState.RETURNED, reviewer_id, reviewed, comment))
            row.update(
                state=ReportState.RETURNED,
                review_comment=comment,
                reviewed_at=reviewed,
                reviewed_by_id=reviewer_id,
            )
            if day >= context.today - timedelta(days=3):  # a recent one still waits for the fix
                rows.report_events += [(report, _event(*event)) for event in events]
                return
            resubmitted = reviewed + timedelta(hours=2)
            events.append((ReportState.RETURNED, ReportState.SUBMITTED, owner_id, resubmitted, ""))
            reviewed += timedelta(hours=3)
            row["submitted_at"] = events[-1][3]
        events.append((ReportState.SUBMITTED, ReportState.SIGNED_OFF, reviewer_id, reviewed, ""))
        row.update(state=ReportState.SIGNED_OFF, reviewed_at=reviewed, reviewed_by_id=reviewer_id)
    rows.report_events += [(report, _event(*event)) for event in events]


def _event(from_state: str, to_state: str, by_id: int, at: datetime, comment: str) -> dict:
    return {"from_state": from_state, "to_state": to_state, "by_id": by_id, "at": at, "comment": comment}

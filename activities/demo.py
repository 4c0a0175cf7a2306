"""Demo data of the daily routine (development only): a few weeks of calls and visits,
daily plans and reports — most approved and signed off on time, some returned with the
manager's comment, some reports late — and a couple of escalations.

``create_demo_activities(today, rng)`` works on the customers that already exist (it is
called by ``manage.py seed_demo`` after the customers are made) and writes rows directly
with past timestamps: the services stamp "now", the demo needs history. The customers'
contact dates are then kept by ``crm.services.record_contact``, as logging would.
"""
import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from crm import services as crm_services
from crm.demo import ensure_demo_allowed
from crm.models import Customer, Role, User

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
    ActivityKind.CALL: ["Spoke to the buyer; wants a quotation by Friday.",
                        "Left a message with the assistant.",
                        "Agreed a visit next week.", "Asked for references in their industry.",
                        "Confirmed the delivery schedule."],
    ActivityKind.VISIT: ["Presented the product line to the production manager.",
                         "Site survey done; needs two units.",
                         "Met the decision maker; budget is approved for Q3.",
                         "Handled the invoice complaint on site.",
                         "Collected the overdue payment."],
    ActivityKind.EMAIL: ["Sent the quotation and the case study."],
    ActivityKind.MESSAGE: ["WeChat: confirmed tomorrow's meeting."],
}
COMPETITOR_NEWS = ["Competitor offered 8 % off for a two-year contract.",
                   "A rival opened a depot in the same park.",
                   "Their current supplier missed two deliveries this month."]
RETURN_COMMENTS = ["Visit the A and B customers first; the calls can wait.",
                   "Too few visits for a Tuesday: add two customers in your area.",
                   "Fill in the lessons and the money collected before I sign."]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _workdays(today: date) -> list[date]:
    days = [today - timedelta(days=offset) for offset in range(WEEKS * 7, 0, -1)]
    return [day for day in days if day.weekday() < 5]


@transaction.atomic
def create_demo_activities(today: date, rng: random.Random) -> dict[str, int]:
    """A few weeks of the daily routine for every salesperson who owns customers.
    Development only; does nothing for a salesperson who already has plans."""
    ensure_demo_allowed()
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
            _demo_day(person, reviewer, customers, objections, day, today, cutoff, rng, counts)
        _demo_today(person, customers, today, rng, counts)
        if position % 2 == 0:  # every other salesperson escalated something this week
            _demo_escalation(person, reviewer, rng.choice(customers), today, rng, counts)
    _record_contact_dates()
    counts["activities"] = Activity.objects.count()
    return counts


def _demo_day(person, reviewer, customers, objections, day, today, cutoff, rng, counts) -> None:
    planned = rng.sample(customers, k=min(len(customers), rng.randint(3, 5)))
    plan = DailyPlan.objects.create(owner=person, date=day, created_at=_at(day - timedelta(days=1), 18))
    items = PlanItem.objects.bulk_create([
        PlanItem(plan=plan, customer=customer, kind=rng.choice([PlanItemKind.VISIT, PlanItemKind.CALL]),
                 area=customer.region, starts_at=time(9 + 2 * index, 0), ends_at=time(10 + 2 * index, 0),
                 purpose=rng.choice([Purpose.NEW_DEVELOPMENT, Purpose.SERVICE, Purpose.ORDER,
                                     Purpose.COLLECTION]))
        for index, customer in enumerate(planned)
    ])
    _review_plan(plan, person, reviewer, day, rng, counts)
    for index, item in enumerate(items):
        if rng.random() < 0.8:  # most of the plan gets done
            activity = _activity(person, item.customer, item.kind, item.purpose, _at(day, 9 + 2 * index, 15),
                                 objections, rng)
            PlanItem.objects.filter(pk=item.pk).update(done=True, activity=activity)
    for extra in range(rng.randint(2, 5)):  # calls beyond the plan
        _activity(person, rng.choice(customers), ActivityKind.CALL, Purpose.NEW_DEVELOPMENT,
                  _at(day, 14 + extra % 4, 10 * extra % 60), objections, rng)
    counts["plans"] += 1
    _report_day(person, reviewer, day, today, cutoff, rng, counts)


def _activity(person, customer, kind, purpose, started_at, objections, rng) -> Activity:
    kind = kind if rng.random() < 0.85 else rng.choice([ActivityKind.EMAIL, ActivityKind.MESSAGE])
    stage = None
    if kind == ActivityKind.CALL:
        stage = rng.choices(list(CallStage), weights=[30, 40, 20, 10])[0]
    reached = stage is None or stage >= CallStage.CONNECTED
    return Activity.objects.create(
        owner=person, customer=customer, kind=kind, started_at=started_at, created_at=started_at,
        duration_minutes=rng.choice([5, 10, 15] if kind == ActivityKind.CALL else [30, 45, 60, 90]),
        purpose=purpose, call_stage=stage,
        outcome=rng.choice(OUTCOMES.get(kind, OUTCOMES[ActivityKind.CALL])),
        effective=reached and rng.random() < 0.6,
        objection=rng.choice(objections) if objections and reached and rng.random() < 0.25 else None,
        next_follow_up_on=started_at.date() + timedelta(days=rng.choice([1, 3, 7, 14])),
        competitor_news=rng.choice(COMPETITOR_NEWS) if rng.random() < 0.1 else "",
        expense=Decimal(rng.choice([0, 0, 20, 35, 80])) if kind == ActivityKind.VISIT else Decimal(0),
    )


def _review_plan(plan, person, reviewer, day, rng, counts) -> None:
    submitted = _at(day - timedelta(days=1), 19, rng.randint(0, 59))
    events = [ReviewEvent(plan=plan, from_state=PlanState.DRAFT, to_state=PlanState.SUBMITTED, by=person,
                          at=submitted)]
    state, comment = PlanState.APPROVED, ""
    if rng.random() < 0.12:
        comment = rng.choice(RETURN_COMMENTS)
        events += [
            ReviewEvent(plan=plan, from_state=PlanState.SUBMITTED, to_state=PlanState.RETURNED, by=reviewer,
                        at=submitted + timedelta(hours=1), comment=comment),
            ReviewEvent(plan=plan, from_state=PlanState.RETURNED, to_state=PlanState.SUBMITTED, by=person,
                        at=submitted + timedelta(hours=2)),
        ]
        counts["returned"] += 1
    events.append(ReviewEvent(plan=plan, from_state=PlanState.SUBMITTED, to_state=state, by=reviewer,
                              at=_at(day, 8, 30)))
    ReviewEvent.objects.bulk_create(events)
    DailyPlan.objects.filter(pk=plan.pk).update(state=state, submitted_at=events[-2].at,
                                                reviewed_at=_at(day, 8, 30), reviewed_by=reviewer,
                                                review_comment=comment)


def _report_day(person, reviewer, day, today, cutoff, rng, counts) -> None:
    figures = selectors.day_figures(person, day)
    late = rng.random() < 0.15
    submitted = _at(day, cutoff.hour + 1, rng.randint(0, 59)) if late else _at(day, 18, rng.randint(0, 59))
    report = DailyReport.objects.create(
        owner=person, date=day, attendance=Attendance.PRESENT if rng.random() < 0.9 else Attendance.FIELD,
        complaints_handled=rng.choice([0, 0, 0, 1]), money_collected=figures["collected"],
        order_target=Decimal(rng.choice([20000, 30000, 50000])),
        competitor_info=rng.choice(COMPETITOR_NEWS) if rng.random() < 0.3 else "",
        customer_feedback=rng.choice(["", "Customers ask for shorter delivery times.",
                                      "Price is the main topic."]),
        lessons=rng.choice(["Call the decision maker before 10:00.", "Bring samples to every first visit.",
                            ""]),
        state=ReportState.SIGNED_OFF, first_submitted_at=submitted, submitted_at=submitted, is_late=late,
        reviewed_at=submitted + timedelta(hours=14), reviewed_by=reviewer, created_at=_at(day, 17),
        **{name: figures[name] for name in FIGURE_FIELDS},
    )
    events = [ReviewEvent(report=report, from_state=ReportState.DRAFT, to_state=ReportState.SUBMITTED,
                          by=person,
                          at=submitted)]
    if rng.random() < 0.1:
        comment = RETURN_COMMENTS[2]
        events.append(ReviewEvent(report=report, from_state=ReportState.SUBMITTED,
                                  to_state=ReportState.RETURNED,
                                  by=reviewer, at=submitted + timedelta(hours=13), comment=comment))
        if day >= today - timedelta(days=3):  # a recent one still waits for the fix
            DailyReport.objects.filter(pk=report.pk).update(state=ReportState.RETURNED,
                                                            review_comment=comment)
            ReviewEvent.objects.bulk_create(events)
            counts["returned"] += 1
            counts["reports"] += 1
            counts["late"] += late
            return
        events.append(ReviewEvent(report=report, from_state=ReportState.RETURNED,
                                  to_state=ReportState.SUBMITTED,
                                  by=person, at=submitted + timedelta(hours=14)))
        counts["returned"] += 1
    events.append(ReviewEvent(report=report, from_state=ReportState.SUBMITTED,
                              to_state=ReportState.SIGNED_OFF,
                              by=reviewer, at=submitted + timedelta(hours=15)))
    ReviewEvent.objects.bulk_create(events)
    counts["reports"] += 1
    counts["late"] += late


def _demo_today(person, customers, today, rng, counts) -> None:
    """Today: a submitted plan waiting for the manager, no report yet."""
    plan = DailyPlan.objects.create(owner=person, date=today, state=PlanState.SUBMITTED,
                                    submitted_at=_at(today - timedelta(days=1), 19))
    PlanItem.objects.bulk_create([
        PlanItem(plan=plan, customer=customer, kind=PlanItemKind.VISIT, area=customer.region,
                 starts_at=time(9 + 2 * index, 0), purpose=Purpose.SERVICE)
        for index, customer in enumerate(rng.sample(customers, k=min(len(customers), 3)))
    ])
    ReviewEvent.objects.create(plan=plan, from_state=PlanState.DRAFT, to_state=PlanState.SUBMITTED, by=person,
                               at=plan.submitted_at)
    counts["plans"] += 1


def _demo_escalation(person, reviewer, customer, today, rng, counts) -> None:
    kind = rng.choice(list(MarketReportKind))
    title = "Delivery damaged, customer wants a credit note" if kind == MarketReportKind.COMPLAINT \
        else "Competitor cuts prices by 8 % in our region"
    report = MarketReport.objects.create(owner=person, kind=kind, customer=customer, title=title,
                                         body="Reported during today's visit; see the activity log.",
                                         created_at=_at(today - timedelta(days=rng.randint(1, 5)), 16))
    if reviewer is not None:
        crm_services.notify(recipients=[reviewer], kind=f"escalation_{kind}", title=f"{kind.label}: {title}",
                            body=report.body, url=reverse("activities:market-report-detail",
                                                          args=[report.pk]),
                            customer=customer)
    counts["escalations"] += 1


def _record_contact_dates() -> None:
    """Keep every demo customer's last-activity / last-call / last-visit / next-follow-up
    as logging would: the newest activity of each channel goes through ``record_contact``."""
    newest: dict[tuple[int, str], Activity] = {}
    for activity in Activity.objects.select_related("customer").order_by("started_at"):
        newest[(activity.customer_id, activity.kind)] = activity
    for activity in sorted(newest.values(), key=lambda a: a.started_at):
        crm_services.record_contact(customer=activity.customer, at=activity.started_at, channel=activity.kind,
                                    next_follow_up_on=activity.next_follow_up_on)

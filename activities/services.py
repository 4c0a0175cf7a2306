"""Writes of the daily routine. Every public function is keyword-only, one transaction,
and checks who may call it: ``PermissionDenied`` (403) for the wrong person,
``ValidationError`` (400) for a wrong state or bad input — never a half-done write.

State machines (``DailyPlan``: draft → submitted → approved | returned → submitted …;
``DailyReport``: draft → submitted → signed off | returned → submitted …) move with a
conditional UPDATE on the expected state, so two reviewers clicking at once leave
exactly one decision and one history row.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Action, audit
from crm import services as crm_services
from crm.models import Contact, Customer, User
from funnel import clock
from funnel import services as funnel_services

from . import permissions, selectors
from .models import (
    Activity,
    ActivityKind,
    ActivitySettings,
    CallStage,
    DailyPlan,
    DailyReport,
    MarketReport,
    MarketReportKind,
    Objection,
    PlanItem,
    PlanItemKind,
    PlanState,
    ReportState,
    ReviewEvent,
)

# Clocks differ a little between phones and the server: "now" may be this far ahead.
FUTURE_TOLERANCE = timedelta(minutes=10)
REPORT_EDITABLE_FIELDS = (
    "attendance",
    "complaints_handled",
    "money_collected",
    "order_target",
    "competitor_info",
    "customer_feedback",
    "lessons",
)
FIGURE_FIELDS = (
    "calls",
    "connected_calls",
    "visits",
    "other_activities",
    "effective_activities",
    "expenses",
    "plan_items_planned",
    "plan_items_done",
    "planned_visits",
    "planned_visits_checked_in",
    "check_ins",
    "orders_count",
    "orders_amount",
)


def visible_live_customer(by: User, customer: Customer, field: str = "customer") -> Customer:
    """The customer, read fresh, if ``by`` may see it and it is live. An invisible
    customer is answered as unknown: the caller learns nothing about it."""
    found = Customer.objects.visible_to(by).filter(pk=customer.pk).first()
    if found is None:
        raise ValidationError({field: _("Unknown customer.")})
    if found.is_archived:
        raise ValidationError({field: _("This customer is archived; restore it first.")})
    return found


# --- Activities ---------------------------------------------------------------------------


def effective_for(
    *, kind: str, call_stage: int | None, contact: Contact | None, requested: bool | None
) -> bool:
    """Whether an activity counts as effective: a key person reached with a purpose.

    A call that never got past the dial (``CallStage.DIALLED``) reached nobody, so it is
    never effective, whatever contact was chosen or ``requested`` says — reports can
    then never show more effective calls than connected ones. Otherwise the caller's
    choice stands (unticking is always allowed); with no choice (``None``) it defaults
    to whether the contact is a key person. Shared by logging and the importer."""
    if kind == ActivityKind.CALL and (call_stage or 0) < CallStage.CONNECTED:
        return False
    if requested is None:
        return contact is not None and contact.is_key_person
    return requested


def confirming_call_day(sent_on: date) -> date:
    """The next working day after ``sent_on`` (Friday → Monday): when a fax or a proposal
    e-mail sent that day is confirmed by phone."""
    return clock.next_working_day(sent_on)


@transaction.atomic
def _check_activity(
    *,
    customer: Customer,
    kind: str,
    started_at: datetime,
    now: datetime,
    contact: Contact | None,
    objection: Objection | None,
    call_stage: int | None,
    next_follow_up_on: date | None,
    expense: Decimal | None,
) -> None:
    """Every field at fault, at once (a form shows each error beside its field)."""
    errors: dict[str, str] = {}
    if kind not in ActivityKind.values:
        errors["kind"] = _("Choose a channel.")
    if started_at > now + FUTURE_TOLERANCE:
        errors["started_at"] = _("An activity is logged after it happened, not before.")
    if contact is not None and contact.customer_id != customer.pk:
        errors["contact"] = _("This contact works for another customer.")
    if objection is not None and not objection.active:
        errors["objection"] = _("This objection is no longer in the catalog.")
    if kind == ActivityKind.CALL:
        if call_stage not in CallStage.values:
            errors["call_stage"] = _("Choose how far the call got.")
        if next_follow_up_on is None:
            errors["next_follow_up_on"] = _("Agree the next contact: every call needs a next follow-up date.")
    elif call_stage is not None:
        errors["call_stage"] = _("Only calls have a call stage.")
    if next_follow_up_on is not None and next_follow_up_on < selectors.local_date(started_at):
        errors["next_follow_up_on"] = _("The next follow-up cannot be before the activity.")
    if expense is not None and expense < 0:
        errors["expense"] = _("An expense cannot be negative.")
    if errors:
        raise ValidationError(errors)


def _save_once(activity: Activity) -> Activity:
    """Save a new activity; a resend that lost the race to its twin (the same device key)
    gets the twin back, marked ``resent``."""
    try:
        with transaction.atomic():
            activity.save()
    except IntegrityError:
        if activity.client_key is None:
            raise
        existing = Activity.objects.get(owner=activity.owner, client_key=activity.client_key)
        existing.resent = True
        return existing
    activity.resent = False
    return activity


def _after_logging(activity: Activity) -> None:
    """What one logged activity settles in the same transaction: the customer's contact
    dates, the handover tasks it fulfils and the plan items of that day it does."""
    customer, by, started_at = activity.customer, activity.owner, activity.started_at
    crm_services.record_contact(
        customer=customer, at=started_at, channel=activity.kind, next_follow_up_on=activity.next_follow_up_on
    )
    funnel_services.complete_handover_tasks(customer=customer, channel=activity.kind, by=by, at=started_at)
    # Set-based: every open item for this customer on that day's plan is now done.
    PlanItem.objects.filter(
        plan__owner=by,
        plan__date=selectors.local_date(started_at),
        customer=customer,
        done=False,
    ).update(done=True, activity=activity)


def log_activity(
    *,
    by: User,
    customer: Customer,
    kind: str,
    purpose: str,
    started_at: datetime | None = None,
    duration_minutes: int = 0,
    contact: Contact | None = None,
    outcome: str = "",
    effective: bool | None = None,
    objection: Objection | None = None,
    next_follow_up_on: date | None = None,
    competitor_news: str = "",
    expense: Decimal = Decimal(0),
    call_stage: int | None = None,
    proposal_sent: bool = False,
    client_key: uuid.UUID | None = None,
) -> Activity:
    """Log a call, visit, e-mail, message or meeting that ``by`` had with ``customer``.

    Anyone who can see the (live) customer may log one; it is credited to ``by``. A call
    needs the next follow-up date agreed (part of every call) and a call stage (default
    connected). ``effective`` means a key person was reached with a purpose (see
    ``effective_for``): it defaults to whether the contact is a key person (decision maker
    or recommender), the salesperson may untick it, and a call that was only dialled is
    stored as not effective whatever was asked or whichever contact was chosen. Keeps the
    customer's last-activity / last-call / last-visit and next-follow-up dates
    (``crm.services.record_contact``), completes the handover tasks the activity
    fulfils (``funnel.services.complete_handover_tasks``) and ticks the matching items
    of ``by``'s plan for that day as done — all in this transaction.

    A fax, or an e-mail with ``proposal_sent``, is confirmed by phone (the method:
    传真发过去一定要电话确认): without a follow-up date of the caller's own, the next
    follow-up becomes the next working day (``confirming_call_day``) and
    ``activity.confirming_call_on`` says so.

    ``client_key`` (made on the device, e.g. for a call logged offline) makes a resend
    harmless: the same key from the same person returns the activity it first made
    (``activity.resent`` is then true), and the unique constraint settles a race.
    """
    if client_key is not None:
        existing = Activity.objects.filter(owner=by, client_key=client_key).first()
        if existing is not None:
            existing.resent = True
            return existing
    customer = visible_live_customer(by, customer)
    now = timezone.now()
    started_at = started_at or now
    if kind == ActivityKind.CALL and call_stage is None:
        call_stage = CallStage.CONNECTED
    _check_activity(
        customer=customer,
        kind=kind,
        started_at=started_at,
        now=now,
        contact=contact,
        objection=objection,
        call_stage=call_stage,
        next_follow_up_on=next_follow_up_on,
        expense=expense,
    )
    confirming_call_on = None
    if next_follow_up_on is None and Activity.confirms_by_phone(kind, proposal_sent):
        next_follow_up_on = confirming_call_on = confirming_call_day(selectors.local_date(started_at))
    effective = effective_for(kind=kind, call_stage=call_stage, contact=contact, requested=effective)
    activity = Activity(
        owner=by,
        customer=customer,
        contact=contact,
        kind=kind,
        started_at=started_at,
        duration_minutes=duration_minutes or 0,
        purpose=purpose,
        call_stage=call_stage,
        outcome=outcome.strip(),
        effective=effective,
        objection=objection,
        next_follow_up_on=next_follow_up_on,
        competitor_news=competitor_news.strip(),
        expense=expense or Decimal(0),
        created_at=now,
        client_key=client_key,
        proposal_sent=proposal_sent,
    )
    activity.full_clean(exclude=["owner", "customer", "contact", "objection"])
    saved = _save_once(activity)
    if saved is not activity:
        return saved
    activity.confirming_call_on = confirming_call_on
    _after_logging(activity)
    return activity


# --- Daily plan -------------------------------------------------------------------------


REVIEW_DECISIONS = {PlanState.APPROVED, PlanState.RETURNED, ReportState.SIGNED_OFF, ReportState.RETURNED}


def _record(
    *,
    plan: DailyPlan | None = None,
    report: DailyReport | None = None,
    from_state: str,
    to_state: str,
    by: User,
    at: datetime,
    comment: str = "",
) -> ReviewEvent:
    """Append the state change to the plan's/report's history; a manager's decision also
    goes to the security audit log (approvals are audited events)."""
    if to_state in REVIEW_DECISIONS:
        audit(
            actor=by,
            action=Action.APPROVAL,
            obj=plan or report,
            detail={
                "kind": "daily_plan" if plan else "daily_report",
                "decision": to_state,
                "comment": comment[:200],
            },
        )
    return ReviewEvent.objects.create(
        plan=plan, report=report, from_state=from_state, to_state=to_state, by=by, at=at, comment=comment
    )


def _ensure_owner(by: User, row) -> None:
    if not permissions.is_owner(by, row):
        raise PermissionDenied(_("Only the salesperson whose day it is may change or submit it."))


def _ensure_reviewer(by: User, row) -> None:
    if not permissions.is_reviewer_of(by, row.owner):
        raise PermissionDenied(_("Only the salesperson's manager or an admin may review this."))


def _transition(model, row, *, from_states: tuple[str, ...], to_state: str, refused: str, **fields) -> str:
    """Move ``row`` to ``to_state`` only if it is still in one of ``from_states`` (a
    conditional UPDATE: of two simultaneous clicks exactly one wins). Returns the
    state it left."""
    current = model.objects.select_for_update().filter(pk=row.pk).values_list("state", flat=True).first()
    updated = model.objects.filter(pk=row.pk, state__in=from_states).update(state=to_state, **fields)
    if not updated:
        raise ValidationError(refused)
    for name, value in fields.items():
        setattr(row, name, value)
    row.state = to_state
    return current


@transaction.atomic
def open_plan(*, by: User, day: date) -> DailyPlan:
    """The caller's plan for ``day`` (today or later), created as a draft the first time.
    Idempotent: one plan per person and day (a unique constraint closes the race)."""
    if day < timezone.localdate():
        raise ValidationError({"date": _("Plans are made for today or a day ahead.")})
    try:
        with transaction.atomic():
            plan, _created = DailyPlan.objects.get_or_create(owner=by, date=day)
    except IntegrityError:
        plan = DailyPlan.objects.get(owner=by, date=day)
    return plan


def _ensure_plan_editable(by: User, plan: DailyPlan) -> DailyPlan:
    _ensure_owner(by, plan)
    plan = DailyPlan.objects.select_for_update().get(pk=plan.pk)
    if not plan.is_editable:
        raise ValidationError(
            _("This plan is %(state)s; only a draft or a returned plan can be changed.")
            % {"state": plan.get_state_display().lower()}
        )
    return plan


@transaction.atomic
def add_plan_item(
    *,
    plan: DailyPlan,
    by: User,
    customer: Customer,
    purpose: str,
    kind: str = PlanItemKind.VISIT,
    area: str = "",
    starts_at: time | None = None,
    ends_at: time | None = None,
    note: str = "",
) -> PlanItem:
    """Put a customer ``by`` may see on their own draft or returned plan."""
    plan = _ensure_plan_editable(by, plan)
    customer = visible_live_customer(by, customer)
    if starts_at and ends_at and ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The time slot must end after it starts.")})
    item = PlanItem(
        plan=plan,
        customer=customer,
        kind=kind,
        area=(area or customer.region).strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        purpose=purpose,
        note=note.strip(),
    )
    item.full_clean(exclude=["plan", "customer", "activity"])
    item.save()
    return item


# More than a day's work: the customer list's "add to plan" refuses a bigger selection.
PLAN_ADD_LIMIT = 100


@dataclass(frozen=True)
class PlanAddResult:
    """What ``add_customers_to_plan`` did: the plan, the items it added, how many of the
    customers were on the plan already and how many it did not know (not visible to the
    caller, archived or gone)."""

    plan: DailyPlan
    added: list[PlanItem]
    already_planned: int
    unknown: int


@transaction.atomic
def add_customers_to_plan(
    *, by: User, customer_ids: list[int], day: date, kind: str = PlanItemKind.VISIT
) -> PlanAddResult:
    """Put customers on ``by``'s own plan for ``day`` in one click (my day, the customer
    list's selection, the customer page): the plan is opened as a draft if needed, each
    new item takes the customer's region as its area and the purpose its grade suggests
    (``selectors.default_purpose``), with no time slot.

    Any signed-in user, for customers they may see; the others are counted as unknown
    and nothing is said about them. A plan already submitted or approved is refused
    (``ValidationError``) and nothing is added. Idempotent: customers already on the
    plan are skipped; the plan row is locked, so two clicks at once add each customer
    once. Three to five queries whatever the number of customers (one INSERT)."""
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        raise ValidationError({"customer": _("Choose at least one customer.")})
    if len(ids) > PLAN_ADD_LIMIT:
        raise ValidationError(
            {"customer": _("Add at most %(limit)s customers to a plan at once.") % {"limit": PLAN_ADD_LIMIT}}
        )
    if kind not in PlanItemKind.values:
        raise ValidationError({"kind": _("Choose a visit or a call.")})
    plan = _ensure_plan_editable(by, open_plan(by=by, day=day))
    customers = list(
        Customer.objects.visible_to(by)
        .live()
        .filter(pk__in=ids)
        .select_related("grade")
        .order_by("name", "pk")
    )
    if not customers:
        raise ValidationError({"customer": _("Unknown customer.")})
    planned = set(
        PlanItem.objects.filter(plan=plan, customer__in=customers).values_list("customer_id", flat=True)
    )
    added = PlanItem.objects.bulk_create(
        [
            PlanItem(
                plan=plan,
                customer=customer,
                kind=kind,
                area=customer.region.strip(),
                purpose=selectors.default_purpose(customer),
            )
            for customer in customers
            if customer.pk not in planned
        ]
    )
    return PlanAddResult(
        plan=plan, added=added, already_planned=len(planned), unknown=len(ids) - len(customers)
    )


@transaction.atomic
def remove_plan_item(*, item: PlanItem, by: User) -> None:
    """Take an item off the owner's draft or returned plan."""
    _ensure_plan_editable(by, item.plan)
    PlanItem.objects.filter(pk=item.pk).delete()


@transaction.atomic
def set_plan_item_done(*, item: PlanItem, by: User, done: bool) -> PlanItem:
    """The owner ticks an item done (or not) by hand, in any state: it is execution,
    not the plan the manager approved."""
    _ensure_owner(by, item.plan)
    PlanItem.objects.filter(pk=item.pk).update(done=done)
    item.done = done
    return item


@transaction.atomic
def submit_plan(*, plan: DailyPlan, by: User) -> DailyPlan:
    """The owner submits a draft or returned plan with at least one item."""
    _ensure_owner(by, plan)
    if not PlanItem.objects.filter(plan=plan).exists():
        raise ValidationError(_("Add at least one customer to the plan before submitting it."))
    now = timezone.now()
    previous = _transition(
        DailyPlan,
        plan,
        from_states=DailyPlan.EDITABLE_STATES,
        to_state=PlanState.SUBMITTED,
        refused=_("This plan has already been submitted."),
        submitted_at=now,
    )
    _record(plan=plan, from_state=previous, to_state=PlanState.SUBMITTED, by=by, at=now)
    return plan


@transaction.atomic
def approve_plan(*, plan: DailyPlan, by: User, comment: str = "") -> DailyPlan:
    """The owner's manager (team tree) or an admin approves a submitted plan. Approving
    twice is refused: there is one approval."""
    _ensure_reviewer(by, plan)
    now = timezone.now()
    previous = _transition(
        DailyPlan,
        plan,
        from_states=(PlanState.SUBMITTED,),
        to_state=PlanState.APPROVED,
        refused=_("Only a submitted plan can be approved."),
        reviewed_at=now,
        reviewed_by=by,
        review_comment=comment.strip(),
    )
    _record(
        plan=plan, from_state=previous, to_state=PlanState.APPROVED, by=by, at=now, comment=comment.strip()
    )
    return plan


@transaction.atomic
def return_plan(*, plan: DailyPlan, by: User, comment: str) -> DailyPlan:
    """The owner's manager or an admin returns a submitted plan with a comment (required);
    the owner is told in the app and may edit and resubmit it."""
    _ensure_reviewer(by, plan)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": _("Say why the plan is returned.")})
    now = timezone.now()
    previous = _transition(
        DailyPlan,
        plan,
        from_states=(PlanState.SUBMITTED,),
        to_state=PlanState.RETURNED,
        refused=_("Only a submitted plan can be returned."),
        reviewed_at=now,
        reviewed_by=by,
        review_comment=comment,
    )
    _record(plan=plan, from_state=previous, to_state=PlanState.RETURNED, by=by, at=now, comment=comment)
    crm_services.notify(
        recipients=[plan.owner],
        kind="plan_returned",
        title=_("Your plan for %(date)s was returned") % {"date": plan.date.isoformat()},
        body=comment,
        url=reverse("activities:plan-detail", args=[plan.pk]),
    )
    return plan


# --- Daily report -----------------------------------------------------------------------


def report_cutoff(day: date) -> datetime:
    """When a report for ``day`` becomes late: the cut-off time of that day, company time zone."""
    return timezone.make_aware(datetime.combine(day, ActivitySettings.load().report_cutoff))


def _refresh_figures(report: DailyReport) -> dict:
    figures = selectors.day_figures(report.owner, report.date)
    for name in FIGURE_FIELDS:
        setattr(report, name, figures[name])
    return figures


@transaction.atomic
def open_report(*, by: User, day: date) -> DailyReport:
    """The caller's report for ``day`` (today or earlier), created the first time and
    filled in from the day's activities, plan and orders; money collected and
    competitor news start from what the day's records say. Idempotent."""
    if day > timezone.localdate():
        raise ValidationError({"date": _("A day is reported on the day or after it.")})
    report = DailyReport.objects.filter(owner=by, date=day).first()
    if report is not None:
        return report
    report = DailyReport(owner=by, date=day)
    figures = _refresh_figures(report)
    report.money_collected = figures["collected"]
    report.competitor_info = "\n".join(
        f"{activity.customer.name}: {activity.competitor_news}"
        for activity in selectors.activities_of_owner_on(by, day)
        if activity.competitor_news
    )
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        report = DailyReport.objects.get(owner=by, date=day)
    return report


def _ensure_report_editable(by: User, report: DailyReport) -> DailyReport:
    _ensure_owner(by, report)
    report = DailyReport.objects.select_for_update().select_related("owner").get(pk=report.pk)
    if not report.is_editable:
        raise ValidationError(
            _("This report is %(state)s; only a draft or a returned report can be changed.")
            % {"state": report.get_state_display().lower()}
        )
    return report


@transaction.atomic
def update_report(*, report: DailyReport, by: User, **fields) -> DailyReport:
    """The owner fills in their draft or returned report; the figures are refreshed."""
    unknown = set(fields) - set(REPORT_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not report fields: {sorted(unknown)}")
    report = _ensure_report_editable(by, report)
    for name, value in fields.items():
        setattr(report, name, value)
    _refresh_figures(report)
    report.full_clean(exclude=["owner", "reviewed_by"], validate_unique=False, validate_constraints=False)
    report.save()
    return report


@transaction.atomic
def submit_report(*, report: DailyReport, by: User) -> DailyReport:
    """The owner submits a draft or returned report; the figures are frozen as submitted.

    Timeliness is judged on the first submission: a report first submitted after the
    cut-off of its day is late; resubmitting after the manager returned it neither
    makes an on-time report late nor a late one on time.
    """
    report = _ensure_report_editable(by, report)
    now = timezone.now()
    _refresh_figures(report)
    report.save(update_fields=list(FIGURE_FIELDS))
    first = report.first_submitted_at or now
    previous = _transition(
        DailyReport,
        report,
        from_states=DailyReport.EDITABLE_STATES,
        to_state=ReportState.SUBMITTED,
        refused=_("This report has already been submitted."),
        submitted_at=now,
        first_submitted_at=first,
        is_late=first > report_cutoff(report.date),
    )
    _record(report=report, from_state=previous, to_state=ReportState.SUBMITTED, by=by, at=now)
    return report


@transaction.atomic
def sign_off_report(*, report: DailyReport, by: User, comment: str = "") -> DailyReport:
    """The owner's manager (team tree) or an admin signs off a submitted report (核签批示),
    with an optional comment. Signing off twice is refused."""
    _ensure_reviewer(by, report)
    now = timezone.now()
    previous = _transition(
        DailyReport,
        report,
        from_states=(ReportState.SUBMITTED,),
        to_state=ReportState.SIGNED_OFF,
        refused=_("Only a submitted report can be signed off."),
        reviewed_at=now,
        reviewed_by=by,
        review_comment=comment.strip(),
    )
    _record(
        report=report,
        from_state=previous,
        to_state=ReportState.SIGNED_OFF,
        by=by,
        at=now,
        comment=comment.strip(),
    )
    return report


@transaction.atomic
def return_report(*, report: DailyReport, by: User, comment: str) -> DailyReport:
    """The owner's manager or an admin returns a submitted report with a comment (required)."""
    _ensure_reviewer(by, report)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": _("Say why the report is returned.")})
    now = timezone.now()
    previous = _transition(
        DailyReport,
        report,
        from_states=(ReportState.SUBMITTED,),
        to_state=ReportState.RETURNED,
        refused=_("Only a submitted report can be returned."),
        reviewed_at=now,
        reviewed_by=by,
        review_comment=comment,
    )
    _record(report=report, from_state=previous, to_state=ReportState.RETURNED, by=by, at=now, comment=comment)
    crm_services.notify(
        recipients=[report.owner],
        kind="report_returned",
        title=_("Your report for %(date)s was returned") % {"date": report.date.isoformat()},
        body=comment,
        url=reverse("activities:report-detail", args=[report.pk]),
    )
    return report


# --- Escalation ---------------------------------------------------------------------------


@transaction.atomic
def file_market_report(
    *, by: User, kind: str, title: str, body: str, customer: Customer | None = None
) -> MarketReport:
    """A market-situation report or a complaint (市场状况反映表 / 客诉) by any signed-in
    user, about a customer they can see or none. It reaches their manager at once:
    an in-app notification now and an e-mail through the outbox after commit."""
    if kind not in MarketReportKind.values:
        raise ValidationError({"kind": _("Choose a market situation report or a complaint.")})
    if not title.strip() or not body.strip():
        raise ValidationError({"title" if not title.strip() else "body": _("This field is required.")})
    if customer is not None:
        customer = visible_live_customer(by, customer)
    report = MarketReport.objects.create(
        owner=by, kind=kind, title=title.strip()[:200], body=body.strip(), customer=customer
    )
    about = f" · {customer.name}" if customer is not None else ""
    crm_services.notify(
        recipients=selectors.managers_of(by),
        kind=f"escalation_{kind}",
        title=f"{MarketReportKind(kind).label}: {report.title}{about}",
        body=_("%(name)s reports:") % {"name": by.display_name} + f"\n\n{report.body}",
        url=reverse("activities:market-report-detail", args=[report.pk]),
        customer=customer,
        email=True,
    )
    return report

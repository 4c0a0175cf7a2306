"""Writes of the funnel: grades (the only way grades move), owners (reassignment,
departure, the public pool), stagnation alerts, handover tasks and conflicts.

Every public function is keyword-only, runs in one transaction and says who may call
it and what makes it safe to repeat.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import (
    Case,
    DateField,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from simple_history.utils import bulk_update_with_history

from crm import services as crm_services
from crm.audit import Action, audit
from crm.models import CrmSettings, Customer, KeyPersonRole, Order, Team, User

from . import clock, permissions
from .models import (
    CHANNEL_COMPLETES,
    HANDOVER_KINDS,
    CloseReason,
    ConflictClaim,
    ConflictStatus,
    FunnelSettings,
    Grade,
    GradeChange,
    GradeKind,
    HandoverStatus,
    HandoverStep,
    HandoverTask,
    PoolReturnWarning,
    Reassignment,
    ReassignmentKind,
    StagnationAlert,
)


class StaleWrite(Exception):
    """The customer changed since the caller looked (another person won the race): the
    write was not applied; reload and decide again. The API answers 409 Conflict."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class GradeConflict(StaleWrite):
    """The customer's grade is no longer the one the caller saw."""


def _check_grade_skip(*, customer: Customer, grade: Grade, note: str) -> None:
    """The method when moving up more than one open grade at once (unless the admin
    switched ``FunnelSettings.grade_skip_rule`` off): a reason is required, and no grade
    passed through or reached may require a decision maker the customer lacks. Moves
    down, one step up, from or to won/lost are not skips."""
    current = customer.grade
    if not (current.kind == GradeKind.OPEN and grade.kind == GradeKind.OPEN and grade.order > current.order):
        return
    crossed = list(Grade.objects.open().filter(order__gt=current.order, order__lte=grade.order))
    if len(crossed) < 2 or not FunnelSettings.load().grade_skip_rule:
        return
    errors = {}
    gate = next((step for step in crossed if step.requires_decision_maker), None)
    if gate is not None and not customer.contacts.filter(role=KeyPersonRole.DECISION_MAKER).exists():
        errors["grade"] = _("%(grade)s needs a decision maker: add one to the contacts first.") % {
            "grade": gate.code
        }
    if not note:
        errors["note"] = _("Moving up more than one grade needs a reason.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def change_grade(
    *, customer: Customer, grade: Grade, by: User, note: str = "", expected_grade_id: int | None = None
) -> GradeChange:
    """Move ``customer`` to ``grade``: records from/to/when/who/note, resets the time in
    grade and the stagnation clock (calendar or working days, by the funnel settings)
    and closes the open stagnation alert of the stay that ends. Moving to lost needs a
    reason (the note); so does skipping open grades upwards, which also needs a decision
    maker for any grade passed that requires one (``_check_grade_skip``).

    Concurrency: the customer row alone is locked (``Customer.objects.for_update``) and
    re-read, so simultaneous moves apply one after the other, each from the grade the
    one before left. A caller acting on what a person saw (the page, the API) passes
    that grade as ``expected_grade_id``: when another move came first, nothing is
    written and ``GradeConflict`` is raised (API 409). Either way the history stays
    one row per applied move, a consistent chain. The caller must be allowed to see
    the customer (views and the API check visibility first). A probability override
    is kept: a stage move does not silently wipe a salesperson's judgement.
    """
    customer = Customer.objects.for_update("grade").get(pk=customer.pk)
    if customer.is_archived:
        raise ValidationError(_("An archived customer cannot change grade; restore it first."))
    if expected_grade_id is not None and customer.grade_id != expected_grade_id:
        raise GradeConflict(
            _(
                "The grade of %(name)s was changed by someone else meanwhile (it is now %(grade)s); "
                "reload and try again."
            )
            % {"name": customer.name, "grade": customer.grade.code}
        )
    if grade.pk == customer.grade_id:
        raise ValidationError({"grade": _("The customer is already at this grade.")})
    note = note.strip()
    if grade.kind == GradeKind.LOST and not note:
        raise ValidationError({"note": _("Say why the customer was lost.")})
    _check_grade_skip(customer=customer, grade=grade, note=note)
    now = timezone.now()
    change = GradeChange.objects.create(
        customer=customer,
        from_grade=customer.grade,
        to_grade=grade,
        changed_at=now,
        changed_by=by,
        owner=customer.owner,
        note=note,
        days_in_previous=(now - customer.grade_entered_at).days,
    )
    customer.grade = grade
    customer.grade_entered_at = now
    customer.lost_reason = note if grade.kind == GradeKind.LOST else ""
    limit = grade.stagnation_days if grade.is_open else None
    customer.stagnant_from = clock.stagnant_from(now, limit, FunnelSettings.load().day_count)
    close_stagnation_alerts(customer_ids=[customer.pk], reason=CloseReason.GRADE_CHANGED, at=now)
    customer._history_user = by
    customer._change_reason = _("Grade %(from)s → %(to)s") % {
        "from": change.from_grade.code,
        "to": grade.code,
    }
    customer.save(update_fields=["grade", "grade_entered_at", "lost_reason", "stagnant_from", "updated_at"])
    return change


@transaction.atomic
def record_order(
    *,
    customer: Customer,
    by: User,
    amount: Decimal,
    signed_on: date,
    gross_profit: Decimal = Decimal(0),
    collected_amount: Decimal = Decimal(0),
    collected_on: date | None = None,
    note: str = "",
) -> Order:
    """Record a signed order; when the company setting says so, the customer moves to won."""
    order = crm_services.create_order(
        customer=customer,
        by=by,
        amount=amount,
        signed_on=signed_on,
        gross_profit=gross_profit,
        collected_amount=collected_amount,
        collected_on=collected_on,
        note=note,
    )
    if CrmSettings.load().won_on_order:
        won = Grade.objects.filter(kind=GradeKind.WON).order_by("order").first()
        customer.refresh_from_db(fields=["grade"])
        if won is not None and customer.grade_id != won.pk:
            change_grade(
                customer=customer, grade=won, by=by, note=_("Order of %(amount)s signed") % {"amount": amount}
            )
    return order


@transaction.atomic
def save_grade(*, grade: Grade, by: User) -> Grade:
    """Save a grade's configuration (admin) and, when its limit or probability changed,
    re-time the stagnation clock (and raise or close the alerts that follow from it) or
    recompute the weighted value of every customer at it (without an override) —
    set-based UPDATEs, whatever the number of customers."""
    grade.full_clean()
    created = grade.pk is None
    previous_days, previous_probability = Grade.objects.filter(pk=grade.pk).values_list(
        "stagnation_days", "probability"
    ).first() or (None, None)
    grade._history_user = by
    grade.save()
    audit(
        actor=by, action=Action.GRADE_CONFIG, obj=grade, detail={"change": "added" if created else "changed"}
    )
    if grade.pk and previous_days != grade.stagnation_days:
        refresh_stagnation_clock(grade)
        # Now, not at the next scan: the alerts page keeps agreeing with the funnel.
        scan_stagnation(on=timezone.localdate(), notify=False, customers=Q(grade=grade))
    if not created and previous_probability != grade.probability:
        crm_services.refresh_weighted_values(
            Customer.objects.filter(grade=grade, probability_override__isnull=True)
        )
    return grade


@transaction.atomic
def delete_grade(*, grade: Grade, by: User) -> None:
    """Delete a grade no customer is at (admin), audited like every configuration change."""
    audit(actor=by, action=Action.GRADE_CONFIG, obj=grade, detail={"change": "deleted"})
    grade.delete()


def refresh_stagnation_clock(grade: Grade, *, day_count: str | None = None, only_stale: bool = False) -> int:
    """Recompute ``stagnant_from`` for customers at ``grade`` (one set-based UPDATE),
    counting calendar or working days as the funnel settings say. ``only_stale``
    touches only rows whose value differs (the daily scan re-times customers that
    ``crm.services.create_customer`` timed in calendar days)."""
    customers = Customer.objects.filter(grade=grade)
    if not grade.stagnation_days or not grade.is_open:  # won and lost never stagnate
        return customers.filter(stagnant_from__isnull=False).update(stagnant_from=None)
    day_count = day_count or FunnelSettings.load().day_count
    expression = clock.stagnant_from_expression(grade.stagnation_days, day_count)
    if only_stale:
        customers = customers.exclude(stagnant_from=expression)
    return customers.update(stagnant_from=expression)


# --- Handover tasks (工作交接) ---------------------------------------------------------


@transaction.atomic
def complete_handover_tasks(*, customer: Customer, channel: str, by: User, at: datetime) -> int:
    """Mark the customer's open handover tasks that an activity on ``channel`` ("visit",
    "call" or "email") fulfils as done, by ``by`` at ``at``; returns how many.

    Called by the activities app's log-activity service inside its transaction (any
    user who may log an activity on the customer). A visit also fulfils a call task.
    Tasks created after ``at`` stay open (an activity logged late does not complete a
    handover that began after it). Idempotent: done tasks are never touched again.
    """
    kinds = CHANNEL_COMPLETES.get(channel)
    if not kinds:
        return 0
    return HandoverTask.objects.filter(
        customer_id=customer.pk,
        status=HandoverStatus.OPEN,
        kind__in=kinds,
        created_at__lte=at,
    ).update(status=HandoverStatus.DONE, done_at=at, done_by=by, done_via=channel)


@transaction.atomic
def tick_handover_task(*, task: HandoverTask, by: User) -> HandoverTask:
    """Tick a handover task done by hand: the new owner, a manager over them or an admin.
    Idempotent: a done task is returned unchanged; a cancelled one is refused."""
    task = HandoverTask.objects.select_for_update(of=("self",)).select_related("owner").get(pk=task.pk)
    if not permissions.can_tick(by, task):
        raise PermissionDenied(_("Only the new owner or their manager can tick this task."))
    if task.status == HandoverStatus.DONE:
        return task
    if task.status == HandoverStatus.CANCELLED:
        raise ValidationError(_("This task was cancelled: the customer moved on to someone else."))
    task.status = HandoverStatus.DONE
    task.done_at = timezone.now()
    task.done_by = by
    task.done_via = "tick"
    task.save(update_fields=["status", "done_at", "done_by", "done_via"])
    return task


def _create_handover_tasks(records: list[Reassignment], now: datetime) -> list[HandoverTask]:
    """Copy each grade's handover template for the new owners (one read, one insert)."""
    steps: dict[int, list[HandoverStep]] = defaultdict(list)
    grade_ids = {record.grade_id for record in records}
    for step in HandoverStep.objects.filter(grade_id__in=grade_ids).order_by("order", "pk"):
        steps[step.grade_id].append(step)
    today = timezone.localdate(now)
    return HandoverTask.objects.bulk_create(
        [
            HandoverTask(
                reassignment=record,
                step=step,
                customer_id=record.customer_id,
                owner_id=record.to_owner_id,
                kind=step.kind,
                description=step.description,
                created_at=now,
                due_on=today + timedelta(days=step.due_in_days),
            )
            for record in records
            for step in steps[record.grade_id]
        ]
    )


# --- Settings and stagnation alerts (停滞预警) ------------------------------------------


@transaction.atomic
def save_funnel_settings(*, settings_row: FunnelSettings, by: User) -> FunnelSettings:
    """Save the funnel settings (admins). Switching between calendar and working days
    re-times every grade's stagnation clock (one UPDATE per grade) and the alerts with it."""
    settings_row.pk = 1
    settings_row.full_clean()
    previous = FunnelSettings.objects.filter(pk=1).values_list("day_count", flat=True).first()
    settings_row.save()
    audit(actor=by, action=Action.GRADE_CONFIG, obj=settings_row, detail={"change": "funnel settings"})
    if previous != settings_row.day_count:
        for grade in Grade.objects.all():
            refresh_stagnation_clock(grade, day_count=settings_row.day_count)
        scan_stagnation(on=timezone.localdate(), notify=False)  # the alerts follow the new clocks now
    return settings_row


def close_stagnation_alerts(*, customer_ids: list[int], reason: str, at: datetime) -> int:
    """Close the open alerts of these customers (their stay ended). Joins the caller's transaction."""
    return StagnationAlert.objects.filter(customer_id__in=customer_ids, closed_at__isnull=True).update(
        closed_at=at,
        close_reason=reason,
    )


def _insert_from_select(model, queryset, columns: dict[str, object]) -> int:
    """``INSERT INTO model (columns) SELECT … ON CONFLICT DO NOTHING`` in one statement;
    returns the number of rows inserted. ``columns`` maps the target's field names to
    expressions over ``queryset``'s model. The unique constraints are the idempotency
    keys: rows that exist already are skipped by the database, not by Python."""
    columns = dict(columns)
    for model_field in model._meta.concrete_fields:  # the others get their defaults, as in save()
        if not model_field.primary_key and model_field.name not in columns:
            columns[model_field.name] = Value(model_field.get_default(), output_field=model_field)
    aliases = {f"insert_column_{index}": expression for index, expression in enumerate(columns.values())}
    select = queryset.order_by().annotate(**aliases).values(*aliases)
    sql, params = select.query.sql_with_params()
    quote = connection.ops.quote_name
    names = ", ".join(quote(model._meta.get_field(name).column) for name in columns)
    with connection.cursor() as cursor:
        # SQLite needs the SELECT's WHERE clause before ON CONFLICT (always present here).
        table = quote(model._meta.db_table)
        cursor.execute(f"INSERT INTO {table} ({names}) {sql} ON CONFLICT DO NOTHING", params)  # noqa: S608
        return max(cursor.rowcount, 0)


def _manager_of(
    owner_id: int | None, team_manager_id: int | None, parent_manager_id: int | None
) -> int | None:
    """The manager of the owner's team (or of its parent team when it has none), not the owner."""
    for manager_id in (team_manager_id, parent_manager_id):
        if manager_id is not None and manager_id != owner_id:
            return manager_id
    return None


def _digest_body(lines: list[str], limit: int = 20) -> str:
    body = "\n".join(f"- {line}" for line in lines[:limit])
    if len(lines) > limit:
        body += "\n" + _("… and %(count)d more.") % {"count": len(lines) - limit}
    return body


@dataclass(frozen=True)
class StagnationScan:
    retimed: int
    raised: int
    reopened: int
    closed: int
    notified: int


# A snooze ends by this many days at the latest: long enough to wait for a customer's
# next budget round, short enough that no stuck customer is silenced for good.
MAX_SNOOZE_DAYS = 90


@transaction.atomic
def scan_stagnation(*, on: date, notify: bool = True, customers: Q | None = None) -> StagnationScan:
    """停滞预警 for the day ``on``: afterwards the open alerts are exactly the customers
    stuck (``crm.models.stuck_q``) — what the funnel and customer pages call stuck.

    Every stay stuck by the end of ``on`` (and not later than now) gets its alert; a
    closed alert of the customer's current stay opens again when it is stuck again (a
    customer claimed back from the pool, a grade's limit lowered back); an open alert
    whose customer is no longer stuck closes (limit raised or removed, archived). With
    ``notify``, the owner and the owner's manager get one in-app notification and one
    e-mail digest each of the alerts nobody was told about yet.

    Callers: the ``funnel.tasks.scan_stagnation`` task (each morning with the digests,
    every hour without), ``seed_demo``, and the services that change who is stuck at
    once (``save_grade``, ``save_funnel_settings``, ``claim_customer``), which pass
    ``customers``, a filter on the customers concerned. Set-based: one UPDATE per
    grade re-times stale clocks (full runs only: customers created in calendar days
    while the company counts working days), one UPDATE each closes and reopens, one
    INSERT … SELECT raises, one read feeds the digests — the number of queries does not
    depend on the number of customers. Idempotency key: the stay ``(customer,
    grade_entered_at)``, a unique constraint, so a retry or a second run changes and
    notifies nothing. Full runs take the settings row lock: concurrent runs go one after
    the other and a digest is never sent twice.
    """
    full = customers is None
    retimed = 0
    if full:
        funnel_settings = FunnelSettings.load_for_update()
        retimed = sum(
            refresh_stagnation_clock(grade, day_count=funnel_settings.day_count, only_stale=True)
            for grade in Grade.objects.all()
        )
    now = timezone.now()
    concerned = Customer.objects.filter(customers or Q())
    alerts = StagnationAlert.objects.filter(customer__in=concerned) if not full else StagnationAlert.objects
    current_stuck_stay = Exists(
        Customer.objects.stuck(now).filter(
            pk=OuterRef("customer_id"), grade_entered_at=OuterRef("grade_entered_at")
        )
    )
    closed = (
        alerts.open().exclude(current_stuck_stay).update(closed_at=now, close_reason=CloseReason.NOT_STUCK)
    )
    current_owner = Customer.objects.filter(pk=OuterRef("customer_id")).values("owner_id")
    # What may open again (stagnationalert_reopenable_idx): a grade change ends the stay for good.
    reopenable = Q(close_reason__in=[CloseReason.POOL, CloseReason.NOT_STUCK])
    reopened = alerts.filter(reopenable, current_stuck_stay).update(
        closed_at=None,
        close_reason="",
        owner_id=Subquery(current_owner),
        notified_at=None,
        snoozed_until=None,
        snooze_reason="",
        snoozed_by=None,
        snoozed_at=None,
    )
    by_end_of_day = min(now, clock.start_of_day(on + timedelta(days=1)))
    raised = _insert_from_select(
        StagnationAlert,
        concerned.stuck(by_end_of_day),
        {
            "customer": F("pk"),
            "grade": F("grade_id"),
            "owner": F("owner_id"),
            "grade_entered_at": F("grade_entered_at"),
            "stagnant_from": F("stagnant_from"),
            "raised_on": Value(on, output_field=DateField()),
            "created_at": Value(now, output_field=DateTimeField()),
        },
    )
    notified = _send_stagnation_digests(now) if notify and full else 0
    return StagnationScan(retimed=retimed, raised=raised, reopened=reopened, closed=closed, notified=notified)


def _send_stagnation_digests(now: datetime) -> int:
    """One in-app notification and one e-mail per person for the open alerts nobody was
    told about yet; then every alert counts as told (a closed one needs no news)."""
    rows = (
        StagnationAlert.objects.open()
        .filter(notified_at__isnull=True)
        .order_by("stagnant_from", "pk")
        .values_list(
            "customer__name",
            "grade__code",
            "stagnant_from",
            "owner_id",
            "owner__first_name",
            "owner__last_name",
            "owner__username",
            "owner__team__manager_id",
            "owner__team__parent__manager_id",
        )
    )
    lines_for: dict[int, list[str]] = defaultdict(list)
    for name, code, since, owner_id, first, last, username, manager_id, parent_manager_id in rows:
        since_text = date_format(timezone.localtime(since), "SHORT_DATE_FORMAT")
        lines_for[owner_id].append(
            _("%(customer)s at %(grade)s, stuck since %(date)s")
            % {"customer": name, "grade": code, "date": since_text}
        )
        manager = _manager_of(owner_id, manager_id, parent_manager_id)
        if manager is not None:
            owner_name = User.name_from(first, last, username)
            lines_for[manager].append(
                _("%(customer)s at %(grade)s (%(owner)s), stuck since %(date)s")
                % {"customer": name, "grade": code, "owner": owner_name, "date": since_text}
            )
    StagnationAlert.objects.filter(notified_at__isnull=True).update(notified_at=now)
    url = reverse("funnel:alert-list")
    people = User.objects.filter(pk__in=lines_for, is_active=True).order_by("pk")
    for person in people:
        lines = lines_for[person.pk]
        crm_services.notify(
            recipients=[person],
            kind="stagnation",
            url=url,
            email=True,
            body=_digest_body(lines),
            title=ngettext(
                "Stagnation alert: %(count)d customer is stuck in its grade",
                "Stagnation alert: %(count)d customers are stuck in their grade",
                len(lines),
            )
            % {"count": len(lines)},
        )
    return len(people)


@transaction.atomic
def snooze_alert(*, alert: StagnationAlert, by: User, until: date, reason: str) -> StagnationAlert:
    """Put an open alert off until ``until`` (after today, within ``MAX_SNOOZE_DAYS``),
    with a reason: e.g. "the buyer is back from leave on the 20th".

    The customer stays stuck — counted on the funnel, listed under "Snoozed" on the
    alerts page — but leaves "my day" and the "to act on" list until that day, when it
    comes back by itself (no job needed). A grade change still closes it.

    Callers: whoever sees the alert (its customer's owner, a manager over them, an
    admin); views and the API fetch it through ``selectors.alerts_visible_to`` first,
    so anyone else gets a 404. Locks the alert row. Idempotent: the same date and
    reason again change nothing; another date or reason replaces the snooze.
    """
    reason = (reason or "").strip()
    today = timezone.localdate()
    errors = {}
    if not reason:
        errors["reason"] = _("Say why this alert can wait.")
    if until <= today:
        errors["until"] = _("Choose a day after today.")
    elif until > today + timedelta(days=MAX_SNOOZE_DAYS):
        errors["until"] = _("An alert can wait %(days)d days at most.") % {"days": MAX_SNOOZE_DAYS}
    if errors:
        raise ValidationError(errors)
    alert = StagnationAlert.objects.select_for_update().get(pk=alert.pk)
    if not alert.is_open:
        raise ValidationError(_("This alert has closed: the customer is no longer stuck at that grade."))
    if (alert.snoozed_until, alert.snooze_reason) == (until, reason):
        return alert
    alert.snoozed_until, alert.snooze_reason = until, reason
    alert.snoozed_by, alert.snoozed_at = by, timezone.now()
    alert.save(update_fields=["snoozed_until", "snooze_reason", "snoozed_by", "snoozed_at"])
    return alert


# --- Reassignment (改派) -----------------------------------------------------------------


class ReassignConflict(StaleWrite):
    """The owner changed since the caller looked (another person won the race): reload."""


@dataclass(frozen=True)
class Refusal:
    customer: Customer
    code: str  # "locked", "conflict", "forbidden", "same_owner", "archived", "gone"
    message: str


@dataclass
class ReassignResult:
    moved: list[Reassignment] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def _refusal(
    customer: Customer, *, seen_owner_id: int | None, new_owner: User, by: User, force: bool
) -> Refusal | None:
    name = customer.name
    if customer.is_archived:
        return Refusal(customer, "archived", _("%(name)s is archived; restore it first.") % {"name": name})
    if customer.owner_id != seen_owner_id:
        owner = customer.owner.display_name if customer.owner else _("the public pool")
        return Refusal(
            customer,
            "conflict",
            _(
                "%(name)s was moved by someone else meanwhile (it is now with %(owner)s); "
                "reload and try again."
            )
            % {"name": name, "owner": owner},
        )
    if customer.owner_id == new_owner.pk:
        return Refusal(
            customer,
            "same_owner",
            _("%(name)s is already owned by %(owner)s.") % {"name": name, "owner": new_owner.display_name},
        )
    if not permissions.can_reassign(by, customer.owner, new_owner):
        return Refusal(
            customer,
            "forbidden",
            _("You may not move %(name)s: its current and new owner must both be in your team.")
            % {"name": name},
        )
    if customer.grade.locked and not force:
        return Refusal(
            customer,
            "locked",
            _(
                "%(name)s is at the locked grade %(grade)s: its owner cannot change now. "
                "An admin may force the move with a written reason."
            )
            % {"name": name, "grade": customer.grade.code},
        )
    return None


def _set_owner(
    customers: list[Customer], owner: User | None, *, by: User | None, reason: str, now: datetime
) -> None:
    """Write the new owner of locked customer rows, with their field history (one bulk
    UPDATE and one history INSERT), cancel the handover tasks of their old owners, and
    let their open conflict claims follow."""
    ids = [c.pk for c in customers]
    HandoverTask.objects.filter(customer_id__in=ids, status=HandoverStatus.OPEN).update(
        status=HandoverStatus.CANCELLED
    )
    _conflicts_follow_owner(ids, owner, by=by, now=now)
    for customer in customers:
        customer.owner = owner
        customer.updated_at = now
    bulk_update_with_history(
        customers,
        Customer,
        ["owner", "updated_at"],
        default_user=by,
        default_change_reason=reason[:100],
        default_date=now,
    )


def _conflicts_follow_owner(
    customer_ids: list[int], owner: User | None, *, by: User | None, now: datetime
) -> None:
    """Open conflict claims over customers that change owner follow them, so a manager
    always settles between the claimant and whoever holds the customer now: they stand
    against the new owner; one who is the claimant has the customer (transferred); a
    customer in the public pool is the claimant's to claim there (closed)."""
    claims = ConflictClaim.objects.open().filter(customer_id__in=customer_ids)
    if owner is None:
        claims.settle_by_event(
            ConflictStatus.CLOSED,
            by=by,
            at=now,
            note=_("The customer went to the public pool: claim it there."),
        )
        return
    claims.filter(claimant=owner).settle_by_event(
        ConflictStatus.TRANSFERRED, by=by, at=now, note=_("The customer was reassigned to the claimant.")
    )
    claims.exclude(claimant=owner).update(holder=owner)


def customer_archived(
    customer: Customer, *, by: User | None, now: datetime, merged_into: Customer | None
) -> None:
    """An archived customer needs no handover: its open tasks are cancelled. Its open
    conflict claims close, or, when it was merged into another customer, follow it
    there and stand against that customer's owner (``crm.extensions`` archive step)."""
    HandoverTask.objects.filter(customer=customer, status=HandoverStatus.OPEN).update(
        status=HandoverStatus.CANCELLED
    )
    if merged_into is not None:
        _conflicts_follow_owner([customer.pk], merged_into.owner, by=by, now=now)
        return
    ConflictClaim.objects.open().filter(customer=customer).settle_by_event(
        ConflictStatus.CLOSED, by=by, at=now, note=_("The customer was archived.")
    )


@transaction.atomic
def reassign(
    *,
    customers: Iterable[Customer],
    new_owner: User,
    by: User,
    reason: str,
    force: bool = False,
    expected_owners: Mapping[int, int | None] | None = None,
    kind: str = ReassignmentKind.REASSIGN,
) -> ReassignResult:
    """改派: move one or many customers to ``new_owner``; returns what moved and what was
    refused, each with a clear message (the others go through).

    Who may call: managers within their team tree (old and new owner both in it),
    admins anywhere. A customer at a locked grade is refused unless an admin forces
    it (``force``); a reason is always required and recorded. Every move appends a
    ``Reassignment`` row, records the field history, cancels the old owner's open
    handover tasks and creates the grade's handover tasks for the new owner.

    Concurrency: the customer rows (and the new owner's row) are locked in id order,
    and each customer's owner must still be the one the caller saw
    (``expected_owners``: customer id → owner id; default: the owners of the given
    instances). Of two managers moving the same customer at once, the second finds
    another owner and gets a "conflict" refusal: one move, one history row.
    """
    customers = list(customers)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the customers are reassigned.")})
    if force and not permissions.can_force(by):
        raise PermissionDenied(_("Only an admin may force a reassignment past a locked grade."))
    new_owner = User.objects.select_for_update().filter(pk=new_owner.pk).first()
    if new_owner is None or not new_owner.is_active:
        raise ValidationError({"owner": _("The new owner must be an active user.")})
    seen = dict(expected_owners) if expected_owners is not None else {c.pk: c.owner_id for c in customers}
    rows = {
        c.pk: c
        for c in Customer.objects.for_update("grade", "owner").filter(pk__in=list(seen)).order_by("pk")
    }
    result = ReassignResult()
    movers: list[Customer] = []
    for customer_id in sorted(seen):
        customer = rows.get(customer_id)
        if customer is None:
            continue
        refusal = _refusal(customer, seen_owner_id=seen[customer_id], new_owner=new_owner, by=by, force=force)
        if refusal is not None:
            result.refused.append(refusal)
        else:
            movers.append(customer)
    if not movers:
        return result
    now = timezone.now()
    old_owners = {c.pk: c.owner for c in movers}
    result.moved = Reassignment.objects.bulk_create(
        [
            Reassignment(
                customer=c,
                from_owner=c.owner,
                to_owner=new_owner,
                by=by,
                at=now,
                kind=kind,
                grade=c.grade,
                reason=reason,
                forced=force and c.grade.locked,
            )
            for c in movers
        ]
    )
    _set_owner(movers, new_owner, by=by, reason=reason, now=now)
    if kind in HANDOVER_KINDS:
        _create_handover_tasks(result.moved, now)
    _tell_owners_about_moves(movers, old_owners, new_owner=new_owner, by=by, reason=reason, kind=kind)
    audit(
        actor=by,
        action=Action.REASSIGN,
        obj=movers[0] if len(movers) == 1 else new_owner,
        detail={
            "kind": kind,
            "to": new_owner.pk,
            "count": len(movers),
            "customers": [c.pk for c in movers][:200],
            "forced": any(r.forced for r in result.moved),
        },
    )
    return result


def _tell_owners_about_moves(
    movers: list[Customer],
    old_owners: dict[int, User | None],
    *,
    new_owner: User,
    by: User,
    reason: str,
    kind: str,
) -> None:
    names = [c.name for c in movers]
    single = movers[0] if len(movers) == 1 else None
    url = reverse("crm:customer-detail", args=[single.pk]) if single else reverse("funnel:handover-tasks")
    if new_owner.pk != by.pk:
        crm_services.notify(
            recipients=[new_owner],
            kind="reassignment",
            url=url,
            customer=single,
            email=True,
            title=ngettext(
                "%(count)d customer handed over to you", "%(count)d customers handed over to you", len(movers)
            )
            % {"count": len(movers)},
            body=_("By %(by)s: %(reason)s") % {"by": by.display_name, "reason": reason}
            + "\n"
            + _digest_body(names),
        )
    if kind == ReassignmentKind.DEPARTURE:
        return
    by_old_owner: dict[int, list[str]] = defaultdict(list)
    people: dict[int, User] = {}
    for customer in movers:
        old = old_owners[customer.pk]
        if old is not None and old.pk != by.pk:
            by_old_owner[old.pk].append(customer.name)
            people[old.pk] = old
    for owner_id, owner_names in by_old_owner.items():
        crm_services.notify(
            recipients=[people[owner_id]],
            kind="reassignment",
            title=ngettext(
                "%(count)d of your customers was reassigned to %(name)s",
                "%(count)d of your customers were reassigned to %(name)s",
                len(owner_names),
            )
            % {"count": len(owner_names), "name": new_owner.display_name},
            body=_("By %(by)s: %(reason)s") % {"by": by.display_name, "reason": reason}
            + "\n"
            + _digest_body(owner_names),
        )


_AS_GIVEN = object()


@transaction.atomic
def reassign_customer(
    *,
    customer: Customer,
    new_owner: User,
    by: User,
    reason: str,
    force: bool = False,
    expected_owner_id=_AS_GIVEN,
    kind: str = ReassignmentKind.REASSIGN,
) -> Reassignment:
    """改派 of one customer (see ``reassign``). Raises instead of returning a refusal:
    ``ReassignConflict`` when the owner changed since the caller looked (API 409),
    ``PermissionDenied`` outside the caller's team tree, ``ValidationError`` otherwise
    (locked grade, same owner, archived). ``expected_owner_id`` defaults to the owner
    of the given instance."""
    expected = customer.owner_id if expected_owner_id is _AS_GIVEN else expected_owner_id
    result = reassign(
        customers=[customer],
        new_owner=new_owner,
        by=by,
        reason=reason,
        force=force,
        expected_owners={customer.pk: expected},
        kind=kind,
    )
    if result.moved:
        return result.moved[0]
    if not result.refused:
        raise ReassignConflict(_("This customer no longer exists."))
    refusal = result.refused[0]
    if refusal.code == "conflict":
        raise ReassignConflict(refusal.message)
    if refusal.code == "forbidden":
        raise PermissionDenied(refusal.message)
    raise ValidationError(refusal.message)


# --- Departure (离职交接) ----------------------------------------------------------------


@dataclass
class DepartureResult:
    moved: list[Reassignment]
    archived_released: int


@transaction.atomic
def apply_departure(
    *, leaver: User, assignments: Mapping[int, User], by: User, reason: str = "", force: bool = False
) -> DepartureResult:
    """Hand every live customer of ``leaver`` to the chosen teammates
    (``assignments``: customer id → new owner), create the handover tasks, release
    their archived customers (no owner; restored ones go to the pool), close the
    leaver's own open conflict claims and deactivate the leaver — all in one
    transaction: any refusal (a locked grade without an admin's force, a teammate
    outside the caller's team) changes nothing.

    Who may call: a manager for a member of their tree, an admin for anyone. Not
    idempotent by itself: a second run finds no customers left and an inactive user.
    """
    if not permissions.can_run_departure(by, leaver):
        raise PermissionDenied(_("You may not run a departure for this person."))
    reason = (reason or "").strip() or _("Departure of %(name)s") % {"name": leaver.display_name}
    live = {c.pk: c for c in Customer.objects.filter(owner=leaver, archived_at__isnull=True)}
    missing = set(live) - set(assignments)
    if missing:
        raise ValidationError(
            ngettext(
                "%(count)d customer has no new owner yet.",
                "%(count)d customers have no new owner yet.",
                len(missing),
            )
            % {"count": len(missing)}
        )
    if set(assignments) - set(live):
        raise ValidationError(
            _("Some customers are no longer owned by %(name)s; reload the wizard.")
            % {"name": leaver.display_name}
        )
    if any(owner.pk == leaver.pk for owner in assignments.values()):
        raise ValidationError(_("Choose teammates other than the person leaving."))
    groups: dict[int, list[int]] = defaultdict(list)
    owners: dict[int, User] = {}
    for customer_id, owner in assignments.items():
        groups[owner.pk].append(customer_id)
        owners[owner.pk] = owner
    result = DepartureResult(moved=[], archived_released=0)
    refused: list[Refusal] = []
    for owner_id in sorted(groups):
        outcome = reassign(
            customers=[live[pk] for pk in groups[owner_id]],
            new_owner=owners[owner_id],
            by=by,
            reason=reason,
            force=force,
            kind=ReassignmentKind.DEPARTURE,
            expected_owners=dict.fromkeys(groups[owner_id], leaver.pk),
        )
        result.moved += outcome.moved
        refused += outcome.refused
    if refused:
        raise ValidationError([refusal.message for refusal in refused])
    archived = list(
        Customer.objects.for_update("grade").filter(owner=leaver, archived_at__isnull=False).order_by("pk")
    )
    if archived:
        now = timezone.now()
        Reassignment.objects.bulk_create(
            [
                Reassignment(
                    customer=c,
                    from_owner=leaver,
                    to_owner=None,
                    by=by,
                    at=now,
                    grade=c.grade,
                    kind=ReassignmentKind.DEPARTURE,
                    reason=reason,
                )
                for c in archived
            ]
        )
        _set_owner(archived, None, by=by, reason=reason, now=now)
        result.archived_released = len(archived)
    ConflictClaim.objects.open().filter(claimant=leaver).settle_by_event(
        ConflictStatus.CLOSED,
        by=by,
        at=timezone.now(),
        note=_("%(name)s left the company.") % {"name": leaver.display_name},
    )
    crm_services.deactivate_user(user=leaver, by=by)
    return result


# --- Public pool (公海) ---------------------------------------------------------------


def _move_to_pool(
    customers: list[Customer], *, by: User | None, kind: str, reasons: dict[int, str], now: datetime
) -> list[Reassignment]:
    """Locked, owned customers to the pool: history rows, no owner, their alerts closed
    and open handover tasks cancelled (nobody is left to do them)."""
    records = Reassignment.objects.bulk_create(
        [
            Reassignment(
                customer=c,
                from_owner_id=c.owner_id,
                to_owner=None,
                by=by,
                at=now,
                kind=kind,
                grade=c.grade,
                reason=reasons[c.pk],
            )
            for c in customers
        ]
    )
    close_stagnation_alerts(customer_ids=[c.pk for c in customers], reason=CloseReason.POOL, at=now)
    _set_owner(customers, None, by=by, reason=next(iter(reasons.values()), ""), now=now)
    return records


def open_customer_count(owner: User) -> int:
    """Live customers at open grades: what the pool's per-salesperson cap counts."""
    return Customer.objects.filter(owner=owner, archived_at__isnull=True, grade__kind=GradeKind.OPEN).count()


def _ensure_may_claim(by: User, customer: Customer, funnel_settings: FunnelSettings, now: datetime) -> None:
    cap = funnel_settings.max_customers_per_salesperson
    if cap is not None:
        owned = open_customer_count(by)
        if owned >= cap:
            raise ValidationError(
                _(
                    "You already own %(count)d open customers, the most one salesperson may hold (%(cap)d). "
                    "Close or release some first."
                )
                % {"count": owned, "cap": cap}
            )
    per_day = funnel_settings.claims_per_day
    if per_day is not None:
        today = clock.start_of_day(timezone.localdate(now))
        claimed = Reassignment.objects.filter(to_owner=by, kind=ReassignmentKind.CLAIM, at__gte=today).count()
        if claimed >= per_day:
            raise ValidationError(
                ngettext(
                    "You have claimed %(count)d customer today, the daily limit. Try again tomorrow.",
                    "You have claimed %(count)d customers today, the daily limit. Try again tomorrow.",
                    claimed,
                )
                % {"count": claimed}
            )
    if funnel_settings.reclaim_wait_days:
        lost = (
            Reassignment.objects.filter(
                customer=customer,
                from_owner=by,
                kind__in=[ReassignmentKind.RELEASE, ReassignmentKind.POOL_RETURN],
            )
            .order_by("-at")
            .values_list("at", flat=True)
            .first()
        )
        if lost is not None:
            until = lost + timedelta(days=funnel_settings.reclaim_wait_days)
            if until > now:
                raise ValidationError(
                    _("You lost this customer to the pool on %(date)s; you may claim it back from %(until)s.")
                    % {
                        "date": date_format(timezone.localtime(lost), "SHORT_DATE_FORMAT"),
                        "until": date_format(timezone.localtime(until), "SHORT_DATE_FORMAT"),
                    }
                )


@transaction.atomic
def claim_customer(*, customer: Customer, by: User) -> Reassignment:
    """领取: take a customer from the public pool (salespeople and managers, for themselves).

    Refused past the admin's caps: open customers per salesperson, claims per day, and
    the wait before a previous owner may claim back a customer they lost to the pool.
    Concurrency: the claimer's own row is locked (their caps are counted one claim at a
    time) and the claim itself is a conditional ``UPDATE … WHERE owner IS NULL``: of
    two people claiming the same customer at once exactly one wins; the other gets
    ``ReassignConflict``. A customer at a locked grade may be claimed (nobody's deal
    is at stake while it sits in the pool).
    """
    if not permissions.can_claim(by):
        raise PermissionDenied(_("Only salespeople and managers claim customers from the pool."))
    funnel_settings = FunnelSettings.load()
    User.objects.select_for_update().get(pk=by.pk)
    now = timezone.now()
    _ensure_may_claim(by, customer, funnel_settings, now)
    won = Customer.objects.filter(pk=customer.pk, owner__isnull=True, archived_at__isnull=True).update(
        owner=by, updated_at=now
    )
    if not won:
        raise ReassignConflict(_("Someone else has just claimed this customer, or it left the pool."))
    customer = Customer.objects.select_related("grade").get(pk=customer.pk)
    customer._history_user = by
    customer._change_reason = _("Claimed from the pool")
    customer.save(update_fields=["updated_at"])
    # Owned again, a customer past its grade's limit is stuck again: its alert with it.
    scan_stagnation(on=timezone.localdate(now), notify=False, customers=Q(pk=customer.pk))
    return Reassignment.objects.create(
        customer=customer,
        from_owner=None,
        to_owner=by,
        by=by,
        at=now,
        kind=ReassignmentKind.CLAIM,
        grade=customer.grade,
    )


@transaction.atomic
def release_customer(*, customer: Customer, by: User, reason: str) -> Reassignment:
    """退回公海 by hand: the owner, a manager over them or an admin sends a customer to the
    pool, with a reason. Never from a locked grade. The owner is told when someone
    else released it."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the customer goes back to the pool.")})
    customer = Customer.objects.for_update("grade", "owner").get(pk=customer.pk)
    if customer.owner_id is None:
        raise ReassignConflict(_("This customer is already in the public pool."))
    if not permissions.can_release(by, customer):
        raise PermissionDenied(_("Only the owner or their manager can release this customer."))
    if customer.is_archived:
        raise ValidationError(_("An archived customer cannot go to the pool; restore it first."))
    if customer.grade.locked:
        raise ValidationError(
            _("%(name)s is at the locked grade %(grade)s: it cannot go to the pool now.")
            % {"name": customer.name, "grade": customer.grade.code}
        )
    owner = customer.owner
    record = _move_to_pool(
        [customer], by=by, kind=ReassignmentKind.RELEASE, reasons={customer.pk: reason}, now=timezone.now()
    )[0]
    if owner.pk != by.pk:
        crm_services.notify(
            recipients=[owner],
            kind="pool",
            customer=customer,
            email=True,
            title=_("%(name)s was released to the public pool") % {"name": customer.name},
            body=_("By %(by)s: %(reason)s") % {"by": by.display_name, "reason": reason},
        )
    return record


def idle_since_expression():
    """When the current owner last worked the customer: the latest of its last activity
    (or creation), its last grade change, and the moment it came to this owner."""
    came_to_owner = (
        Reassignment.objects.filter(customer=OuterRef("pk"), to_owner=OuterRef("owner"))
        .order_by("-at")
        .values("at")[:1]
    )
    return Greatest(
        Coalesce("last_activity_at", "created_at"),
        F("grade_entered_at"),
        Coalesce(Subquery(came_to_owner, output_field=DateTimeField()), "created_at"),
        output_field=DateTimeField(),
    )


def pool_return_candidates():
    """Live, owned customers at open, unlocked grades with pool-return days, annotated
    with ``idle_since`` and ``pool_return_at`` (idle since + the grade's days)."""
    grades = list(Grade.objects.open().filter(locked=False, pool_return_days__gt=0))
    if not grades:
        return Customer.objects.none(), grades
    due_after = Case(
        *[When(grade_id=grade.pk, then=Value(timedelta(days=grade.pool_return_days))) for grade in grades],
        output_field=DurationField(),
    )
    queryset = (
        Customer.objects.filter(archived_at__isnull=True, owner__isnull=False, grade__in=grades)
        .annotate(idle_since=idle_since_expression())
        .annotate(pool_return_at=ExpressionWrapper(F("idle_since") + due_after, output_field=DateTimeField()))
    )
    return queryset, grades


@dataclass(frozen=True)
class PoolSweep:
    warned: int
    returned: int


@transaction.atomic
def return_idle_customers(*, on: date) -> PoolSweep:
    """退回公海, the daily sweep for the day ``on``: customers whose owner did nothing with
    them for their grade's pool-return days (as of the start of ``on``) go back to the
    pool (never from a locked grade) and the old owner is told; owners are warned the
    configured number of days before.

    Called by the daily ``funnel.tasks.return_idle_customers``. Set-based: the
    warnings are one INSERT … SELECT (idempotency key: customer, owner and due
    moment), the returns one locked read and bulk writes. A second run finds nothing
    new: returned customers have no owner, warned ones have their row.
    """
    funnel_settings = FunnelSettings.load_for_update()
    candidates, grades = pool_return_candidates()
    if not grades:
        return PoolSweep(warned=0, returned=0)
    cutoff = clock.start_of_day(on)
    now = timezone.now()
    warn_until = cutoff + timedelta(days=funnel_settings.pool_warning_days)
    warned = 0
    if funnel_settings.pool_warning_days:
        warned = _insert_from_select(
            PoolReturnWarning,
            candidates.filter(pool_return_at__gt=cutoff, pool_return_at__lte=warn_until),
            {
                "customer": F("pk"),
                "owner": F("owner_id"),
                "due_at": F("pool_return_at"),
                "created_at": Value(now, output_field=DateTimeField()),
                "notified_at": Value(now, output_field=DateTimeField()),
            },
        )
        if warned:
            _send_pool_warnings(now)
    due = list(candidates.filter(pool_return_at__lte=cutoff).for_update("grade", "owner").order_by("pk"))
    if due:
        reasons = {c.pk: _("No activity for %(days)d days") % {"days": c.grade.pool_return_days} for c in due}
        old_owners = {c.pk: c.owner for c in due}
        _move_to_pool(due, by=None, kind=ReassignmentKind.POOL_RETURN, reasons=reasons, now=now)
        _tell_owners_about_returns(due, old_owners)
    return PoolSweep(warned=warned, returned=len(due))


def _send_pool_warnings(created_at: datetime) -> None:
    rows = (
        PoolReturnWarning.objects.filter(created_at=created_at)
        .order_by("due_at", "pk")
        .values_list("owner_id", "customer__name", "due_at")
    )
    lines_for: dict[int, list[str]] = defaultdict(list)
    for owner_id, name, due_at in rows:
        lines_for[owner_id].append(
            _("%(customer)s goes back to the pool on %(date)s")
            % {"customer": name, "date": date_format(timezone.localtime(due_at), "SHORT_DATE_FORMAT")}
        )
    for person in User.objects.filter(pk__in=lines_for, is_active=True).order_by("pk"):
        lines = lines_for[person.pk]
        crm_services.notify(
            recipients=[person],
            kind="pool_warning",
            email=True,
            url=reverse("crm:customer-list"),
            title=ngettext(
                "%(count)d customer goes back to the pool soon without activity",
                "%(count)d customers go back to the pool soon without activity",
                len(lines),
            )
            % {"count": len(lines)},
            body=_("Log a call or a visit to keep them.") + "\n" + _digest_body(lines),
        )


def _tell_owners_about_returns(customers: list[Customer], old_owners: dict[int, User]) -> None:
    names_for: dict[int, list[str]] = defaultdict(list)
    people: dict[int, User] = {}
    for customer in customers:
        owner = old_owners[customer.pk]
        names_for[owner.pk].append(customer.name)
        people[owner.pk] = owner
    for owner_id, names in names_for.items():
        crm_services.notify(
            recipients=[people[owner_id]],
            kind="pool",
            email=True,
            url=reverse("funnel:pool-list"),
            title=ngettext(
                "%(count)d customer went back to the public pool",
                "%(count)d customers went back to the public pool",
                len(names),
            )
            % {"count": len(names)},
            body=_("They had no activity for their grade's pool-return days.") + "\n" + _digest_body(names),
        )


# --- Conflicts (撞单) -------------------------------------------------------------------


def _managers_over(*people: User) -> list[User]:
    """The managers of these people's teams (their parent team's when a team has none)."""
    teams = Team.objects.filter(pk__in={p.team_id for p in people if p.team_id}).select_related(
        "manager", "parent__manager"
    )
    managers = {}
    for team in teams:
        manager = team.manager or (team.parent.manager if team.parent else None)
        if manager is not None:
            managers[manager.pk] = manager
    return list(managers.values())


@transaction.atomic
def raise_conflict(
    *, by: User, first_contact_on: date, evidence: str, name: str = "", phone: str = "", email: str = ""
) -> ConflictClaim:
    """撞单: a salesperson refused a customer because a colleague owns it claims it, with
    their evidence (first contact date, notes). The customer is found by the same
    duplicate check that refused them; the managers over both are told.

    Who may call: salespeople and managers. One open claim per person and customer
    (checked under the customer's row lock).
    """
    if not permissions.can_claim(by):
        raise PermissionDenied(_("Only salespeople and managers raise conflicts."))
    evidence = (evidence or "").strip()
    errors = {}
    if not evidence:
        errors["evidence"] = _("Describe your evidence: who you spoke to, when, and what was agreed.")
    if first_contact_on > timezone.localdate():
        errors["first_contact_on"] = _("The first contact cannot be in the future.")
    if not (name.strip() or phone.strip() or email.strip()):
        errors["name"] = _("Enter the customer's name, phone or e-mail as you tried to register it.")
    if errors:
        raise ValidationError(errors)
    found = crm_services.find_duplicate(name=name, phone=phone, email=email)
    if found is None:
        raise ValidationError(_("No existing customer matches: you can simply create it."))
    customer = Customer.objects.for_update("owner").get(pk=found[1].pk)
    if customer.owner_id is None:
        raise ValidationError(_("This customer is in the public pool: claim it there."))
    if customer.owner_id == by.pk:
        raise ValidationError(_("You already own this customer."))
    if ConflictClaim.objects.filter(customer=customer, claimant=by, status=ConflictStatus.OPEN).exists():
        raise ValidationError(
            _("You have already raised a conflict for this customer; a manager will settle it.")
        )
    conflict = ConflictClaim.objects.create(
        customer=customer,
        claimant=by,
        holder=customer.owner,
        first_contact_on=first_contact_on,
        evidence=evidence,
        claimed_as=(name.strip() or phone.strip() or email.strip())[:200],
    )
    crm_services.notify(
        recipients=[m for m in _managers_over(by, customer.owner) if m.pk != by.pk],
        kind="conflict",
        email=True,
        url=reverse("funnel:conflict-detail", args=[conflict.pk]),
        title=_("Conflict to settle: %(claimant)s claims %(customer)s, owned by %(holder)s")
        % {"claimant": by.display_name, "customer": customer.name, "holder": customer.owner.display_name},
        body=evidence,
    )
    return conflict


@transaction.atomic
def settle_conflict(
    *, conflict: ConflictClaim, by: User, outcome: str, note: str = "", force: bool = False
) -> ConflictClaim:
    """Settle a conflict: keep (the owner keeps it), transfer (reassigned to the claimant
    with handover tasks, locks respected unless an admin forces with the note as
    reason) or share (the claimant's evidence becomes a note on the customer). Both
    salespeople are told.

    Who may call: a manager over both salespeople, an admin for any. Idempotency: the
    conflict row is locked and must still be open.
    """
    # The customer's row first, as every change of owner locks it before its claims.
    Customer.objects.select_for_update(of=("self",)).filter(pk=conflict.customer_id).only("pk").first()
    conflict = (
        ConflictClaim.objects.select_for_update(of=("self",))
        .select_related("customer", "claimant", "holder")
        .get(pk=conflict.pk)
    )
    if not permissions.can_settle(by, conflict):
        raise PermissionDenied(
            _("A manager over both salespeople settles this conflict (an admin across teams).")
        )
    if not conflict.is_open:
        raise ValidationError(_("This conflict was already settled."))
    note = (note or "").strip()
    customer = conflict.customer
    if outcome == ConflictStatus.TRANSFERRED:
        if force and not note:
            raise ValidationError({"note": _("Forcing past a locked grade needs a written reason.")})
        reassign_customer(
            customer=customer,
            new_owner=conflict.claimant,
            by=by,
            force=force,
            expected_owner_id=conflict.holder_id,
            kind=ReassignmentKind.CONFLICT,
            reason=note
            or _("Conflict settled in favour of %(name)s") % {"name": conflict.claimant.display_name},
        )
    elif outcome == ConflictStatus.SHARED:
        shared = _("Shared from %(name)s's conflict claim (first contact %(date)s): %(evidence)s") % {
            "name": conflict.claimant.display_name,
            "evidence": conflict.evidence,
            "date": date_format(conflict.first_contact_on, "SHORT_DATE_FORMAT"),
        }
        crm_services.update_customer(customer=customer, by=by, notes=f"{customer.notes}\n\n{shared}".strip())
    elif outcome != ConflictStatus.KEPT:
        raise ValidationError({"outcome": _("Choose keep, transfer or share.")})
    conflict.status = outcome
    conflict.settled_by = by
    conflict.settled_at = timezone.now()
    conflict.settlement_note = note
    conflict.save(update_fields=["status", "settled_by", "settled_at", "settlement_note"])
    crm_services.notify(
        recipients=[conflict.claimant, conflict.holder],
        kind="conflict",
        email=True,
        url=reverse("funnel:conflict-detail", args=[conflict.pk]),
        title=_("Conflict over %(customer)s settled: %(outcome)s")
        % {"customer": conflict.claimed_as, "outcome": conflict.get_status_display()},
        body=note,
    )
    return conflict

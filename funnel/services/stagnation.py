"""Settings and stagnation alerts (停滞预警): the stagnation clock of every stay,
the scan that raises and closes alerts, the digests and the snooze."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DateField, DateTimeField, Exists, F, OuterRef, Q, Subquery, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.audit import Action, audit
from core.models import Grade
from crm import services as crm_services
from crm.models import Customer, User

from .. import clock
from ..models import CloseReason, FunnelSettings, StagnationAlert
from ._common import _digest_body, _insert_from_select


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


def close_stagnation_alerts(*, customer_ids: list[int], reason: str, at: datetime) -> int:
    """Close the open alerts of these customers (their stay ended). Joins the caller's transaction."""
    return StagnationAlert.objects.filter(customer_id__in=customer_ids, closed_at__isnull=True).update(
        closed_at=at,
        close_reason=reason,
    )


def _manager_of(
    owner_id: int | None, team_manager_id: int | None, parent_manager_id: int | None
) -> int | None:
    """The manager of the owner's team (or of its parent team when it has none), not the owner."""
    for manager_id in (team_manager_id, parent_manager_id):
        if manager_id is not None and manager_id != owner_id:
            return manager_id
    return None


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

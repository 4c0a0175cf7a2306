"""Public pool (公海): claiming, releasing, and the daily return of idle customers."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    DateTimeField,
    DurationField,
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

from core.models import Grade, GradeKind
from crm import services as crm_services
from crm.models import Customer, User

from .. import clock, permissions
from ..models import CloseReason, FunnelSettings, PoolReturnWarning, Reassignment, ReassignmentKind
from ._common import _digest_body, _insert_from_select
from .reassignment import ReassignConflict, _set_owner
from .stagnation import close_stagnation_alerts, scan_stagnation


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

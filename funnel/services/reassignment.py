"""Reassignment (改派): managers move customers between owners. ``_set_owner``, the
owner write that departures and the pool share, cancels the old owner's handover tasks
and lets open conflict claims follow the customer."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from simple_history.utils import bulk_update_with_history

from core.audit import Action, audit
from crm import services as crm_services
from crm.models import Customer, User

from .. import permissions
from ..models import (
    HANDOVER_KINDS,
    ConflictClaim,
    ConflictStatus,
    HandoverStatus,
    HandoverTask,
    Reassignment,
    ReassignmentKind,
)
from ._common import StaleWrite, _digest_body
from .handover import _create_handover_tasks


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
    result = ReassignResult()
    movers, result.refused = _lock_movers(seen, new_owner=new_owner, by=by, force=force)
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
    _audit_moves(movers, result.moved, new_owner=new_owner, by=by, kind=kind)
    return result


def _lock_movers(
    seen: Mapping[int, int | None], *, new_owner: User, by: User, force: bool
) -> tuple[list[Customer], list[Refusal]]:
    """Lock the customers in id order and sort them into those that move and the
    refusals; customers deleted meanwhile are neither."""
    rows = {
        c.pk: c
        for c in Customer.objects.for_update("grade", "owner").filter(pk__in=list(seen)).order_by("pk")
    }
    movers: list[Customer] = []
    refused: list[Refusal] = []
    for customer_id in sorted(seen):
        customer = rows.get(customer_id)
        if customer is None:
            continue
        refusal = _refusal(customer, seen_owner_id=seen[customer_id], new_owner=new_owner, by=by, force=force)
        if refusal is not None:
            refused.append(refusal)
        else:
            movers.append(customer)
    return movers, refused


def _audit_moves(
    movers: list[Customer], records: list[Reassignment], *, new_owner: User, by: User, kind: str
) -> None:
    """One audit row per call: the customer when one moved, else the new owner with the ids."""
    audit(
        actor=by,
        action=Action.REASSIGN,
        obj=movers[0] if len(movers) == 1 else new_owner,
        detail={
            "kind": kind,
            "to": new_owner.pk,
            "count": len(movers),
            "customers": [c.pk for c in movers][:200],
            "forced": any(r.forced for r in records),
        },
    )


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

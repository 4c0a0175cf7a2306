"""Departure (离职交接): a leaver's customers handed to teammates in one transaction."""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm import services as crm_services
from crm.models import Customer, User

from .. import permissions
from ..models import ConflictClaim, ConflictStatus, Reassignment, ReassignmentKind
from .reassignment import Refusal, _set_owner, reassign


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
    _check_assignments(leaver, live, assignments)
    result = DepartureResult(
        moved=_hand_over_live(leaver, live, assignments, by=by, reason=reason, force=force),
        archived_released=_release_archived(leaver, by=by, reason=reason),
    )
    ConflictClaim.objects.open().filter(claimant=leaver).settle_by_event(
        ConflictStatus.CLOSED,
        by=by,
        at=timezone.now(),
        note=_("%(name)s left the company.") % {"name": leaver.display_name},
    )
    crm_services.deactivate_user(user=leaver, by=by)
    return result


def _check_assignments(leaver: User, live: Mapping[int, Customer], assignments: Mapping[int, User]) -> None:
    """Every live customer, and only those, goes to someone other than the leaver."""
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


def _hand_over_live(
    leaver: User,
    live: Mapping[int, Customer],
    assignments: Mapping[int, User],
    *,
    by: User,
    reason: str,
    force: bool,
) -> list[Reassignment]:
    """One ``reassign`` per new owner (in id order); any refusal undoes the departure."""
    groups: dict[int, list[int]] = defaultdict(list)
    owners: dict[int, User] = {}
    for customer_id, owner in assignments.items():
        groups[owner.pk].append(customer_id)
        owners[owner.pk] = owner
    moved: list[Reassignment] = []
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
        moved += outcome.moved
        refused += outcome.refused
    if refused:
        raise ValidationError([refusal.message for refusal in refused])
    return moved


def _release_archived(leaver: User, *, by: User, reason: str) -> int:
    """The leaver's archived customers lose their owner (restored, they go to the pool)."""
    archived = list(
        Customer.objects.for_update("grade").filter(owner=leaver, archived_at__isnull=False).order_by("pk")
    )
    if not archived:
        return 0
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
    return len(archived)

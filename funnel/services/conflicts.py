"""Conflicts (撞单): a salesperson's claim on a colleague's customer, settled by a manager."""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from crm import services as crm_services
from crm.models import Customer, Team, User

from .. import permissions
from ..models import ConflictClaim, ConflictStatus, ReassignmentKind
from .reassignment import reassign_customer


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

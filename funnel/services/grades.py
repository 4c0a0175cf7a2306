"""Grades: the only way a customer's grade moves (``change_grade``, ``record_order``)
and the admin's grade configuration."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Action, audit
from core.models import Grade, GradeKind
from crm import services as crm_services
from crm.models import CrmSettings, Customer, KeyPersonRole, Order, User

from .. import clock
from ..models import CloseReason, FunnelSettings, GradeChange
from ._common import StaleWrite
from .stagnation import close_stagnation_alerts, refresh_stagnation_clock, scan_stagnation


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

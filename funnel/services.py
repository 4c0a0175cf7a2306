"""Writes of the funnel: moving customers between grades (the only way grades move)."""
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import services as crm_services
from crm.models import CrmSettings, Customer, Order, User

from .models import Grade, GradeChange, GradeKind


@transaction.atomic
def change_grade(*, customer: Customer, grade: Grade, by: User, note: str = "") -> GradeChange:
    """Move ``customer`` to ``grade``: records from/to/when/who/note, resets the time in
    grade and the stagnation clock. Moving to lost needs a reason (the note).

    The row is locked, so two simultaneous moves are applied one after the other and
    the history stays a consistent chain. The caller must be allowed to see the
    customer (views and the API check visibility first). A probability override is
    kept: a stage move does not silently wipe a salesperson's judgement.
    """
    customer = Customer.objects.select_for_update().select_related("grade").get(pk=customer.pk)
    if customer.is_archived:
        raise ValidationError(_("An archived customer cannot change grade; restore it first."))
    if grade.pk == customer.grade_id:
        raise ValidationError({"grade": _("The customer is already at this grade.")})
    note = note.strip()
    if grade.kind == GradeKind.LOST and not note:
        raise ValidationError({"note": _("Say why the customer was lost.")})
    now = timezone.now()
    change = GradeChange.objects.create(
        customer=customer, from_grade=customer.grade, to_grade=grade, changed_at=now, changed_by=by,
        owner=customer.owner, note=note, days_in_previous=(now - customer.grade_entered_at).days,
    )
    customer.grade = grade
    customer.grade_entered_at = now
    customer.lost_reason = note if grade.kind == GradeKind.LOST else ""
    customer.refresh_stagnant_from()
    customer._history_user = by
    customer._change_reason = _("Grade %(from)s → %(to)s") % {"from": change.from_grade.code, "to": grade.code}
    customer.save(update_fields=["grade", "grade_entered_at", "lost_reason", "stagnant_from", "updated_at"])
    return change


@transaction.atomic
def record_order(*, customer: Customer, by: User, amount: Decimal, signed_on: date,
                 gross_profit: Decimal = Decimal(0), collected_amount: Decimal = Decimal(0),
                 collected_on: date | None = None, note: str = "") -> Order:
    """Record a signed order; when the company setting says so, the customer moves to won."""
    order = crm_services.create_order(
        customer=customer, by=by, amount=amount, signed_on=signed_on, gross_profit=gross_profit,
        collected_amount=collected_amount, collected_on=collected_on, note=note,
    )
    if CrmSettings.load().won_on_order:
        won = Grade.objects.filter(kind=GradeKind.WON).order_by("order").first()
        customer.refresh_from_db(fields=["grade"])
        if won is not None and customer.grade_id != won.pk:
            change_grade(customer=customer, grade=won, by=by,
                         note=_("Order of %(amount)s signed") % {"amount": amount})
    return order


@transaction.atomic
def save_grade(*, grade: Grade, by: User) -> Grade:
    """Save a grade's configuration (admin) and re-time the stagnation clock of every
    customer at it when its limit changed — one set-based UPDATE per grade."""
    grade.full_clean()
    previous = Grade.objects.filter(pk=grade.pk).values_list("stagnation_days", flat=True).first()
    grade._history_user = by
    grade.save()
    if grade.pk and previous != grade.stagnation_days:
        refresh_stagnation_clock(grade)
    return grade


def refresh_stagnation_clock(grade: Grade) -> int:
    """Recompute ``stagnant_from`` for customers at ``grade`` (set-based)."""
    customers = Customer.objects.filter(grade=grade)
    if not grade.stagnation_days:
        return customers.update(stagnant_from=None)
    return customers.update(stagnant_from=F("grade_entered_at") + timedelta(days=grade.stagnation_days))

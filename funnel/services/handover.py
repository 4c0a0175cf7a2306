"""Handover tasks (工作交接): created from each grade's template for a new owner,
completed by activities or ticked by hand."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Customer, User

from .. import permissions
from ..models import CHANNEL_COMPLETES, HandoverStatus, HandoverStep, HandoverTask, Reassignment


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

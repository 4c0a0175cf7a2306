"""The one guarded path from a request to the task queue (a transactional outbox)."""

import logging
import time
from datetime import timedelta

from celery import current_app
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from .models import OutboxMessage

logger = logging.getLogger(__name__)

# After a failed publish, requests skip the broker for this long and leave the work
# to the periodic drain, so an outage costs one short timeout, not one per request.
_BROKER_COOLDOWN_SECONDS = 30.0
_broker_down_until = 0.0


def enqueue(task_name: str, **kwargs) -> OutboxMessage:
    """Record ``task_name(**kwargs)`` to run after the current transaction commits.

    Must be called inside the caller's transaction; if it rolls back, nothing runs.
    """
    message = OutboxMessage.objects.create(task_name=task_name, kwargs=kwargs)
    transaction.on_commit(lambda: publish([message.pk]))
    return message


def publish(message_ids: list[int]) -> int:
    """Send the given pending messages to the broker; returns how many were sent.

    A message is marked published only after the broker accepted it, so a crash in
    between sends it again later (tasks are idempotent) instead of losing it.
    """
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        return 0
    sent = 0
    messages = OutboxMessage.objects.filter(pk__in=message_ids, published_at__isnull=True)
    for message in messages:
        try:
            current_app.tasks[message.task_name].apply_async(
                kwargs=message.kwargs,
                retry=False,
                headers={"outbox_id": message.pk},
            )
        except (OperationalError, OSError, TimeoutError) as exc:
            _broker_down_until = time.monotonic() + _BROKER_COOLDOWN_SECONDS
            OutboxMessage.objects.filter(pk=message.pk).update(
                attempts=message.attempts + 1,
                last_error=str(exc)[:500],
            )
            logger.warning("Broker unavailable; outbox message %s left for the drain: %s", message.pk, exc)
            break
        OutboxMessage.objects.filter(pk=message.pk).update(
            published_at=timezone.now(),
            attempts=message.attempts + 1,
            last_error="",
        )
        sent += 1
    return sent


def drain(batch_size: int = 500, min_age: timedelta = timedelta(seconds=5)) -> int:
    """Publish pending messages older than ``min_age`` (younger ones are still on their
    way through ``on_commit``). Called by the beat-scheduled ``drain_outbox`` task."""
    global _broker_down_until
    _broker_down_until = 0.0
    cutoff = timezone.now() - min_age
    pending = list(
        OutboxMessage.objects.filter(published_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    return publish(pending) if pending else 0

"""Infrastructure tasks: the outbox drain and the worker heartbeat."""

from celery import shared_task
from django.utils import timezone

from . import outbox
from .models import WorkerHeartbeat


@shared_task(ignore_result=True)
def drain_outbox() -> int:
    """Publish outbox rows a request could not (broker down, process died). Idempotent."""
    return outbox.drain()


@shared_task(ignore_result=True)
def record_heartbeat() -> None:
    """Proves a worker is consuming; ``/healthz`` shows the age. Idempotent (an upsert)."""
    WorkerHeartbeat.objects.update_or_create(name="worker", defaults={"beat_at": timezone.now()})

"""Infrastructure tasks of the API layer."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import IdempotentRequest


@shared_task(ignore_result=True)
def purge_idempotency_keys() -> int:
    """Delete claimed Idempotency-Keys older than ``IDEMPOTENCY_KEY_HOURS`` (one DELETE on
    the created_at index); after that a resend with the key runs as a new request.
    Hourly from beat; idempotent. Returns how many were deleted."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    deleted, _by_model = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted

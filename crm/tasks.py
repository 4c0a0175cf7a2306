"""The crm's tasks: the customer tally, lifecycle stages, e-mail and imports."""

from datetime import date

from celery import shared_task
from django.core.mail import send_mail
from django.utils import timezone


@shared_task(ignore_result=True)
def fold_customer_tally() -> None:
    """Keep the customer tally small (``crm.services.fold_customer_tally``). Idempotent."""
    from . import services

    services.fold_customer_tally()


@shared_task(ignore_result=True, acks_late=True)
def refresh_lifecycles(on: str | None = None) -> int:
    """Lifecycle stages as of the day ``on`` (ISO date; beat passes none: today's local
    date, read once at the start), ``crm.services.refresh_lifecycles``; returns how many
    customers moved. Idempotent: a retry or a second run for the day moves none."""
    from . import services

    day = date.fromisoformat(on) if on else timezone.localdate()
    return services.refresh_lifecycles(on=day).moved


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_email(*, subject: str, body: str, recipients: list[str]) -> None:
    """One e-mail to the given addresses. A retry may send it twice (rare, harmless)."""
    send_mail(subject, body, None, recipients, fail_silently=False)


@shared_task(ignore_result=True)
def preview_import(*, batch_id: int) -> None:
    """Check an uploaded file's rows and store the preview. Idempotent (state claim)."""
    from .importing.services import preview_batch

    preview_batch(batch_id)


@shared_task(ignore_result=True)
def commit_import(*, batch_id: int) -> None:
    """Write a confirmed import in one transaction. Idempotent (state claim)."""
    from .importing.services import commit_batch

    commit_batch(batch_id)

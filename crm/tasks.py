"""The crm's tasks: the customer tally, e-mail and imports."""

from celery import shared_task
from django.core.mail import send_mail


@shared_task(ignore_result=True)
def fold_customer_tally() -> None:
    """Keep the customer tally small (``crm.services.fold_customer_tally``). Idempotent."""
    from . import services

    services.fold_customer_tally()


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

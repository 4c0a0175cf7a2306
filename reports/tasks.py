"""The weekly rollup task (Celery beat: Monday early morning, company time zone)."""

from datetime import date

from celery import shared_task

from . import services
from .periods import last_complete_week, today


@shared_task(ignore_result=True, acks_late=True)
def compute_weekly_rollup(week: str | None = None) -> int:
    """Compute every salesperson's rollup for the ISO week holding ``week`` (ISO date).

    Beat passes nothing: the last complete week is taken once, here at the start, and
    everything after uses that explicit date. Idempotent: an upsert on (salesperson,
    week_start), so a retry or a duplicate delivery rewrites the same rows.
    """
    monday = date.fromisoformat(week) if week else last_complete_week(today())
    return services.compute_weekly_rollups(week=monday)

"""The weekly tasks (Celery beat: Monday early morning, company time zone): the rollup
of the week that ended and the snapshot of the forecast as the new week begins."""

from datetime import date

from celery import shared_task

from . import services
from .periods import last_complete_week, today, week_start


@shared_task(ignore_result=True, acks_late=True)
def compute_weekly_rollup(week: str | None = None) -> int:
    """Compute every salesperson's rollup for the ISO week holding ``week`` (ISO date).

    Beat passes nothing: the last complete week is taken once, here at the start, and
    everything after uses that explicit date. Idempotent: an upsert on (salesperson,
    week_start), so a retry or a duplicate delivery rewrites the same rows.
    """
    monday = date.fromisoformat(week) if week else last_complete_week(today())
    return services.compute_weekly_rollups(week=monday)


@shared_task(ignore_result=True, acks_late=True)
def snapshot_forecast(week: str | None = None) -> int:
    """Freeze the forecast of every salesperson as it stood at the Monday 00:00 of the
    week holding ``week`` (ISO date). Beat passes nothing: this week's Monday is taken
    once, here at the start. Idempotent: the week's rows are replaced, so a retry or a
    duplicate delivery writes the same rows."""
    monday = date.fromisoformat(week) if week else week_start(today())
    return services.snapshot_forecast(week=monday)

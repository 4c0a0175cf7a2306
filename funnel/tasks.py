"""Daily funnel sweeps: stagnation alerts and returns to the public pool.

Thin: each task takes the ISO date it works for (beat passes none, so the task uses
today's local date, read once at its start) and calls one idempotent service — a
retry or a second run for the same date changes nothing.
"""

from datetime import date

from celery import shared_task
from django.utils import timezone

from . import services


def _day(on: str | None) -> date:
    return date.fromisoformat(on) if on else timezone.localdate()


@shared_task(ignore_result=True, acks_late=True)
def scan_stagnation(on: str | None = None, notify: bool = True) -> int:
    """停滞预警 for the day ``on`` (ISO date): returns how many alerts were raised. Each
    morning with the digests (``notify``); every hour without, so a customer who passes
    its grade's limit during the day has its alert within the hour."""
    return services.scan_stagnation(on=_day(on), notify=notify).raised


@shared_task(ignore_result=True, acks_late=True)
def return_idle_customers(on: str | None = None) -> int:
    """退回公海 for the day ``on`` (ISO date): warns owners, returns idle customers; returns how many."""
    return services.return_idle_customers(on=_day(on)).returned

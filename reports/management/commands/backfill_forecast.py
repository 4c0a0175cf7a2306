"""``manage.py backfill_forecast --weeks 26`` or ``--from 2025-01-06 --to 2025-06-30``."""

from reports import services
from reports.periods import today, week_start

from ..week_range import WeekRangeCommand


class Command(WeekRangeCommand):
    help = "Take (or retake) the weekly forecast snapshots of a range of ISO weeks. Idempotent."
    rows = "snapshot row(s)"
    to_help = "default: this week"

    def default_last(self):
        return week_start(today())

    def run_week(self, monday):
        return services.snapshot_forecast(week=monday)

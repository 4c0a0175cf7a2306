"""``manage.py backfill_rollups --weeks 26`` or ``--from 2025-01-06 --to 2025-06-30``."""

from reports import services
from reports.periods import last_complete_week, today

from ..week_range import WeekRangeCommand


class Command(WeekRangeCommand):
    help = "Compute (or recompute) the weekly rollups for a range of ISO weeks. Idempotent."
    rows = "rollup row(s)"
    to_help = "default: the last complete week"

    def default_last(self):
        return last_complete_week(today())

    def run_week(self, monday):
        return services.compute_weekly_rollups(week=monday)

"""``manage.py backfill_forecast --weeks 26`` or ``--from 2025-01-06 --to 2025-06-30``."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from reports import services
from reports.periods import today, week_start


class Command(BaseCommand):
    help = "Take (or retake) the weekly forecast snapshots of a range of ISO weeks. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--weeks", type=int, help="The last N weeks, this one included.")
        parser.add_argument("--from", dest="date_from", type=date.fromisoformat, help="First day (ISO date).")
        parser.add_argument(
            "--to", dest="date_to", type=date.fromisoformat, help="Last day (ISO date; default: this week)."
        )

    def handle(self, *args, weeks=None, date_from=None, date_to=None, **options):
        last = week_start(date_to or today())
        if weeks is not None:
            if weeks < 1:
                raise CommandError("--weeks must be at least 1.")
            if date_from:
                raise CommandError("Give --weeks or --from, not both.")
            first = last - timedelta(days=7 * (weeks - 1))
        elif date_from:
            first = week_start(date_from)
        else:
            raise CommandError("Give --weeks N or --from DATE [--to DATE].")
        if first > last:
            raise CommandError("--from is after --to.")
        monday, total, count = first, 0, 0
        while monday <= last:
            total += services.snapshot_forecast(week=monday)
            count += 1
            monday += timedelta(days=7)
        self.stdout.write(
            self.style.SUCCESS(f"{count} week(s) from {first} to {last}: {total} snapshot row(s).")
        )

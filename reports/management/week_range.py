"""The one way the weekly jobs are backfilled: ``--weeks N`` or ``--from DATE [--to DATE]``,
each ISO week of the range run once, in order (the jobs are idempotent)."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from reports.periods import week_start


class WeekRangeCommand(BaseCommand):
    """Subclasses say what one week's run is (``run_week``), what it makes (``rows``) and
    which week the range ends at by default (``default_last``, described in ``to_help``)."""

    rows = "row(s)"
    to_help = ""

    def default_last(self) -> date:
        raise NotImplementedError

    def run_week(self, monday: date) -> int:
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("--weeks", type=int, help="The last N weeks of the range.")
        parser.add_argument("--from", dest="date_from", type=date.fromisoformat, help="First day (ISO date).")
        parser.add_argument(
            "--to", dest="date_to", type=date.fromisoformat, help=f"Last day (ISO date; {self.to_help})."
        )

    def handle(self, *args, weeks=None, date_from=None, date_to=None, **options):
        last = week_start(date_to) if date_to else self.default_last()
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
            total += self.run_week(monday)
            count += 1
            monday += timedelta(days=7)
        self.stdout.write(self.style.SUCCESS(f"{count} week(s) from {first} to {last}: {total} {self.rows}."))

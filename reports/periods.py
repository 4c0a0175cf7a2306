"""Week, month, quarter and year boundaries — the one place reports compute them.

Weeks are ISO weeks (Monday start) in the company time zone (``TIME_ZONE``,
Asia/Shanghai by default): a rollup's ``week_start`` is the Monday's date, and the
week covers [Monday 00:00, next Monday 00:00) local time.
Midnights come from ``funnel.clock.start_of_day``, the one helper for them.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from funnel.clock import start_of_day


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


@dataclass(frozen=True)
class Period:
    kind: str
    start: date  # first day
    end: date  # first day of the next period (exclusive)

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.YEAR:
            return str(self.start.year)
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year} Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m}"

    @property
    def start_at(self) -> datetime:
        return start_of_day(self.start)

    @property
    def end_at(self) -> datetime:
        return start_of_day(self.end)

    def weeks(self) -> list[date]:
        """Monday of every week that starts inside the period (plus the week holding day 1)."""
        monday = week_start(self.start)
        weeks = []
        while monday < self.end:
            weeks.append(monday)
            monday += timedelta(days=7)
        return weeks


def local_date(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def week_bounds(monday: date) -> tuple[datetime, datetime]:
    """[start, end) of the week beginning ``monday``, aware, company time zone."""
    monday = week_start(monday)
    return start_of_day(monday), start_of_day(monday + timedelta(days=7))


def last_complete_week(today: date) -> date:
    """The Monday of the last week that ended before ``today``'s week began."""
    return week_start(today) - timedelta(days=7)


def today() -> date:
    return local_date(timezone.now())


def period_for(kind: str, day: date) -> Period:
    """The month, quarter or year holding ``day``."""
    if kind == PeriodKind.YEAR:
        return Period(kind, date(day.year, 1, 1), date(day.year + 1, 1, 1))
    if kind == PeriodKind.QUARTER:
        first_month = (day.month - 1) // 3 * 3 + 1
        start = date(day.year, first_month, 1)
    elif kind == PeriodKind.MONTH:
        start = date(day.year, day.month, 1)
    else:
        raise ValueError(f"Unknown period kind: {kind!r}")
    months = 3 if kind == PeriodKind.QUARTER else 1
    month_index = start.month - 1 + months
    return Period(kind, start, date(start.year + month_index // 12, month_index % 12 + 1, 1))


def is_period_start(kind: str, day: date) -> bool:
    return period_for(kind, day).start == day

"""When a stay at a grade turns stagnant, counted in calendar or working days.

One rule serves Python (a single customer, in ``change_grade``) and SQL (every customer
at a grade, in one UPDATE): the number of calendar days to add depends only on the
limit and on the local weekday the stay began, so the SQL form is a ``CASE`` over the
seven weekdays whose values come from the Python function.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Case, DateTimeField, DurationField, ExpressionWrapper, F, Value, When
from django.db.models.functions import ExtractIsoWeekDay
from django.db.models.lookups import Exact
from django.utils import timezone

from .models import DayCount

WEEKDAYS = range(1, 8)  # ISO: Monday 1 … Sunday 7


def calendar_days_for(limit: int, iso_weekday: int, day_count: str) -> int:
    """Calendar days after the start of a stay until ``limit`` days have passed.

    Working days skip Saturday and Sunday; a stay that begins at the weekend starts
    counting on Monday (at the same time of day). Example: entered on a Friday with a
    limit of 1 working day → stagnant on Monday, 3 calendar days later.
    """
    if day_count != DayCount.WORKING:
        return limit
    to_monday = {6: 2, 7: 1}.get(iso_weekday, 0)
    weekday = 1 if to_monday else iso_weekday
    return to_monday + limit + 2 * ((weekday - 1 + limit) // 5)


def next_working_day(day: date) -> date:
    """The working day after ``day``: Friday, Saturday and Sunday → Monday."""
    following = day + timedelta(days=1)
    return following + timedelta(days=calendar_days_for(0, following.isoweekday(), DayCount.WORKING))


def previous_working_day(day: date) -> date:
    """The working day before ``day``: Saturday, Sunday and Monday → Friday."""
    previous = day - timedelta(days=1)
    return previous - timedelta(days=max(0, previous.isoweekday() - 5))


def stagnant_from(entered_at: datetime, limit: int | None, day_count: str) -> datetime | None:
    """The moment a stay that began at ``entered_at`` outlasts ``limit`` days (None: no limit)."""
    if not limit:
        return None
    weekday = timezone.localtime(entered_at).isoweekday()
    # Absolute (UTC) arithmetic, as the database does it.
    return entered_at.astimezone(UTC) + timedelta(days=calendar_days_for(limit, weekday, day_count))


def stagnant_from_expression(limit: int, day_count: str):
    """``stagnant_from`` for every row of a queryset of customers at one grade, in SQL."""
    if day_count != DayCount.WORKING:
        return ExpressionWrapper(F("grade_entered_at") + timedelta(days=limit), output_field=DateTimeField())
    # The weekday is taken in the current (company) time zone, like ``timezone.localtime``.
    weekday_entered = ExtractIsoWeekDay("grade_entered_at")
    offset = Case(
        *[
            When(
                Exact(weekday_entered, weekday),
                then=Value(timedelta(days=calendar_days_for(limit, weekday, day_count))),
            )
            for weekday in WEEKDAYS
        ],
        output_field=DurationField(),
    )
    return ExpressionWrapper(F("grade_entered_at") + offset, output_field=DateTimeField())


def start_of_day(on: date) -> datetime:
    """Local midnight at the start of ``on`` (the company time zone), timezone-aware."""
    return timezone.make_aware(datetime.combine(on, time.min))

"""Stage-to-stage conversion rates, days in grade and the probability calibration."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Grade, GradeKind
from crm.models import Customer
from funnel.models import GradeChange

from ..columns import Column, Kind
from ..periods import Period
from .figures import ZERO, pct
from .flows import created_grade, grade_flows, move_direction
from .scope import Scope

# Conversion rates: measured over this many days back, unless a period is given.
RATE_WINDOW_DAYS = 180
# A measured rate needs this many customers entering the grade; else the ratio of the
# grades' probabilities stands in (documented on the pages).
MIN_RATE_SAMPLE = 5
# Calibration: suggest a probability when the won share differs by more than this many
# points from the configured one, over at least this many resolved customers.
CALIBRATION_MARGIN = Decimal(10)
CALIBRATION_MIN_SAMPLE = 30


@dataclass
class StageRate:
    grade: Grade
    entered: int
    advanced: int
    exits: int  # customers who left the grade (up, down or lost) in the window
    measured: Decimal | None  # fraction 0..1, None without enough data
    fallback: Decimal  # ratio of the probabilities (this grade's ÷ the next's)

    @property
    def rate(self) -> Decimal:
        return self.measured if self.measured is not None else self.fallback

    @property
    def is_measured(self) -> bool:
        return self.measured is not None


def conversion_rates(
    scope: Scope, start: datetime, end: datetime, grades: list[Grade], flows: dict | None = None
) -> list[StageRate]:
    """Stage-to-stage conversion per open grade (the last one: A→won) between ``start``
    and ``end``, counted on moves: of the customers who left the grade in the window,
    the share that moved up. Customers still sitting at a grade are not counted yet (a
    fresh batch of prospects would otherwise read as a 0 % rate); ``entered`` (moved
    there or created there) is shown beside it. ``grades``: all grades; ``flows``: the
    window's ``grade_flows`` when the caller has them, else fetched (two queries)."""
    by_id = {grade.pk: grade for grade in grades}
    open_grades = [grade for grade in grades if grade.is_open]
    flows = grade_flows(scope, start, end) if flows is None else flows
    entered: dict[int, int] = defaultdict(int)
    left: dict[int, int] = defaultdict(int)
    went: dict[int, int] = defaultdict(int)
    for (_week, src, dst), n in flows.items():
        entered[dst] += n
        if src is not None:
            left[src] += n
            if move_direction(by_id[src], by_id[dst]) == "up":
                went[src] += n
    rates = []
    for index, grade in enumerate(open_grades):
        next_probability = (
            open_grades[index + 1].probability if index + 1 < len(open_grades) else Decimal(100)
        )
        fallback = (
            (grade.probability / next_probability).quantize(Decimal("0.001")) if next_probability else ZERO
        )
        measured = (
            (Decimal(went[grade.pk]) / Decimal(left[grade.pk])).quantize(Decimal("0.001"))
            if left[grade.pk] >= MIN_RATE_SAMPLE
            else None
        )
        rates.append(StageRate(grade, entered[grade.pk], went[grade.pk], left[grade.pk], measured, fallback))
    return rates


def trailing_window(days: int = RATE_WINDOW_DAYS) -> tuple[datetime, datetime]:
    now = timezone.now()
    return now - timedelta(days=days), now


# --- Conversion and cycle -------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationRow:
    """An open grade's won share among the customers that reached it and were resolved."""

    grade: Grade
    sample: int
    won: int
    observed: Decimal | None
    configured: Decimal
    suggested: Decimal | None


@dataclass(frozen=True)
class ConversionStage:
    """Moves out of a grade in the period; ``calibration``: the grade's, for the export's row."""

    grade: Grade
    entered: int
    advanced: int
    rate: Decimal | None
    mean_days: Decimal | None
    median_days: Decimal | None
    exits: int
    calibration: CalibrationRow | None = None


@dataclass(frozen=True)
class ConversionReport:
    period: Period
    stages: list[ConversionStage]
    bottleneck: Grade | None
    calibration: list[CalibrationRow]


# The export's one row per grade holds its stage and its calibration; the API lists them
# apart, and the page's tables (grade badges, the calibrate button) are written out.
CONVERSION_COLUMNS = (
    Column("code", _("Grade"), source="grade.code"),
    Column("entered", _("Entered"), Kind.COUNT),
    Column("exits", _("Left"), Kind.COUNT, api=False),
    Column("advanced", _("Moved up"), Kind.COUNT),
    Column("rate", _("Conversion (%)"), Kind.RATE),
    Column("mean_days", _("Mean days in grade"), Kind.NUMBER),
    Column("median_days", _("Median days in grade"), Kind.NUMBER),
    Column("observed", _("Won share (%)"), Kind.PERCENT, source="calibration.observed", api=False),
    Column(
        "configured",
        _("Configured probability (%)"),
        Kind.PERCENT,
        source="calibration.configured",
        api=False,
    ),
    Column("suggested", _("Suggested (%)"), Kind.PERCENT, source="calibration.suggested", api=False),
)
CALIBRATION_COLUMNS = (
    Column("code", _("Grade"), source="grade.code", export=False),
    Column("sample", _("Resolved customers"), Kind.COUNT, export=False),
    Column("won", _("Won"), Kind.COUNT, export=False),
    Column("observed", _("Won share"), Kind.PERCENT, export=False),
    Column("configured", _("Configured"), Kind.PERCENT, export=False),
    Column("suggested", _("Suggested"), Kind.PERCENT, export=False),
)


def conversion_report(scope: Scope, period: Period) -> ConversionReport:
    """Stage conversion, days in grade (mean, median), the bottleneck and the probability
    calibration for the period. Queries: grades, 2 for the rates, 1 for the days, 2 for
    the calibration."""
    grades = list(Grade.objects.order_by("order"))
    rates = conversion_rates(scope, period.start_at, period.end_at, grades)
    # Days in the grade left, as a histogram (grade, days, moves): a few hundred rows
    # however many moves the period holds.
    days_by_grade: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for grade_id, days, n in (
        GradeChange.objects.filter(
            scope.q("owner"),
            changed_at__gte=period.start_at,
            changed_at__lt=period.end_at,
            days_in_previous__isnull=False,
            from_grade__isnull=False,
        )
        .order_by()
        .values("from_grade", "days_in_previous")
        .annotate(n=Count("*"))
        .values_list("from_grade", "days_in_previous", "n")
    ):
        days_by_grade[grade_id].append((days, n))
    calibrated = calibration(scope, grades, period)
    by_grade = {row.grade.pk: row for row in calibrated}
    stages = []
    for rate in rates:
        mean, median = _mean_and_median(days_by_grade.get(rate.grade.pk, []))
        stages.append(
            ConversionStage(
                grade=rate.grade,
                entered=rate.entered,
                advanced=rate.advanced,
                rate=rate.measured,
                mean_days=mean,
                median_days=median,
                exits=rate.exits,
                calibration=by_grade.get(rate.grade.pk),
            )
        )
    measured = [stage for stage in stages if stage.rate is not None]
    bottleneck = min(measured, key=lambda stage: stage.rate).grade if measured else None
    return ConversionReport(period=period, stages=stages, bottleneck=bottleneck, calibration=calibrated)


def _mean_and_median(histogram: list[tuple[int, int]]) -> tuple[Decimal | None, Decimal | None]:
    """Mean and median (to 0.1) of the values of ``[(value, how many)]``."""
    total = sum(n for _value, n in histogram)
    if not total:
        return None, None
    ordered = sorted(histogram)

    def nth(position: int) -> int:
        for value, n in ordered:
            if position < n:
                return value
            position -= n
        raise IndexError(position)

    mean = Decimal(sum(value * n for value, n in histogram)) / total
    median = Decimal(nth((total - 1) // 2) + nth(total // 2)) / 2
    return mean.quantize(Decimal("0.1")), median.quantize(Decimal("0.1"))


def calibration(scope: Scope, grades: list[Grade], period: Period | None = None) -> list[CalibrationRow]:
    """Per open grade: of the customers that reached it (moved there or were created
    there) and have since been resolved (won or lost), the share won — beside the
    configured probability, with a suggestion when the gap and the sample are big enough."""
    # Only resolved customers count, so both queries start from them (by grade id:
    # the won and lost grades are known here).
    won_ids = [grade.pk for grade in grades if grade.kind == GradeKind.WON]
    resolved_ids = won_ids + [grade.pk for grade in grades if grade.kind == GradeKind.LOST]
    moves = GradeChange.objects.filter(scope.q("customer__owner"), customer__grade_id__in=resolved_ids)
    resolved = Customer.objects.filter(scope.q("owner"), grade_id__in=resolved_ids)
    if period is not None:
        moves = moves.filter(changed_at__gte=period.start_at, changed_at__lt=period.end_at)
        resolved = resolved.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)
    moved = {
        row["to_grade"]: row
        for row in moves.order_by()
        .values("to_grade")
        .annotate(
            resolved=Count("customer", distinct=True),
            won=Count("customer", distinct=True, filter=Q(customer__grade_id__in=won_ids)),
        )
    }
    # Created at a grade: the from of the customer's first move (a customer that never
    # moved is still at its initial grade, so it is not resolved).
    born = {
        row["from_grade"]: row
        for row in resolved.annotate(from_grade=created_grade())
        .order_by()
        .values("from_grade")
        .annotate(resolved=Count("pk"), won=Count("pk", filter=Q(grade_id__in=won_ids)))
    }
    rows = []
    for grade in grades:
        if not grade.is_open:
            continue
        sample = moved.get(grade.pk, {}).get("resolved", 0) + born.get(grade.pk, {}).get("resolved", 0)
        wins = moved.get(grade.pk, {}).get("won", 0) + born.get(grade.pk, {}).get("won", 0)
        observed = pct(wins, sample)
        suggested = None
        if (
            observed is not None
            and sample >= CALIBRATION_MIN_SAMPLE
            and abs(observed - grade.probability) > CALIBRATION_MARGIN
        ):
            suggested = observed.quantize(Decimal(1))
        rows.append(
            CalibrationRow(
                grade=grade,
                sample=sample,
                won=wins,
                observed=observed,
                configured=grade.probability,
                suggested=suggested,
            )
        )
    return rows

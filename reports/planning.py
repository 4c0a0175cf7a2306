"""Backward planning (倒推法) — pure functions, no database.

From a target number of orders and the conversion rates, work up the funnel: the
orders need target ÷ (A→won) customers at A, those need ÷ (B→A) at B, and so on.
Example of the method: 10 orders at A→won 50 %, B→A 50 %, C→B 40 %, D→C 50 %,
E→D 50 % → A 20, B 40, C 100, D 200, E 400.

Weekly re-planning: each week the remaining target (target − orders won so far) is
planned again with the conversion rates measured so far and the weeks left. The
completion ratio of a week is the customers actually added at each grade that week
÷ the additions that week's plan asked for (capped per grade at the plan, so surplus
at one grade does not hide a shortfall at another).

Measured or assumed: a rate is measured once enough customers have left the grade; until
then the ratio of the grade probabilities stands in, and every step, plan row and the
period summary say which it was. The summary averages only the weeks' measured rates and
names the weeks that had none, so stand-ins never pass for measurements.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

ZERO = Decimal(0)
MIN_RATE = Decimal("0.01")


@dataclass(frozen=True)
class Step:
    code: str  # grade code
    rate: Decimal  # conversion from this grade to the next (A's: A→won), fraction 0..1
    measured: bool = True  # False: too few customers left the grade, the rate is assumed


@dataclass(frozen=True)
class PlanRow:
    code: str
    rate: Decimal
    measured: bool
    needed: int
    current: int
    shortfall: int
    weekly_additions: int


def ceil_int(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def orders_for_amount(amount: Decimal, average_order: Decimal) -> int:
    """An amount target as a number of orders: amount ÷ average order, rounded up."""
    if average_order <= 0:
        raise ValueError("The average order must be positive.")
    return ceil_int(Decimal(amount) / Decimal(average_order))


def needed_per_grade(target_orders: int, steps: Sequence[Step]) -> dict[str, int]:
    """Customers needed at each grade (top first in ``steps``) to win ``target_orders``."""
    needed: dict[str, int] = {}
    required = Decimal(target_orders)
    for step in reversed(steps):
        required = required / max(Decimal(step.rate), MIN_RATE)
        needed[step.code] = ceil_int(required)
    return {step.code: needed[step.code] for step in steps}


def backward_plan(
    *, target_orders: int, steps: Sequence[Step], current: dict[str, int], weeks_left: int
) -> list[PlanRow]:
    """Needed vs current per grade and the customers to add each week to close the gap."""
    needed = needed_per_grade(max(target_orders, 0), steps)
    weeks = max(weeks_left, 1)
    rows = []
    for step in steps:
        have = current.get(step.code, 0)
        shortfall = max(needed[step.code] - have, 0)
        rows.append(
            PlanRow(
                step.code,
                Decimal(step.rate),
                step.measured,
                needed[step.code],
                have,
                shortfall,
                math.ceil(shortfall / weeks),
            )
        )
    return rows


@dataclass(frozen=True)
class WeekInput:
    """What happened up to one week: measured rates, counts at its start, orders so far,
    and the customers added at each grade during the week."""

    week_start: object  # date
    steps: Sequence[Step]  # conversion rates measured from the period start
    counts_at_start: dict[str, int]
    orders_before: int
    added: dict[str, int]
    orders_in_week: int

    @property
    def assumed(self) -> list[str]:
        """Grades whose rate this week was assumed, not measured."""
        return [step.code for step in self.steps if not step.measured]


@dataclass(frozen=True)
class WeekPlan:
    week_start: object
    weeks_left: int
    remaining_target: int
    rows: list[PlanRow]
    planned_additions: int
    actual_additions: int
    completion: Decimal | None  # 0..1 (None when nothing was asked of the week)


def weekly_replan(
    *, target_orders: int, weeks: Sequence[WeekInput], total_weeks: int | None = None
) -> list[WeekPlan]:
    """Re-plan every week with that week's measured rates and the weeks left of the
    period (``total_weeks``; default: the weeks given are the whole period)."""
    plans = []
    total = max(total_weeks or 0, len(weeks))
    for index, week in enumerate(weeks):
        weeks_left = total - index
        remaining = max(target_orders - week.orders_before, 0)
        rows = backward_plan(
            target_orders=remaining, steps=week.steps, current=week.counts_at_start, weeks_left=weeks_left
        )
        planned = sum(row.weekly_additions for row in rows)
        actual = sum(min(week.added.get(row.code, 0), row.weekly_additions) for row in rows)
        completion = (Decimal(actual) / Decimal(planned)).quantize(Decimal("0.001")) if planned else None
        plans.append(WeekPlan(week.week_start, weeks_left, remaining, rows, planned, actual, completion))
    return plans


@dataclass(frozen=True)
class AverageRate:
    code: str
    average: Decimal | None  # mean of the measured weekly rates; None when no week measured one
    measured_weeks: int
    weeks_without_data: tuple  # week starts (dates) whose rate was assumed, not measured


def average_rates(weeks: Sequence[WeekInput]) -> list[AverageRate]:
    """Per grade (top first), the mean of the rates measured week by week (the period-end
    summary); weeks whose rate was assumed are left out of the mean and named."""
    measured: dict[str, list[Decimal]] = {}
    missing: dict[str, list] = {}
    for week in weeks:
        for step in week.steps:
            measured.setdefault(step.code, [])
            missing.setdefault(step.code, [])
            if step.measured:
                measured[step.code].append(Decimal(step.rate))
            else:
                missing[step.code].append(week.week_start)
    return [
        AverageRate(
            code,
            (sum(rates, ZERO) / len(rates)).quantize(Decimal("0.001")) if rates else None,
            len(rates),
            tuple(missing[code]),
        )
        for code, rates in measured.items()
    ]


def per_dial(*, dials: int, amount: Decimal, commission_rate: Decimal) -> tuple[Decimal, Decimal]:
    """Revenue per dial and commission per dial (rate as a fraction: 5 % = 0.05).

    100 dials and ¥20,000 of orders → ¥200 per dial; at 5 % → ¥10 per dial.
    """
    if dials <= 0:
        return ZERO, ZERO
    revenue = (Decimal(amount) / Decimal(dials)).quantize(Decimal("0.01"))
    return revenue, (revenue * Decimal(commission_rate)).quantize(Decimal("0.01"))


def pareto_share(amounts: Sequence[Decimal], top_share: Decimal = Decimal("0.2")) -> Decimal | None:
    """Share of the total from the top ``top_share`` of customers (the 80/20 view), 0..1."""
    values = sorted((Decimal(a) for a in amounts if a), reverse=True)
    total = sum(values, ZERO)
    if not values or total <= 0:
        return None
    top = max(1, math.ceil(len(values) * top_share))
    return (sum(values[:top], ZERO) / total).quantize(Decimal("0.001"))

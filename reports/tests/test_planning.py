"""Backward planning, per-dial numbers and the 80/20 share — pure functions, exact numbers."""

from datetime import date
from decimal import Decimal

import pytest

from reports import planning
from reports.services import even_split

D = Decimal
METHOD_STEPS = [
    planning.Step("E", D("0.5")),
    planning.Step("D", D("0.5")),
    planning.Step("C", D("0.4")),
    planning.Step("B", D("0.5")),
    planning.Step("A", D("0.5")),
]


def test_the_methods_worked_example_ten_orders():
    # given the method's rates: A→won 50 %, B→A 50 %, C→B 40 %, D→C 50 %, E→D 50 %
    # when 10 orders are the target
    needed = planning.needed_per_grade(10, METHOD_STEPS)
    # then
    assert needed == {"A": 20, "B": 40, "C": 100, "D": 200, "E": 400}


def test_plan_compares_with_current_counts_and_spreads_the_shortfall_over_the_weeks():
    rows = planning.backward_plan(
        target_orders=10,
        steps=METHOD_STEPS,
        current={"E": 100, "D": 50, "C": 40, "B": 10, "A": 20},
        weeks_left=10,
    )
    by_code = {row.code: row for row in rows}
    assert [(r.code, r.needed, r.current, r.shortfall, r.weekly_additions) for r in rows] == [
        ("E", 400, 100, 300, 30),
        ("D", 200, 50, 150, 15),
        ("C", 100, 40, 60, 6),
        ("B", 40, 10, 30, 3),
        ("A", 20, 20, 0, 0),
    ]
    assert by_code["C"].rate == D("0.4")


def test_an_amount_target_becomes_orders_by_the_average_order():
    assert planning.orders_for_amount(D(1_000_000), D(100_000)) == 10
    assert planning.orders_for_amount(D(1_000_001), D(100_000)) == 11
    with pytest.raises(ValueError):
        planning.orders_for_amount(D(1), D(0))


def test_each_week_is_replanned_with_the_measured_rates_and_the_weeks_left():
    halves = [planning.Step(s.code, D("0.5")) for s in METHOD_STEPS]
    weeks = [
        planning.WeekInput(
            date(2026, 1, 5),
            METHOD_STEPS,
            {"E": 0, "D": 0, "C": 0, "B": 0, "A": 0},
            0,
            {"E": 40, "D": 20, "C": 10, "B": 4, "A": 2},
            0,
        ),
        planning.WeekInput(date(2026, 1, 12), halves, {"E": 40, "D": 20, "C": 10, "B": 4, "A": 2}, 0, {}, 2),
    ]
    plans = planning.weekly_replan(target_orders=10, weeks=weeks)
    first, second = plans
    assert first.weeks_left == 2 and first.remaining_target == 10
    assert [r.weekly_additions for r in first.rows] == [200, 100, 50, 20, 10]
    # 40 + 20 + 10 + 4 + 2 of 380 asked for
    assert first.actual_additions == 76 and first.completion == D("0.200")
    # week 2: all rates 50 % now → 10 orders need A 20, B 40, C 80, D 160, E 320
    assert [r.needed for r in second.rows] == [320, 160, 80, 40, 20]
    assert second.completion == D("0.000")
    averages = {average.code: average for average in planning.average_rates(weeks)}
    assert (averages["C"].average, averages["C"].measured_weeks) == (D("0.450"), 2)


def test_revenue_and_commission_per_dial():
    # 100 dials and ¥20,000 of orders → ¥200 per dial; at 5 % → ¥10 per dial
    assert planning.per_dial(dials=100, amount=D(20000), commission_rate=D("0.05")) == (D(200), D(10))
    assert planning.per_dial(dials=0, amount=D(20000), commission_rate=D("0.05")) == (D(0), D(0))


def test_pareto_share_of_the_top_fifth():
    amounts = [D(800), D(50), D(50), D(50), D(50)]
    assert planning.pareto_share(amounts) == D("0.800")
    assert planning.pareto_share([]) is None


def test_even_split_adds_up_exactly():
    shares = even_split(D("100.00"), 3)
    assert shares == [D("33.34"), D("33.33"), D("33.33")]
    assert sum(shares) == D("100.00")
    assert even_split(D(7), 3, D(1)) == [D(3), D(2), D(2)]


def test_weeks_left_count_the_whole_period_when_only_past_weeks_are_given():
    week = planning.WeekInput(date(2026, 1, 5), METHOD_STEPS, {}, 0, {}, 0)
    (plan,) = planning.weekly_replan(target_orders=10, weeks=[week], total_weeks=13)
    assert plan.weeks_left == 13
    assert plan.rows[0].weekly_additions == 31  # 400 prospects over 13 weeks, rounded up


def test_the_summary_averages_only_measured_rates_and_names_the_weeks_without_data():
    # given C measured at 40 % and 50 % in two weeks, assumed (no data) in the week between
    def week(day, c_rate, measured):
        steps = [planning.Step("C", D(c_rate), measured), planning.Step("B", D("0.75"), False)]
        return planning.WeekInput(day, steps, {}, 0, {}, 0)

    weeks = [
        week(date(2026, 1, 5), "0.4", True),
        week(date(2026, 1, 12), "0.667", False),
        week(date(2026, 1, 19), "0.5", True),
    ]
    # when
    c_rate, b_rate = planning.average_rates(weeks)
    # then the stand-in 66.7 % is not averaged in, and its week is named
    assert (c_rate.code, c_rate.average, c_rate.measured_weeks) == ("C", D("0.450"), 2)
    assert c_rate.weeks_without_data == (date(2026, 1, 12),)
    # a rate never measured in the period has no average at all
    assert (b_rate.average, b_rate.measured_weeks, len(b_rate.weeks_without_data)) == (None, 0, 3)
    assert weeks[1].assumed == ["C", "B"]


def test_plan_rows_say_whether_their_rate_was_measured():
    steps = [planning.Step("E", D("0.5"), False), *METHOD_STEPS[1:]]
    rows = planning.backward_plan(target_orders=10, steps=steps, current={}, weeks_left=1)
    assert [row.measured for row in rows] == [False, True, True, True, True]

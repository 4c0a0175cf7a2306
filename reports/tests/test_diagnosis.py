"""The funnel shape diagnosis names the method's four pictures, a pile-up at each grade and
an empty funnel, with advice that fits the grade, in English and in Chinese (pure function).

The method's rates throughout: E→D 50 %, D→C 50 %, C→B 40 %, B→A 50 %, A→won 50 %, so the
ideal funnel for 10 orders a month is E 400, D 200, C 100, B 40, A 20 (picture 4)."""

from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.translation import gettext

from reports import diagnosis
from reports.diagnosis import Layer

RATES = {
    "E": Decimal("0.5"),
    "D": Decimal("0.5"),
    "C": Decimal("0.4"),
    "B": Decimal("0.5"),
    "A": Decimal("0.5"),
}


def layers(E, D, C, B, A, assumed=()):
    counts = {"E": E, "D": D, "C": C, "B": B, "A": A}
    return [Layer(code, counts[code], RATES[code], code not in assumed) for code in RATES]


def in_english(result):
    with translation.override("en"):
        return result.text, [advice.text for advice in result.advice], [rule.text for rule in result.rules]


# (name, counts E..A, orders of the last 30 days, verdict, picture, grade, verdict text, advice)
PICTURES = [
    (
        "1: orders flowing, few C, D, E behind them",
        (20, 10, 5, 40, 20),
        10,
        diagnosis.ORDERS_WILL_DRY_UP,
        1,
        "",
        "Orders are flowing now, but few C, D and E customers are left behind them: as these orders "
        "close, orders will get fewer and fewer.",
        [
            "While signing these orders, add many new prospects (E).",
            "Move the E and D customers up to C and B quickly, so orders continue.",
        ],
    ),
    (
        "2: few orders, few prospects, piled up at C",
        (5, 10, 60, 5, 2),
        1,
        diagnosis.PILE_UP,
        2,
        "C",
        "Few orders and few prospects: customers pile up at C.",
        [
            "Convert the C customers into orders quickly.",
            "Replenish prospects: add new E customers and contact them.",
        ],
    ),
    (
        "3: many orders, many prospects, too few C",
        (200, 100, 5, 20, 10),
        5,
        diagnosis.GAP_AHEAD,
        3,
        "C",
        "Many orders now and many prospects, but too few customers at C: a gap will follow.",
        ["Move the E and D customers up to C quickly, so orders continue."],
    ),
    (
        "4: the ideal, each layer shrinking by the rates",
        (400, 200, 100, 40, 20),
        10,
        diagnosis.IDEAL,
        4,
        "",
        "A healthy funnel: each layer shrinks by its conversion rate.",
        ["Only replenish each layer by the ratio: about 40 new prospects (E) for each order won."],
    ),
]


@pytest.mark.parametrize(
    ("counts", "orders", "verdict", "picture", "grade", "text", "advice"),
    [case[1:] for case in PICTURES],
    ids=[case[0] for case in PICTURES],
)
def test_the_four_pictures_of_the_method(counts, orders, verdict, picture, grade, text, advice):
    result = diagnosis.diagnose(layers(*counts), orders)

    assert (result.verdict, result.picture, result.grade) == (verdict, picture, grade)
    assert in_english(result)[:2] == (text, advice)


def test_picture_1_is_not_a_pile_up_at_a():
    # The orders come out of B and A at the method's rates: the bottom works, the top is thin.
    result = diagnosis.diagnose(layers(10, 10, 10, 20, 30), orders=15)

    assert result.verdict == diagnosis.ORDERS_WILL_DRY_UP
    assert "pile up" not in in_english(result)[0]


def test_picture_1_shows_what_the_orders_need_behind_them():
    result = diagnosis.diagnose(layers(20, 10, 5, 40, 20), orders=10)

    assert [(r.kind, r.code, r.needed, r.count) for r in result.rules] == [
        ("need", "C", 100, 5),
        ("need", "D", 200, 10),
        ("need", "E", 400, 20),
    ]
    assert in_english(result)[2][0] == (
        "The 10 orders of the last 30 days need about 100 customers at C behind them at the current "
        "rates; C holds 5."
    )


# (grade, counts E..A: the ideal funnel with that grade tripled, advice for that grade)
PILE_UPS = [
    ("E", (1200, 200, 100, 40, 20), "Qualify the E prospects and contact them, so they move up to D."),
    (
        "D",
        (400, 600, 100, 40, 20),
        "Learn what the D customers need and present our offer until they agree with it (C).",
    ),
    ("C", (400, 200, 300, 40, 20), "Convert the C customers into orders quickly."),
    (
        "B",
        (400, 200, 100, 120, 20),
        "Follow up the quotes to the B customers, answer their objections and bring them to a decision (A).",
    ),
    ("A", (400, 200, 100, 40, 60), "Finish the paperwork with the A customers and sign the orders now."),
]


@pytest.mark.parametrize(("grade", "counts", "advice"), PILE_UPS, ids=[case[0] for case in PILE_UPS])
def test_a_pile_up_at_each_grade_gets_the_advice_of_that_grade(grade, counts, advice):
    result = diagnosis.diagnose(layers(*counts), orders=10)

    assert (result.verdict, result.grade, result.picture) == (diagnosis.PILE_UP, grade, None)
    text, advice_texts, _rules = in_english(result)
    assert text == f"Customers pile up at {grade}."
    assert advice_texts == [advice]


def test_bare_prospects_are_qualified_and_contacted_never_turned_into_orders():
    result = diagnosis.diagnose(layers(1200, 200, 100, 40, 20), orders=10)

    (advice,) = in_english(result)[1]
    assert "orders" not in advice and "contact" in advice


def test_an_empty_funnel_says_so_and_starts_with_prospects():
    result = diagnosis.diagnose(layers(0, 0, 0, 0, 0), orders=0)

    assert (result.verdict, result.picture, result.rules, result.layers) == (diagnosis.EMPTY, None, (), ())
    assert in_english(result)[:2] == (
        "The funnel is empty: no customers and no recent orders.",
        ["Add prospects (E) and contact them to start the funnel."],
    )


def test_the_rule_behind_a_pile_up_compares_the_share_with_the_share_at_the_current_rates():
    result = diagnosis.diagnose(layers(5, 10, 60, 5, 2), orders=1)

    by_code = {rule.code: rule for rule in result.rules}
    # 60 of 82 customers are at C; at the current rates C is 0.25 of 1.9 of the funnel
    assert (by_code["C"].actual_share, by_code["C"].ideal_share) == (Decimal("0.732"), Decimal("0.132"))
    assert "C holds 73 % of the funnel; at the current rates it should hold 13 %." in in_english(result)[2]
    # the thin top behind the advice to replenish is shown too
    assert "E holds 6.1 % of the funnel; at the current rates it should hold 53 %." in in_english(result)[2]


def test_other_shapes_get_advice_for_their_grade():
    gap_at_a = diagnosis.diagnose(layers(400, 200, 100, 40, 1), orders=10)
    few_orders = diagnosis.diagnose(layers(400, 200, 100, 40, 20), orders=0)
    few_prospects = diagnosis.diagnose(layers(40, 200, 100, 40, 20), orders=10)
    piled_above_an_empty_bottom = diagnosis.diagnose(layers(400, 200, 100, 2, 1), orders=1)

    assert (gap_at_a.verdict, gap_at_a.grade) == (diagnosis.GAP_AHEAD, "A")
    assert in_english(gap_at_a)[1] == ["Move the B customers up to A quickly, so orders continue."]
    assert (few_orders.verdict, few_orders.grade) == (diagnosis.FEW_ORDERS, "A")
    assert in_english(few_orders)[2] == [
        "At the current rate of 50 %, the 20 customers at A should give about 10 orders; 0 were won "
        "in the last 30 days."
    ]
    assert (few_prospects.verdict, in_english(few_prospects)[1]) == (
        diagnosis.FEW_PROSPECTS,
        ["Replenish prospects: add new E customers and contact them."],
    )
    # the flow stops at C: E, D and C are full, B and A nearly empty
    assert (piled_above_an_empty_bottom.verdict, piled_above_an_empty_bottom.grade) == (
        diagnosis.PILE_UP,
        "C",
    )


def test_assumed_rates_are_named_beside_the_rule():
    result = diagnosis.diagnose(layers(5, 10, 60, 5, 2, assumed=("B", "A")), orders=1)

    assert result.assumed == ["B", "A"]
    with translation.override("en"):
        assert result.assumed_note == (
            "The rates of B and A are assumed (the ratio of the grade probabilities), not measured."
        )
        assert result.picture_note == "The method's picture 2 of 4."


# Every shape the tests build, for the checks in both languages.
SHAPES = [(case[1], case[2]) for case in PICTURES] + [(case[1], 10) for case in PILE_UPS] + [((0,) * 5, 0)]


@pytest.mark.parametrize(("counts", "orders"), SHAPES)
def test_verdict_advice_and_rule_render_through_the_catalog_in_chinese(counts, orders):
    """Each sentence is the catalog's Chinese for its declared msgid, with the same numbers."""
    result = diagnosis.diagnose(layers(*counts), orders)

    with translation.override("zh-hans"):
        words = diagnosis.words_params
        assert result.text == gettext(diagnosis.VERDICT_WORDS[result.verdict, result.picture]) % words(
            result.params
        )
        for advice in result.advice:
            assert advice.text == gettext(diagnosis.ADVICE_WORDS[advice.code]) % words(advice.params)
        for rule in result.rules:
            assert rule.text == gettext(diagnosis.RULE_WORDS[rule.kind]) % diagnosis.rule_params(rule)


# The method's own Chinese words, as the catalog must give them once the lead has compiled
# /tmp/i18n/G.tsv into locale/ (this test fails until then).
CHINESE = [
    (
        (20, 10, 5, 40, 20),
        10,
        ["随着出单的结束", "出单量会越来越少", "大量补充新的潜在客户（E类）", "提升为C、B类客户"],
    ),
    (
        (5, 10, 60, 5, 2),
        1,
        ["出单少，潜在客户也少：客户堆积在C类。", "尽快把C类客户转化为订单。", "补充潜在客户"],
    ),
    ((200, 100, 5, 20, 10), 5, ["C类客户太少：将会青黄不接。", "尽快把E、D类客户提升为C类客户"]),
    ((400, 200, 100, 40, 20), 10, ["理想的客户构成", "每成交一单，约补充 40 个新的潜在客户（E类）"]),
    ((1200, 200, 100, 40, 20), 10, ["客户堆积在E类。", "筛选E类潜在客户并尽快联系，使其提升为D类客户。"]),
    ((400, 600, 100, 40, 20), 10, ["客户堆积在D类。", "了解D类客户的需求"]),
    ((400, 200, 300, 40, 20), 10, ["客户堆积在C类。", "尽快把C类客户转化为订单。"]),
    ((400, 200, 100, 120, 20), 10, ["客户堆积在B类。", "跟进B类客户的报价，化解拒绝理由"]),
    ((400, 200, 100, 40, 60), 10, ["客户堆积在A类。", "尽快与A类客户办完手续，签单成交。"]),
    ((0, 0, 0, 0, 0), 0, ["漏斗是空的", "补充潜在客户（E类）并开始联系"]),
]


@pytest.mark.parametrize(("counts", "orders", "phrases"), CHINESE)
def test_diagnosis_words_in_chinese(counts, orders, phrases):
    result = diagnosis.diagnose(layers(*counts), orders)

    with translation.override("zh-hans"):
        text = " ".join(result.lines)
    for phrase in phrases:
        assert phrase in text
    # and the rule line: "C类客户占漏斗的 73%；按当前转化率应占 13%。"
    if counts == (5, 10, 60, 5, 2):
        assert "C类客户占漏斗的 73%；按当前转化率应占 13%。" in text

"""The funnel shape diagnosis names the method's situations (pure function)."""

from decimal import Decimal

from django.utils import translation

from reports import diagnosis
from reports.diagnosis import Layer

RATES = {
    "E": Decimal("0.5"),
    "D": Decimal("0.5"),
    "C": Decimal("0.4"),
    "B": Decimal("0.5"),
    "A": Decimal("0.5"),
}


def layers(**counts):
    return [Layer(code, counts[code], RATES[code]) for code in ("E", "D", "C", "B", "A")]


def texts(findings):
    with translation.override("en"):
        return [finding.text for finding in findings]


def test_a_few_orders_few_prospects_most_at_c_convert_c_and_replenish():
    findings = diagnosis.diagnose(layers(E=5, D=10, C=60, B=5, A=2), orders=1)
    assert [(f.code, f.params["grade"]) for f in findings] == [(diagnosis.PILE_UP_AND_REPLENISH, "C")]
    (text,) = texts(findings)
    assert "pile up at C" in text
    assert "convert the C customers into orders" in text
    assert "replenish prospects" in text


def test_b_many_orders_many_prospects_too_few_at_c_gap_ahead():
    findings = diagnosis.diagnose(layers(E=200, D=100, C=5, B=20, A=10), orders=5)
    assert [(f.code, f.params["grade"]) for f in findings] == [(diagnosis.GAP_AHEAD, "C")]
    (text,) = texts(findings)
    assert (
        "gap ahead" in text and "too few customers at C" in text and "move the customers above C up" in text
    )


def test_c_each_layer_shrinking_by_the_conversion_rates_is_healthy():
    findings = diagnosis.diagnose(layers(E=400, D=200, C=100, B=40, A=20), orders=10)
    assert [f.code for f in findings] == [diagnosis.HEALTHY]
    assert texts(findings) == ["A healthy funnel: each layer shrinks by its conversion rate."]


def test_too_few_prospects_alone_asks_to_replenish():
    findings = diagnosis.diagnose(layers(E=40, D=200, C=100, B=40, A=20), orders=10)
    assert [f.code for f in findings] == [diagnosis.REPLENISH]


def test_a_pile_up_without_a_thin_top_only_asks_to_convert():
    findings = diagnosis.diagnose(layers(E=400, D=200, C=400, B=40, A=20), orders=10)
    assert [(f.code, f.params["grade"]) for f in findings] == [(diagnosis.PILE_UP, "C")]


def test_an_empty_funnel_says_to_start_with_prospects():
    assert [f.code for f in diagnosis.diagnose(layers(E=0, D=0, C=0, B=0, A=0), orders=0)] == [
        diagnosis.EMPTY
    ]


def test_findings_carry_codes_and_params_and_are_translated_at_render_time():
    (finding,) = diagnosis.diagnose(layers(E=5, D=10, C=60, B=5, A=2), orders=1)
    assert set(finding.params) == {"grade", "ratio"}
    with translation.override("zh-hans"):
        assert finding.text  # the catalog gives the method's words: 客户堆积在C类…

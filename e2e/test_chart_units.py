"""The funnel dashboard's charts under the strict CSP (issue 16, items 7 and 12): hovering
every bar and funnel layer raises no console error (the tooltips are drawn in the canvas,
never as HTML with style attributes), and the axes and tooltips count money as the
tables do — full amounts with separators in English, 万 / 亿 in Chinese."""

import re
from decimal import Decimal

import pytest
from django.utils import translation
from playwright.sync_api import expect

from crm.models import Role
from crm.templatetags.formatting import money
from crm.tests.factories import CustomerFactory, TeamFactory, UserFactory
from funnel.tests.factories import grade

from .conftest import csp_violations, login

PASSWORD = "correct-horse-battery"
OPEN_GRADES = ("E", "D", "C", "B", "A")
# The edges of the rule, formatted by charts.js and by the template filter alike.
EDGE_AMOUNTS = [0, -0.4, 9999, 9999.5, 10000, 12345, 12350, 1234567.89, 99_999_999, 123456789, -12345, 1.5e12]
ENGLISH_AMOUNT = re.compile(r"¥\d{1,3}(,\d{3})+")
CHINESE_AMOUNT = re.compile(r"¥\d+(\.\d{1,2})?[万亿]")

pytestmark = pytest.mark.e2e


@pytest.fixture
def manager_with_pipeline(transactional_db):
    team = TeamFactory(name="East")
    manager = UserFactory(username="boss_east", role=Role.MANAGER, team=team)
    team.manager = manager
    team.save()
    seller = UserFactory(username="seller_east", team=team)
    for code in OPEN_GRADES:
        CustomerFactory(owner=seller, grade=grade(code), expected_value=Decimal(12_345_678))
    return manager


def _drawn_texts(page, chart_id: str) -> list[str]:
    """Every text the chart has drawn in its canvas: axis labels, layer labels, tooltip."""
    return page.evaluate(
        """(chartId) => {
        const chart = window.echarts.getInstanceByDom(document.getElementById(chartId));
        return chart.getZr().storage.getDisplayList(true)
            .map((shape) => shape.style && shape.style.text).filter(Boolean);
    }""",
        chart_id,
    )


def _hover_points(page, chart_id: str) -> list[tuple[float, float]]:
    """Page coordinates of the middle of every bar (weighted chart) or layer (funnel)."""
    points = page.evaluate(
        """(chartId) => {
        const chart = window.echarts.getInstanceByDom(document.getElementById(chartId));
        const data = chart.getModel().getSeriesByIndex(0).getData();
        const points = [];
        for (let i = 0; i < data.count(); i++) {
            const layout = data.getItemLayout(i);
            if (layout && layout.points) {  // a funnel layer: its four corners
                points.push([layout.points.reduce((s, p) => s + p[0], 0) / 4,
                             layout.points.reduce((s, p) => s + p[1], 0) / 4]);
            } else if (layout && layout.height) {  // a bar (a zero bar cannot be hovered)
                points.push([layout.x + layout.width / 2, layout.y + layout.height / 2]);
            }
        }
        return points;
    }""",
        chart_id,
    )
    box = page.locator(f"#{chart_id}").bounding_box()
    return [(box["x"] + x, box["y"] + y) for x, y in points]


def _hover_every_item(page, chart_id: str) -> list[str]:
    """Moves the mouse over each item in turn; returns the tooltip texts it showed."""
    tooltips = []
    for x, y in _hover_points(page, chart_id):
        page.mouse.move(x, y)
        page.wait_for_function(
            """([chartId, before]) => {
            const chart = window.echarts.getInstanceByDom(document.getElementById(chartId));
            const texts = chart.getZr().storage.getDisplayList(true)
                .map((shape) => shape.style && shape.style.text).filter(Boolean);
            return texts.some((text) => text.includes(": ") && !before.includes(text));
        }""",
            arg=[chart_id, tooltips],
        )
        tooltips += [text for text in _drawn_texts(page, chart_id) if ": " in text and text not in tooltips]
    return tooltips


def _axis_labels(page) -> list[str]:
    return [text for text in _drawn_texts(page, "weighted-chart") if text.startswith("¥")]


def _charts_format(page, amounts: list) -> list[str]:
    """The weighted chart's own axis formatter applied to ``amounts``."""
    return page.evaluate(
        """(amounts) => {
        const chart = window.echarts.getInstanceByDom(document.getElementById("weighted-chart"));
        const format = chart.getOption().yAxis[0].axisLabel.formatter;
        return amounts.map((amount) => format(amount));
    }""",
        amounts,
    )


def _filter_format(language: str, amounts: list) -> list[str]:
    with translation.override(language):
        return [money(Decimal(str(amount))) for amount in amounts]


def test_hovering_the_charts_is_clean_and_counts_money_like_the_tables(page, manager_with_pipeline):
    login(page, "boss_east", PASSWORD)
    page.goto("/reports/funnel/")
    expect(page.locator("#weighted-chart canvas")).to_have_count(1)

    # English: full amounts with separators on the axis and in every tooltip.
    funnel_tips = _hover_every_item(page, "funnel-chart")
    weighted_tips = _hover_every_item(page, "weighted-chart")
    assert len(funnel_tips) == len(OPEN_GRADES) and len(weighted_tips) >= len(OPEN_GRADES)
    assert all(ENGLISH_AMOUNT.search(text) for text in funnel_tips + weighted_tips), funnel_tips
    assert any(ENGLISH_AMOUNT.fullmatch(label) for label in _axis_labels(page))
    assert _charts_format(page, EDGE_AMOUNTS) == _filter_format("en", EDGE_AMOUNTS)
    assert page.locator("div[style*='z-index: 9999999']").count() == 0  # no HTML tooltip

    # Chinese: the same charts count in 万, as the table under them does.
    with page.expect_navigation():
        page.select_option("[data-testid=language-select]", "zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("[data-testid=quota]")).to_contain_text("万")
    funnel_tips = _hover_every_item(page, "funnel-chart")
    weighted_tips = _hover_every_item(page, "weighted-chart")
    assert all(CHINESE_AMOUNT.search(text) for text in funnel_tips + weighted_tips), funnel_tips
    assert any(CHINESE_AMOUNT.fullmatch(label) for label in _axis_labels(page))
    assert _charts_format(page, EDGE_AMOUNTS) == _filter_format("zh-hans", EDGE_AMOUNTS)

    assert page.console_errors == []
    assert csp_violations(page) == []
    assert page.page_errors == []

"""Chart tooltips (issue 17): a grade name or code typed by an admin is shown as text in
the ECharts tooltips, never read as HTML (they are drawn in the canvas) nor as ECharts'
rich-text markup ("{style|text}")."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from core.models import Grade
from crm.models import Role
from crm.tests.factories import CustomerFactory, TeamFactory, UserFactory
from funnel.tests.factories import grade

from .conftest import csp_violations, login

PASSWORD = "correct-horse-battery"
NAME = 'Quote <b data-injected="name">sent</b> {b|as typed}'
CODE = "<b id=inj>"  # a grade code holds at most 10 characters

pytestmark = pytest.mark.e2e


@pytest.fixture
def manager_with_markup_grades(transactional_db):
    team = TeamFactory(name="East")
    manager = UserFactory(username="boss_east", role=Role.MANAGER, team=team)
    team.manager = manager
    team.save()
    seller = UserFactory(username="seller_east", team=team)
    for code in ("E", "D", "C", "B", "A"):
        CustomerFactory(owner=seller, grade=grade(code), expected_value=Decimal(100_000))
    Grade.objects.filter(code="B").update(name=NAME, code=CODE)
    return manager


def _tooltip_of(page, chart_id: str, data_index: int) -> dict:
    """Shows the chart's tooltip for one data item and reads it back from the canvas."""
    return page.evaluate(
        """([chartId, dataIndex]) => {
        const element = document.getElementById(chartId);
        const chart = window.echarts.getInstanceByDom(element);
        chart.dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: dataIndex});
        return {
            // the texts drawn in the canvas, without the zero-width space that keeps a "{" literal
            text: chart.getZr().storage.getDisplayList(true)
                .map((shape) => (shape.style && shape.style.text) || "").join("\\n").replace(/\\u200b/g, ""),
            injected: element.querySelectorAll("[data-injected], #inj").length,
        };
    }""",
        [chart_id, data_index],
    )


def test_grade_names_and_codes_show_as_text_in_the_chart_tooltips(page, manager_with_markup_grades):
    login(page, "boss_east", PASSWORD)
    page.goto("/reports/funnel/")
    expect(page.locator("#funnel-chart canvas")).to_have_count(1)

    funnel = _tooltip_of(page, "funnel-chart", 3)  # E, D, C, B, A: B is the fourth layer
    weighted = _tooltip_of(page, "weighted-chart", 3)

    assert funnel["injected"] == 0 and weighted["injected"] == 0
    assert NAME in funnel["text"]
    assert CODE in weighted["text"]
    assert csp_violations(page) == [], csp_violations(page)
    assert page.page_errors == []

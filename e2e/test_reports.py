"""A manager opens the funnel dashboard: the ECharts funnel is drawn and the diagnosis is
written under it, with no CSP violation (charts read json_script data from a static file)."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from crm.models import Role
from crm.tests.factories import CustomerFactory, TeamFactory, UserFactory
from funnel.tests.factories import grade

from .axe import serious_violations
from .conftest import PHONE, csp_violations, login

PASSWORD = "correct-horse-battery"

pytestmark = pytest.mark.e2e


@pytest.fixture
def east_team(transactional_db):
    team = TeamFactory(name="East")
    manager = UserFactory(username="boss_east", role=Role.MANAGER, team=team)
    team.manager = manager
    team.save()
    seller = UserFactory(username="seller_east", first_name="Li", last_name="Na", team=team)
    for code, count in (("E", 5), ("D", 10), ("C", 60), ("B", 5), ("A", 2)):
        for _ in range(count):
            CustomerFactory(owner=seller, grade=grade(code), expected_value=Decimal(100_000))
    return manager, seller


def test_manager_sees_the_funnel_chart_and_the_diagnosis(page, east_team):
    login(page, "boss_east", PASSWORD)
    page.goto("/reports/funnel/")
    expect(page.locator("h1")).to_contain_text("Sales funnel")
    expect(page.locator("#funnel-chart canvas")).to_have_count(1)
    expect(page.locator("#weighted-chart canvas")).to_have_count(1)
    expect(page.locator("[data-testid=verdict]")).to_have_text(
        "Few orders and few prospects: customers pile up at C."
    )
    expect(page.locator("[data-testid=diagnosis-rule]")).to_contain_text("C holds 73 % of the funnel")
    expect(page.locator("[data-testid=funnel-table] tr[data-grade=C] td").nth(1)).to_have_text("60")
    assert csp_violations(page) == []
    assert page.page_errors == []

    # The manager clicks the salesperson to see their funnel.
    page.click("[data-testid=people] a:has-text('Li Na')")
    expect(page.locator("[data-testid=scope-title]")).to_contain_text("Li Na")
    expect(page.locator("#funnel-chart canvas")).to_have_count(1)


def test_a_salesperson_reads_the_rule_and_the_assumed_rates_on_a_phone(phone_page, east_team):
    page = phone_page()
    login(page, "seller_east", PASSWORD)

    page.goto("/reports/funnel/")
    page.get_by_text("Each grade's share of the funnel").click()
    expect(page.locator("[data-testid=shape-table] tr[data-grade=C]")).to_contain_text("73 %")
    expect(page.locator("[data-testid=diagnosis-rule]")).to_contain_text("are assumed")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.goto("/reports/backward-plan/?period=quarter&target_kind=orders&target=10")
    # No grade has been left by five customers: every rate is assumed, and no week measured one.
    expect(page.locator("[data-testid=plan] [data-testid=assumed]")).to_have_count(5)
    expect(page.locator("[data-testid=average-rates]")).to_contain_text("No data in the period")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert csp_violations(page) == [] and page.page_errors == []
    assert serious_violations(page) == []

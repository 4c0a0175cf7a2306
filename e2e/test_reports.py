"""A manager opens the funnel dashboard: the ECharts funnel is drawn and the diagnosis is
written under it, with no CSP violation (charts read json_script data from a static file)."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from crm.models import Role
from crm.tests.factories import CustomerFactory, TeamFactory, UserFactory
from funnel.tests.factories import grade

from .conftest import csp_violations, login

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
    expect(page.locator("[data-testid=diagnosis]")).to_contain_text("Customers pile up at C")
    expect(page.locator("[data-testid=funnel-table] tr[data-grade=C] td").nth(1)).to_have_text("60")
    assert csp_violations(page) == []
    assert page.page_errors == []

    # The manager clicks the salesperson to see their funnel.
    page.click("[data-testid=people] a:has-text('Li Na')")
    expect(page.locator("[data-testid=scope-title]")).to_contain_text("Li Na")
    expect(page.locator("#funnel-chart canvas")).to_have_count(1)

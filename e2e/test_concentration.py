"""The concentration guard in a browser, on a phone: a manager whose team depends on two
people reads the warning on the team balance page and on the funnel dashboard."""

import pytest
from playwright.sync_api import expect

from crm.models import Role
from crm.tests.factories import TeamFactory, UserFactory
from funnel.tests.builders import customer_at

from .axe import serious_violations
from .conftest import PHONE, csp_violations, login

PASSWORD = "correct-horse-battery"

pytestmark = pytest.mark.e2e


@pytest.fixture
def two_stars(transactional_db):
    """A team of ten where Wang Fang and Li Na hold 9 of the 10 won customers."""
    team = TeamFactory(name="East")
    manager = UserFactory(username="boss_east", role=Role.MANAGER, team=team)
    team.manager = manager
    team.save()
    wang = UserFactory(username="wang", first_name="Wang", last_name="Fang", team=team)
    li = UserFactory(username="li", first_name="Li", last_name="Na", team=team)
    others = [UserFactory(username=f"mate{n}", team=team) for n in range(7)]
    for n, owner in enumerate([wang] * 5 + [li] * 4 + others[:1]):
        customer_at("WON", owner, name=f"Signed {n}")


@pytest.mark.parametrize("path", ["/funnel/balance/", "/reports/funnel/"])
def test_the_manager_reads_the_warning_on_a_phone(phone_page, two_stars, path):
    page = phone_page()
    login(page, "boss_east", PASSWORD)

    page.goto(path)

    warning = page.get_by_role("alert").filter(has_text="of the team's won customers")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Wang Fang, Li Na (2 of the team's 10 people) hold 90.0 %")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert csp_violations(page) == [] and page.page_errors == []
    if path == "/funnel/balance/":  # the dashboard's wide tables are not yet keyboard-scrollable
        assert serious_violations(page) == []

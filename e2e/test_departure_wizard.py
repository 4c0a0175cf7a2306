"""The departure wizard in a browser: the teammates' checkboxes are real, visible boxes,
and people of other teams come only when the manager asks."""

import pytest
from playwright.sync_api import expect

from crm.models import Role
from crm.tests.factories import CustomerFactory, TeamFactory, UserFactory
from funnel.tests.factories import grade

from .axe import serious_violations
from .conftest import login

PASSWORD = "correct-horse-battery"

pytestmark = pytest.mark.e2e


@pytest.fixture
def leaving(transactional_db):
    team = TeamFactory(name="East")
    manager = UserFactory(username="boss_east", role=Role.MANAGER, team=team)
    team.manager = manager
    team.save()
    leaver = UserFactory(username="leaver", first_name="Wang", last_name="Fang", team=team)
    UserFactory(username="mate", first_name="Li", last_name="Na", team=team)
    UserFactory(
        username="far", first_name="Zhao", last_name="Lei", team=TeamFactory(name="East North", parent=team)
    )
    for code in ("E", "D", "C"):
        CustomerFactory(owner=leaver, grade=grade(code))
    return leaver


def test_the_teammates_checkboxes_are_visible_and_tick_into_a_split(page, leaving):
    login(page, "boss_east", PASSWORD)
    page.goto(f"/funnel/departures/{leaving.pk}/")

    boxes = page.locator("input[type=checkbox][name=teammates]")
    expect(boxes).to_have_count(2)  # the two teammates; other teams only on request
    for index in range(2):
        expect(boxes.nth(index)).to_be_visible()
        box = boxes.nth(index).bounding_box()
        assert box["width"] >= 12 and box["height"] >= 12, box  # a real box, not a collapsed input
    assert serious_violations(page) == []
    # Other teams only on request, after the teammates.
    page.click("[data-testid=show-other-teams]")
    expect(boxes).to_have_count(3)
    expect(page.locator("fieldset label").nth(2)).to_contain_text("Zhao Lei (East North)")
    page.get_by_label("Li Na (East)").check()  # the label ticks its box
    page.click("button:has-text('Propose a split')")

    expect(page.locator("[data-testid=split-summary] tbody tr")).to_have_count(1)
    expect(page.locator("[data-testid=split-summary] tbody tr")).to_contain_text("Li Na")
    expect(page.locator("[data-testid=split-summary] tbody td").first).to_have_text("3")
    assert serious_violations(page) == []
    assert page.page_errors == []

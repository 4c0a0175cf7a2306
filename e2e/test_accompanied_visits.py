"""An accompanied visit (陪同拜访) on phones: the salesperson checks in with their manager
ticked as companion; the manager finds it under "Visits you join today", writes a
coaching note, and the salesperson reads it on the visit. At 390×844, no page wider."""

from types import SimpleNamespace

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from activities.models import Visit
from activities.tests.factories import ensure_default_catalog
from crm.models import Role
from crm.tests.factories import CustomerFactory, TeamFactory, UserFactory
from funnel.tests.factories import grade

from .conftest import PHONE, csp_violations, login

PASSWORD = "correct-horse-battery"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def east(transactional_db):
    ensure_default_catalog()
    team = TeamFactory(name="East")
    manager = UserFactory(
        username="boss_east", first_name="Hui", last_name="Chen", role=Role.MANAGER, team=team
    )
    team.manager = manager
    team.save()
    salesperson = UserFactory(username="sales_east1", first_name="Wei", last_name="Zhang", team=team)
    customer = CustomerFactory(owner=salesperson, name="Harbor Point Logistics", grade=grade("C"))
    return SimpleNamespace(manager=manager, salesperson=salesperson, customer=customer)


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def test_the_manager_goes_along_and_leaves_a_coaching_note(phone_page, east):
    # The salesperson checks in (no location) with their manager ticked as companion.
    salesperson = phone_page()
    login(salesperson, "sales_east1", PASSWORD)
    salesperson.goto(reverse("activities:visit-check-in", args=[east.customer.pk]))
    salesperson.get_by_label("Hui Chen").check()
    _fits(salesperson)
    salesperson.locator("[data-testid=check-in-submit]").tap()
    expect(salesperson.locator("[data-testid=companions]")).to_contain_text("Hui Chen")
    visit = Visit.objects.get()
    assert [c.user for c in visit.companions.all()] == [east.manager]

    # The manager sees it on their day and writes a coaching note.
    manager = phone_page()
    login(manager, "boss_east", PASSWORD)
    block = manager.locator("[data-testid=block-joined]")
    expect(block).to_contain_text("Harbor Point Logistics")
    expect(block).to_contain_text("coaching note to write")
    block.get_by_role("link", name="Harbor Point Logistics").tap()
    manager.locator("textarea[name=coaching_note]").fill("Ask for the decision maker before the price.")
    manager.locator("[data-testid=coaching-note-form] button[type=submit]").tap()
    expect(manager.locator(".alert-success")).to_contain_text("Coaching note saved.")
    _fits(manager)

    # The salesperson reads it on the visit.
    salesperson.goto(reverse("activities:visit-detail", args=[visit.pk]))
    expect(salesperson.locator("[data-testid=coaching-note]")).to_have_text(
        "Ask for the decision maker before the price."
    )
    _fits(salesperson)
    assert not csp_violations(salesperson) and not csp_violations(manager)

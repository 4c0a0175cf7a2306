"""The alerts page on a phone: a manager snoozes a stuck customer's alert from its row,
and it moves from "to act on" to "snoozed" while the stuck count stays the funnel's."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.models import Grade
from crm.models import Role
from crm.tests.factories import TeamFactory, UserFactory
from funnel.services import scan_stagnation
from funnel.tests.builders import customer_at
from funnel.tests.factories import grade

from .conftest import login

PASSWORD = "correct-horse-battery"

pytestmark = pytest.mark.e2e


@pytest.fixture
def stuck(transactional_db):
    team = TeamFactory(name="East")
    manager = UserFactory(username="boss_east", role=Role.MANAGER, team=team)
    team.manager = manager
    team.save()
    seller = UserFactory(username="seller", team=team)
    # grade() first: a transactional test may start with the grades flushed.
    Grade.objects.filter(pk=grade("D").pk).update(stagnation_days=14)
    for name, days in (("Northwind Trading", 20), ("Contoso Foods", 16)):
        customer_at("D", seller, days_ago=days, name=name)
    scan_stagnation(on=timezone.localdate(), notify=False)


def test_a_manager_snoozes_an_alert_from_its_row_on_a_phone(phone_page, stuck):
    page = phone_page()
    login(page, "boss_east", PASSWORD)
    page.goto("/funnel/alerts/")
    counts = page.locator("[data-testid=alert-counts]")
    expect(counts).to_contain_text("2 stuck customers")
    row = page.locator("[data-testid=alert-table] tbody tr", has_text="Northwind Trading")
    expect(row.get_by_role("link", name="Log activity")).to_be_visible()
    expect(row.get_by_role("link", name="Reassign")).to_be_visible()

    row.locator("summary", has_text="Snooze").click()
    row.get_by_label("Why can it wait?").fill("Buyer back from leave next week")
    until = (timezone.localdate() + timedelta(days=5)).isoformat()
    row.get_by_label("Snooze until").fill(until)
    with page.expect_navigation():
        row.get_by_role("button", name="Snooze").click()

    expect(page.locator(".alert-success, .alert-info").first).to_contain_text("Northwind Trading is snoozed")
    expect(page.locator("[data-testid=alert-table] tbody tr")).to_have_count(1)  # Contoso left to act on
    expect(counts).to_contain_text("2 stuck customers")
    expect(counts).to_contain_text("1 snoozed")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto("/funnel/alerts/?state=snoozed")
    expect(page.locator("[data-testid=snoozed]")).to_contain_text("Buyer back from leave next week")
    assert page.page_errors == [] and page.console_errors == []

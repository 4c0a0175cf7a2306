"""Bulk actions on the customer list (issue 16: 11): a manager ticks rows and changes
their tier; on a 390 px phone a salesperson selects the whole page, then every customer
the filter matches, and changes them all. Selecting never reloads the page."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from activities.models import PlanItem
from crm.models import Customer, Tier
from crm.tests.factories import CustomerFactory, TeamFactory, UserFactory, bulk_customers
from funnel.tests.factories import grade

from .axe import focusable_hidden_controls, serious_violations
from .conftest import PHONE, csp_violations, login

PASSWORD = "correct-horse-battery"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def team(transactional_db):
    east = TeamFactory(name="East")
    manager = UserFactory(username="east_manager", role="manager", team=east)
    east.manager = manager
    east.save()
    salesperson = UserFactory(username="sales_east1", team=east)
    for name in ("Alpha Logistics", "Beta Foods", "Gamma Steel"):
        CustomerFactory(owner=salesperson, name=name, tier=Tier.NORMAL, grade=grade("D"))
    CustomerFactory(
        owner=UserFactory(username="sales_west1", team=TeamFactory(name="West")),
        name="Delta West",
        tier=Tier.NORMAL,
        grade=grade("D"),
    )
    return {"manager": manager, "salesperson": salesperson}


def test_a_manager_ticks_two_rows_and_changes_their_tier(page, team):
    login(page, "east_manager", PASSWORD)
    page.goto("/customers/")

    bar = page.locator("#bulk-actions")
    expect(bar).to_be_visible()
    expect(page.get_by_test_id("bulk-change-tier")).to_be_disabled()
    page.get_by_label("Select Alpha Logistics").check()
    page.get_by_label("Select Gamma Steel").check()
    expect(bar.get_by_role("status")).to_have_text("Selected: 2")
    expect(page.get_by_label("Select all on this page")).not_to_be_checked()
    # The bar, active, passes axe and hides no focusable control.
    assert serious_violations(page) == []
    assert focusable_hidden_controls(page) == []
    # The bar's links carry the selection (no reload happened: the boxes are still ticked).
    alpha, gamma = (Customer.objects.get(name=name).pk for name in ("Alpha Logistics", "Gamma Steel"))
    expect(page.get_by_test_id("bulk-reassign")).to_have_attribute(
        "href", f"{reverse('funnel:bulk-reassign')}?tick=all&customer={alpha}&customer={gamma}"
    )

    page.get_by_label("New tier").select_option(Tier.PRIORITY)
    with page.expect_navigation():
        page.get_by_test_id("bulk-change-tier").click()

    expect(page.locator(".alert-success")).to_contain_text("Tier set to Priority for 2 customers.")
    assert sorted(Customer.objects.filter(tier=Tier.PRIORITY).values_list("name", flat=True)) == [
        "Alpha Logistics",
        "Gamma Steel",
    ]
    assert csp_violations(page) == []
    assert page.page_errors == []


def test_on_a_phone_a_salesperson_selects_every_match_of_the_filter_and_changes_them(phone_page, team):
    bulk_customers(owner=team["salesperson"], count=55, grade=grade("D"), prefix="Dock")
    phone = phone_page()
    login(phone, "sales_east1", PASSWORD)
    phone.goto("/customers/?search=Dock")

    # One ticked row goes on tomorrow's plan (activities' endpoint), back to this list.
    phone.get_by_label("Select Dock", exact=False).first.check()
    with phone.expect_navigation():
        phone.get_by_test_id("bulk-plan").click()
    expect(phone.locator(".alert-success")).to_contain_text("added to your plan")
    assert "search=Dock" in phone.url
    assert PlanItem.objects.filter(plan__owner=team["salesperson"]).count() == 1

    select_page = phone.get_by_label("Select all on this page")
    select_page.check()
    expect(phone.locator("[data-bulk-row]:checked")).to_have_count(50)
    every_match = phone.get_by_role("button", name="Select all 55 customers matching the filter")
    every_match.click()
    expect(phone.locator("#bulk-actions").get_by_role("status")).to_have_text(
        "All 55 customers matching the filter are selected."
    )
    expect(phone.get_by_test_id("bulk-plan")).to_be_disabled()  # a plan takes ticked rows, not a filter
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = phone.get_by_label("Select Dock", exact=False).first.locator("xpath=..").bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44

    phone.get_by_label("New tier").select_option(Tier.LOW)
    with phone.expect_navigation():
        phone.get_by_test_id("bulk-change-tier").click()

    expect(phone.locator(".alert-success")).to_contain_text("Tier set to Low for 55 customers.")
    assert Customer.objects.filter(name__startswith="Dock", tier=Tier.LOW).count() == 55
    assert Customer.objects.filter(tier=Tier.LOW).count() == 55
    assert csp_violations(phone) == []

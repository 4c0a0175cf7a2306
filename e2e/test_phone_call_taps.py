"""On a phone, from login, "log a call on a named customer" takes at most four taps:
the search box, "Log call" on the customer found, "Tomorrow" for the next follow-up,
Save. Typing the name is typing, not a tap; signing in does not count."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from activities.models import Activity, ActivityKind
from activities.tests.factories import ensure_default_catalog
from crm.models import Customer, KeyPersonRole
from crm.tests.factories import ContactFactory, CustomerFactory, TeamFactory, UserFactory
from funnel.tests.factories import grade

from .conftest import PHONE, csp_violations, login

PASSWORD = "correct-horse-battery"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def customer(transactional_db):
    ensure_default_catalog()
    salesperson = UserFactory(
        username="sales_east1", first_name="Wei", last_name="Zhang", team=TeamFactory(name="East")
    )
    customer = CustomerFactory(owner=salesperson, name="Harbor Point Logistics", grade=grade("D"))
    ContactFactory(
        customer=customer, name="Lin Mei", role=KeyPersonRole.DECISION_MAKER, phone="+86 138 0013 8000"
    )
    CustomerFactory(owner=salesperson, name="Harbor View Hotel", grade=grade("E"))
    return customer


@pytest.fixture
def phone(phone_page):
    """A 390×844 touch phone (an iPhone 13's screen), English."""
    return phone_page()


def test_a_call_on_a_named_customer_takes_at_most_four_taps_from_login(phone, customer, capsys):
    tomorrow = timezone.localdate() + timedelta(days=1)
    login(phone, "sales_east1", PASSWORD)
    taps = 0

    def tap(locator) -> None:
        nonlocal taps
        locator.tap()
        taps += 1

    # 1: the search box sits in the top bar, no menu to open first.
    search = phone.locator("[data-testid=quick-search]")
    expect(search).to_be_visible()
    tap(search)
    phone.keyboard.type("Harbor Point")
    row = phone.locator("[data-testid=search-result]", has_text="Harbor Point Logistics")
    expect(row).to_be_visible()
    expect(row.locator("a[href^='tel:']")).to_have_attribute("href", "tel:+8613800138000")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # 2: "Log call" opens the form with the call chosen and a sensible purpose.
    with phone.expect_navigation():
        tap(row.get_by_role("link", name="Log call"))
    expect(phone.locator("[data-kind-select]")).to_have_value("call")

    # 3: the next follow-up, with one quick pick.
    tap(phone.get_by_role("button", name="Tomorrow"))
    expect(phone.locator("[data-follow-up]")).to_have_value(tomorrow.isoformat())

    # 4: save.
    with phone.expect_navigation():
        tap(phone.locator("[data-testid=log-submit]"))
    expect(phone.locator(".alert-success")).to_contain_text("Call with Harbor Point Logistics logged.")

    with capsys.disabled():  # shown in every run's output, not only on a failure
        print(f"\ntaps to log a call: {taps}")
    assert taps <= 4
    activity = Activity.objects.get(customer=customer)
    assert (activity.kind, activity.next_follow_up_on) == (ActivityKind.CALL, tomorrow)
    assert Customer.objects.get(pk=customer.pk).next_follow_up_on == tomorrow
    assert csp_violations(phone) == []


def test_slash_focuses_the_search_and_escape_closes_the_results(phone, customer):
    phone.set_viewport_size({"width": 1280, "height": 900})
    login(phone, "sales_east1", PASSWORD)

    phone.keyboard.press("/")
    search = phone.locator("[data-testid=quick-search]")
    expect(search).to_be_focused()
    phone.keyboard.type("harbor")
    results = phone.locator("#quick-search-results")
    expect(results.locator("[data-testid=search-result]")).to_have_count(2)
    # Names starting with what was typed come first, then the rest by name.
    expect(results.locator("[data-testid=search-result]").first).to_contain_text("Harbor Point Logistics")

    phone.keyboard.press("Escape")
    expect(results).to_be_hidden()
    phone.keyboard.press("Backspace")
    phone.keyboard.press("Backspace")
    phone.keyboard.press("Backspace")
    phone.keyboard.press("Backspace")
    phone.keyboard.press("Backspace")
    expect(results).to_be_hidden()  # one character: nothing to show
    assert csp_violations(phone) == []

"""A salesperson's morning: open "my day", log a call on an overdue follow-up from its row
(short inline form, objection answer, quick date pick), and see the row update in place."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from activities.models import Activity, CallStage
from activities.tests.factories import ensure_default_catalog
from crm.models import Customer, KeyPersonRole
from crm.tests.factories import ContactFactory, CustomerFactory, TeamFactory, UserFactory
from funnel.tests.factories import grade

from .axe import focusable_hidden_controls, serious_violations
from .conftest import csp_violations, login

PASSWORD = "correct-horse-battery"

pytestmark = pytest.mark.e2e


@pytest.fixture
def overdue_customer(transactional_db):
    ensure_default_catalog()
    salesperson = UserFactory(
        username="sales_east1", first_name="Wei", last_name="Zhang", team=TeamFactory(name="East")
    )
    customer = CustomerFactory(owner=salesperson, name="Harbor Point Logistics", grade=grade("D"))
    ContactFactory(customer=customer, name="Lin Mei", role=KeyPersonRole.DECISION_MAKER)
    Customer.objects.filter(pk=customer.pk).update(next_follow_up_on=timezone.localdate() - timedelta(days=3))
    return customer


def test_log_a_call_from_my_day_updates_the_row_and_the_customer(page, overdue_customer):
    tomorrow = timezone.localdate() + timedelta(days=1)
    login(page, "sales_east1", PASSWORD)

    # The overdue follow-up is on "my day", in red, with its days overdue.
    row = page.locator(
        "[data-testid=block-follow-ups] [data-testid=myday-row]", has_text="Harbor Point Logistics"
    )
    expect(row.locator("[data-testid=overdue]")).to_have_text("3 days overdue")

    # "Log call" opens the short form inside the row (htmx), "effective" pre-ticked for the decision maker.
    row.locator("[data-testid=log-call]").click()
    form = row.locator("[data-testid=log-form]")
    expect(form).to_be_visible()
    expect(form.locator("[data-effective]")).to_be_checked()
    expect(form.locator("[data-kind-select]")).to_have_value("call")

    # Picking an objection shows its suggested answer right there.
    form.locator("[data-objection-select]").select_option(label="Your price is too high")
    expect(form.locator("[data-objection-answer]")).to_be_visible()
    expect(form.locator("[data-answer-text]")).to_contain_text("from price to value")

    # Saving without the next follow-up: the error shows inline, what was typed is kept.
    typed = "Asked for a 5 % discount; sent the value comparison."
    form.locator("textarea[name=outcome]").fill(typed)
    form.locator("[data-testid=log-submit]").click()
    expect(row.locator(".invalid-feedback")).to_contain_text("every call needs a next follow-up date")
    expect(row.locator("textarea[name=outcome]")).to_have_value(typed)

    # The quick pick fills tomorrow; saving replaces the row with its new state.
    row.get_by_role("button", name="Tomorrow", exact=True).click()
    expect(row.locator("[data-follow-up]")).to_have_value(tomorrow.isoformat())
    row.locator("[data-testid=log-submit]").click()
    logged = page.locator("[data-testid=myday-row][data-logged]", has_text="Harbor Point Logistics")
    expect(logged).to_contain_text("Call with Harbor Point Logistics logged.")
    expect(logged.locator("[data-testid=next-follow-up]")).to_have_text(tomorrow.isoformat())

    customer = Customer.objects.get(pk=overdue_customer.pk)
    activity = Activity.objects.get()
    assert customer.next_follow_up_on == tomorrow
    assert customer.last_activity_at == activity.started_at == customer.last_call_at
    assert (activity.effective, activity.call_stage) == (True, CallStage.CONNECTED)
    assert activity.objection.order == 6

    # A fresh "my day" no longer lists the follow-up.
    page.reload()
    expect(page.locator("[data-testid=block-follow-ups]")).not_to_contain_text("Harbor Point Logistics")

    assert page.page_errors == []
    assert csp_violations(page) == []
    # The only non-2xx answer was the form sent back with its error (422, swapped in place).
    assert all(re.match(r"422 .*/activities/customers/\d+/log/$", failed) for failed in page.failed_responses)


@pytest.fixture
def busy_day(transactional_db):
    """Two overdue follow-ups (Harbor Point the older), Harbor Point also on today's plan."""
    from activities import services
    from activities.models import Purpose

    ensure_default_catalog()
    salesperson = UserFactory(
        username="sales_east1", first_name="Wei", last_name="Zhang", team=TeamFactory(name="East")
    )
    harbor = CustomerFactory(owner=salesperson, name="Harbor Point Logistics", grade=grade("D"))
    blue = CustomerFactory(owner=salesperson, name="Blue Sky Trading", grade=grade("B"), region="Pudong")
    today = timezone.localdate()
    Customer.objects.filter(pk=harbor.pk).update(next_follow_up_on=today - timedelta(days=3))
    Customer.objects.filter(pk=blue.pk).update(next_follow_up_on=today - timedelta(days=1))
    plan = services.open_plan(by=salesperson, day=today)
    services.add_plan_item(plan=plan, by=salesperson, customer=harbor, purpose=Purpose.SERVICE)
    return {"harbor": harbor, "blue": blue, "plan": plan}


def test_my_day_stays_live_after_an_inline_log(page, busy_day):
    login(page, "sales_east1", PASSWORD)
    page.evaluate("window.notReloaded = true")
    follow_ups = page.locator("[data-testid=block-follow-ups]")
    expect(page.locator("#follow-count")).to_have_text("2")
    expect(page.locator("[data-testid=today-progress]")).to_contain_text("0 calls")
    plan_row = page.locator("[data-testid=block-plan] [data-testid=myday-row]", has_text="Harbor Point")
    expect(plan_row).not_to_contain_text("done")

    row = follow_ups.locator("[data-testid=myday-row]", has_text="Harbor Point Logistics")
    row.locator("[data-testid=log-call]").click()
    row.get_by_role("button", name="Tomorrow", exact=True).click()
    row.locator("[data-testid=log-submit]").click()

    # The row says what was logged; the counts, the follow-ups' count and the plan item follow.
    expect(follow_ups.locator("[data-logged]")).to_contain_text("Call with Harbor Point Logistics logged.")
    expect(page.locator("[data-testid=today-progress]")).to_contain_text("1 call")
    expect(page.locator("#follow-count")).to_have_text("1")
    expect(plan_row).to_contain_text("done")
    # The focus is on the next row's "Log call", ready for the next one.
    next_row = follow_ups.locator("[data-testid=myday-row]", has_text="Blue Sky Trading")
    expect(next_row.locator("[data-testid=log-call]")).to_be_focused()
    assert page.evaluate("window.notReloaded") is True

    # One click puts the next customer on tomorrow's plan, in place.
    next_row.locator("[data-testid=plan-add]").click()
    expect(next_row.locator("[data-testid=plan-added]")).to_contain_text(
        "Blue Sky Trading added to your plan"
    )
    assert page.evaluate("window.notReloaded") is True

    # What came in place passes axe as the page did (WCAG 2.1 AA).
    assert serious_violations(page) == [] and focusable_hidden_controls(page) == []
    assert page.console_errors == [] and page.page_errors == []
    assert csp_violations(page) == []
    assert page.failed_responses == []


def test_adding_a_customer_with_the_picker_does_not_reload_the_plan(page, busy_day):
    from activities import services

    tomorrow = services.open_plan(by=busy_day["plan"].owner, day=timezone.localdate() + timedelta(days=1))
    login(page, "sales_east1", PASSWORD)
    page.goto(f"/plans/{tomorrow.pk}/")
    page.evaluate("window.notReloaded = true")

    # The due customers are offered first; a search by area finds Blue Sky.
    expect(page.locator("[data-testid=picker-option]").first).to_contain_text("Harbor Point Logistics")
    page.locator("[data-testid=picker-search]").fill("Pudong")
    option = page.locator("[data-testid=picker-option]", has_text="Blue Sky Trading")
    expect(page.locator("[data-testid=picker-option]")).to_have_count(1)
    option.locator("input").check()
    # Intent (B, quoting): the purpose is the order.
    expect(page.locator("[data-testid=add-item-form] select[name=purpose]")).to_have_value("order")
    page.locator("[data-testid=add-item-submit]").click()

    expect(page.locator("[data-testid=plan-item-added]")).to_contain_text(
        "Blue Sky Trading added to the plan."
    )
    expect(page.locator("[data-testid=plan-item]")).to_have_count(1)
    expect(page.locator("[data-testid=plan-item]")).to_contain_text("Order")
    expect(page.locator("[data-testid=submit-plan]")).to_be_enabled()
    # The fresh picker no longer offers the planned customer.
    expect(page.locator("[data-testid=picker-option]", has_text="Blue Sky Trading")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
    assert serious_violations(page) == [] and focusable_hidden_controls(page) == []
    assert page.console_errors == [] and page.page_errors == []
    assert csp_violations(page) == []

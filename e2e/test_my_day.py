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

from .conftest import csp_violations, login

PASSWORD = "correct-horse-battery"

pytestmark = pytest.mark.e2e


@pytest.fixture
def overdue_customer(transactional_db):
    ensure_default_catalog()
    salesperson = UserFactory(username="sales_east1", first_name="Wei", last_name="Zhang",
                              team=TeamFactory(name="East"))
    customer = CustomerFactory(owner=salesperson, name="Harbor Point Logistics", grade=grade("D"))
    ContactFactory(customer=customer, name="Lin Mei", role=KeyPersonRole.DECISION_MAKER)
    Customer.objects.filter(pk=customer.pk).update(next_follow_up_on=timezone.localdate() - timedelta(days=3))
    return customer


def test_log_a_call_from_my_day_updates_the_row_and_the_customer(page, overdue_customer):
    tomorrow = timezone.localdate() + timedelta(days=1)
    login(page, "sales_east1", PASSWORD)

    # The overdue follow-up is on "my day", in red, with its days overdue.
    row = page.locator("[data-testid=block-follow-ups] [data-testid=myday-row]",
                       has_text="Harbor Point Logistics")
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
    row.get_by_role("button", name="Tomorrow").click()
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

"""'Effective' means reached (issue 16: 2): on "my day", a call to the decision maker
that was only dialled cannot be ticked effective, and is stored not effective."""

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

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def due_customer(transactional_db):
    ensure_default_catalog()
    salesperson = UserFactory(username="sales_east1", team=TeamFactory(name="East"))
    customer = CustomerFactory(owner=salesperson, name="Harbor Point Logistics", grade=grade("D"))
    ContactFactory(customer=customer, name="Zhao Lei", role=KeyPersonRole.INFLUENCER)
    ContactFactory(customer=customer, name="Lin Mei", role=KeyPersonRole.DECISION_MAKER)
    Customer.objects.filter(pk=customer.pk).update(next_follow_up_on=timezone.localdate() - timedelta(days=1))
    return customer


def _logged_activity(page) -> Activity:
    """The activity once the inline form's POST has landed (polled: the row's update is
    another part's business)."""
    for _attempt in range(100):
        activity = Activity.objects.first()
        if activity is not None:
            return activity
        page.wait_for_timeout(100)
    raise AssertionError("the call was not logged")


def test_a_dialled_call_with_the_decision_maker_chosen_is_not_effective(page, due_customer):
    login(page, "sales_east1", PASSWORD)
    row = page.locator("[data-testid=myday-row]", has_text="Harbor Point Logistics").first
    row.locator("[data-testid=log-call]").click()
    form = row.locator("[data-testid=log-form]")
    effective = form.locator("[data-effective]")
    stage = form.locator("[data-call-stage-select]")

    # given the decision maker chosen: "effective" is pre-ticked
    form.locator("[data-contact-select]").select_option(label="Lin Mei · Decision maker")
    expect(effective).to_be_checked()
    expect(effective).to_be_enabled()

    # when the call was only dialled: the box unticks and cannot be ticked
    stage.select_option(str(CallStage.DIALLED))
    expect(effective).not_to_be_checked()
    expect(effective).to_be_disabled()
    # picking the decision maker again does not tick it either
    form.locator("[data-contact-select]").select_option(label="Zhao Lei · Influencer / gatekeeper")
    form.locator("[data-contact-select]").select_option(label="Lin Mei · Decision maker")
    expect(effective).not_to_be_checked()

    # connected again: the key-person default comes back; dialled once more, and save
    stage.select_option(str(CallStage.CONNECTED))
    expect(effective).to_be_enabled()
    expect(effective).to_be_checked()
    stage.select_option(str(CallStage.DIALLED))
    expect(effective).to_be_disabled()
    row.get_by_role("button", name="Tomorrow", exact=True).click()
    row.locator("[data-testid=log-submit]").click()

    # then the call is stored, not effective, with the decision maker as its contact
    activity = _logged_activity(page)
    assert (activity.call_stage, activity.effective, activity.contact.name) == (
        CallStage.DIALLED,
        False,
        "Lin Mei",
    )
    assert csp_violations(page) == []

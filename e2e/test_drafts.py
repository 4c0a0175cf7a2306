"""Nothing typed is lost: the daily report's "Submit to my manager" submits what is typed
(without pressing Save first), and a reload mid-typing restores the draft kept on the phone."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from activities import services
from activities.models import Activity, DailyReport, ReportState
from activities.tests.factories import ensure_default_catalog
from crm.models import Customer
from crm.tests.factories import CustomerFactory, TeamFactory, UserFactory
from funnel.tests.factories import grade

from .conftest import csp_violations, login

PASSWORD = "correct-horse-battery"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def report(transactional_db):
    salesperson = UserFactory(username="sales_draft", team=TeamFactory(name="East"))
    return services.open_report(by=salesperson, day=timezone.localdate())


def test_submit_without_save_submits_the_typed_lessons(page, report):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    login(page, "sales_draft", PASSWORD)
    page.goto(reverse("activities:report-detail", args=[report.pk]))

    page.locator("textarea[name=lessons]").press_sequentially("Call buyers before noon")
    with page.expect_navigation():
        page.locator("[data-testid=submit-report]").click()

    expect(page.locator("[data-testid=report-form]")).to_have_count(0)  # submitted: read-only now
    expect(page.locator("main")).to_contain_text("Call buyers before noon")
    report.refresh_from_db()
    assert (report.state, report.lessons) == (ReportState.SUBMITTED, "Call buyers before noon")
    assert dialogs == []  # submitting is not "leaving with unsaved edits"
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('funnel-draft:'))") == []
    assert csp_violations(page) == [] and page.page_errors == []


def test_a_reload_mid_typing_restores_the_draft(page, report):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    login(page, "sales_draft", PASSWORD)
    page.goto(reverse("activities:report-detail", args=[report.pk]))
    lessons = page.locator("textarea[name=lessons]")

    lessons.press_sequentially("Half a thought about the")
    page.reload()

    # Leaving asked first; the typed words are back, with a note to discard them.
    assert dialogs == ["beforeunload"]
    expect(lessons).to_have_value("Half a thought about the")
    expect(page.locator("[data-testid=draft-restored]")).to_be_visible()
    assert DailyReport.objects.get(pk=report.pk).lessons == ""  # only on the phone so far

    # Discard puts back what the server has and forgets the draft.
    page.locator("[data-testid=draft-discard]").click()
    expect(lessons).to_have_value("")
    expect(page.locator("[data-testid=draft-restored]")).to_have_count(0)
    page.reload()
    expect(lessons).to_have_value("")
    expect(page.locator("[data-testid=draft-restored]")).to_have_count(0)
    assert dialogs == ["beforeunload"]
    assert csp_violations(page) == [] and page.page_errors == []


def test_a_restored_draft_is_saved_and_then_forgotten(page, report):
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, "sales_draft", PASSWORD)
    page.goto(reverse("activities:report-detail", args=[report.pk]))
    page.locator("textarea[name=customer_feedback]").press_sequentially("Wants weekly delivery")
    page.reload()
    expect(page.locator("textarea[name=customer_feedback]")).to_have_value("Wants weekly delivery")

    with page.expect_navigation():
        page.locator("[data-testid=save-report]").click()

    expect(page.locator("textarea[name=customer_feedback]")).to_have_value("Wants weekly delivery")
    expect(page.locator("[data-testid=draft-restored]")).to_have_count(0)
    assert DailyReport.objects.get(pk=report.pk).customer_feedback == "Wants weekly delivery"
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('funnel-draft:'))") == []


@pytest.fixture
def due_customer(transactional_db):
    ensure_default_catalog()
    salesperson = UserFactory(username="sales_day", team=TeamFactory(name="East"))
    customer = CustomerFactory(owner=salesperson, name="Harbor Point Logistics", grade=grade("D"))
    Customer.objects.filter(pk=customer.pk).update(next_follow_up_on=timezone.localdate() - timedelta(days=1))
    return customer


def test_my_days_inline_log_form_keeps_its_draft_until_logged(page, due_customer):
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, "sales_day", PASSWORD)
    row = page.locator(
        "[data-testid=block-follow-ups] [data-testid=myday-row]", has_text="Harbor Point Logistics"
    )
    row.locator("[data-testid=log-call]").click()
    row.locator("textarea[name=outcome]").press_sequentially("Asked for the price list")

    # A reload: opening the same form again brings the typed outcome back.
    page.reload()
    row.locator("[data-testid=log-call]").click()
    expect(row.locator("textarea[name=outcome]")).to_have_value("Asked for the price list")
    expect(row.locator("[data-testid=draft-restored]")).to_be_visible()

    # Logged: the draft is gone.
    row.get_by_role("button", name="Tomorrow", exact=True).click()
    row.locator("[data-testid=log-submit]").click()
    expect(
        page.locator("[data-testid=myday-row][data-logged]", has_text="Harbor Point Logistics")
    ).to_be_visible()
    assert Activity.objects.get().outcome == "Asked for the price list"
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('funnel-draft:'))") == []
    assert csp_violations(page) == [] and page.page_errors == []

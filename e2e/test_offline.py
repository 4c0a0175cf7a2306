"""A field day without network, on a phone: my day was opened online (the service worker
installed and kept it), then the network goes. The salesperson logs a call from a my-day
row and checks in at a planned visit; both wait on the phone ("waiting to sync (2)") and
nothing reaches the server. My day still opens from the phone's copy. Back online, the
queue is sent once: one call and one visit exist, and resending a queued request with
its Idempotency-Key answers with the first answer (201, replayed) and the same row."""

import contextlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from activities.models import Activity, ActivityKind, Visit
from activities.tests.factories import ensure_default_catalog, submitted_plan
from crm.models import Customer, KeyPersonRole
from crm.tests.factories import ContactFactory, CustomerFactory, TeamFactory, UserFactory
from funnel.tests.factories import grade

from .conftest import csp_violations, login

PASSWORD = "correct-horse-battery"
SHANGHAI = {"latitude": 31.230416, "longitude": 121.473701, "accuracy": 20}

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# What the page can see of the phone's storage (run in the page).
KEPT_PAGES = """async () => {
  const names = await caches.keys();
  const kept = [];
  for (const name of names) {
    for (const request of await (await caches.open(name)).keys()) {
      const url = new URL(request.url);
      kept.push(url.pathname + url.search);
    }
  }
  return kept;
}"""
OUTBOX = """() => new Promise((resolve, reject) => {
  const opening = indexedDB.open("funnel-offline", 1);
  opening.onerror = () => reject(opening.error);
  opening.onsuccess = () => {
    const reading = opening.result.transaction("outbox").objectStore("outbox").getAll();
    reading.onsuccess = () => resolve(reading.result);
    reading.onerror = () => reject(reading.error);
  };
})"""
RESEND = """async (entry) => {
  const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
  const response = await fetch(entry.api, {
    method: "POST", credentials: "same-origin", body: JSON.stringify(entry.body),
    headers: {"Content-Type": "application/json", "Idempotency-Key": entry.key, "X-CSRFToken": token},
  });
  return {status: response.status, body: await response.json(),
          replayed: response.headers.get("Idempotent-Replayed")};
}"""


@pytest.fixture
def field_day(transactional_db):
    """A salesperson with a follow-up due today (Harbor Point) and a planned visit (Jade River)."""
    ensure_default_catalog()
    salesperson = UserFactory(
        username="sales_east1", first_name="Wei", last_name="Zhang", team=TeamFactory(name="East")
    )
    follow_up = CustomerFactory(owner=salesperson, name="Harbor Point Logistics", grade=grade("D"))
    ContactFactory(customer=follow_up, name="Lin Mei", role=KeyPersonRole.DECISION_MAKER)
    Customer.objects.filter(pk=follow_up.pk).update(
        next_follow_up_on=timezone.localdate() - timedelta(days=2)
    )
    planned = CustomerFactory(owner=salesperson, name="Jade River Foods", grade=grade("C"))
    submitted_plan(salesperson, planned)
    return {"follow_up": follow_up, "planned": planned}


@pytest.fixture
def phone(request, phone_page):
    """A 390×844 touch phone that shares its position, service workers allowed (or, with
    ``@pytest.mark.parametrize("phone", ["block"], indirect=True)``, blocked: Playwright's
    page.route does not see what a service worker fetches)."""
    return phone_page(
        service_workers=getattr(request, "param", "allow"), permissions=["geolocation"], geolocation=SHANGHAI
    )


def wait_until_controlled(page) -> None:
    """Until the service worker is active and in charge of the page (polled from here:
    the page's CSP forbids the eval that wait_for_function uses)."""
    for _ in range(100):
        if page.evaluate(
            "navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller !== null)"
        ):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the service worker never took charge of the page")


def wait_for_kept(page, *paths: str) -> list[str]:
    """Until the service worker keeps these pages (or forms) on the phone."""
    for _ in range(100):
        kept = page.evaluate(KEPT_PAGES)
        if all(any(re.fullmatch(path, url) for url in kept) for path in paths):
            return kept
        page.wait_for_timeout(100)
    raise AssertionError(f"not kept offline: {paths}; kept: {kept}")


def test_a_call_and_a_check_in_made_offline_are_sent_once_back_online(phone, field_day):
    page = phone
    context = page.context
    follow_up, planned = field_day["follow_up"], field_day["planned"]

    # Online: sign in, my day opens; the worker installs and keeps my day, the planned
    # visit's check-in page and the short "log call" form.
    login(page, "sales_east1", PASSWORD)
    wait_until_controlled(page)
    wait_for_kept(
        page, "/", rf"/customers/{planned.pk}/check-in/\?plan_item=\d+", "/offline/", "/offline/log-form/"
    )

    context.set_offline(True)

    # Offline: "Log call" on the follow-up's row opens the short form anyway.
    row = page.locator(
        "[data-testid=block-follow-ups] [data-testid=myday-row]", has_text="Harbor Point Logistics"
    )
    row.locator("[data-testid=log-call]").click()
    form = row.locator("[data-testid=log-form]")
    expect(form.locator("[data-kind-select]")).to_have_value("call")
    form.locator("textarea[name=outcome]").fill("Agreed a tasting next week.")
    form.get_by_role("button", name="Tomorrow", exact=True).click()
    form.locator("[data-testid=log-submit]").click()
    expect(row.locator("[data-testid=offline-queued]")).to_contain_text("Saved on this phone")

    # ... and the planned visit's check-in page opens from the phone's copy.
    page.locator("[data-testid=block-plan] [data-testid=myday-row]", has_text="Jade River Foods").locator(
        "[data-testid=check-in]"
    ).click()
    check_in = page.locator("[data-testid=check-in-form]")
    expect(check_in).to_be_visible()
    expect(page.locator("[data-offline-status]")).to_contain_text("copy saved on this phone")
    expect(check_in.locator("input[name=latitude]")).to_have_value(re.compile(r"^31\.23"))
    check_in.locator("[data-testid=check-in-submit]").click()
    expect(page.locator("[data-testid=offline-queued]")).to_contain_text("Saved on this phone")

    summary = page.locator("[data-testid=offline-summary]")
    expect(summary).to_have_text("Waiting to sync (2)")
    summary.click()
    items = page.locator("[data-testid=offline-item]")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Call with Harbor Point Logistics")
    expect(items.nth(1)).to_contain_text("Jade River Foods")
    assert Activity.objects.count() == 0
    assert Visit.objects.count() == 0
    queued = page.evaluate(OUTBOX)
    assert [entry["api"] for entry in queued] == ["/api/activities/", "/api/visits/check-in/"]
    assert queued[0]["body"]["customer"] == str(follow_up.pk)
    assert queued[0]["body"]["kind"] == "call"

    # Still offline, my day reloads from the phone's copy, with what waits.
    page.goto("/")
    expect(page.locator("h1")).to_contain_text("Good day, Wei")
    expect(page.locator("[data-testid=block-follow-ups]")).to_contain_text("Harbor Point Logistics")
    expect(page.locator("[data-offline-status]")).to_contain_text("You are offline.")
    expect(summary).to_have_text("Waiting to sync (2)")
    # A page with no copy on the phone answers with the offline page.
    page.goto("/reports/")
    expect(page.locator("[data-testid=offline-page]")).to_contain_text("You are offline")
    expect(summary).to_have_text("Waiting to sync (2)")
    page.get_by_role("link", name="Open my day").click()
    expect(page.locator("h1")).to_contain_text("Good day, Wei")

    # Back online: the queue is sent, once.
    context.set_offline(False)
    expect(summary).to_have_text("Everything logged on this phone is sent.")
    expect(page.locator("[data-testid=offline-item][data-state=sent]")).to_have_count(2)
    call = Activity.objects.get(kind=ActivityKind.CALL)
    visit = Visit.objects.select_related("activity").get()
    assert call.customer_id == follow_up.pk
    assert call.next_follow_up_on == timezone.localdate() + timedelta(days=1)
    assert (visit.customer_id, visit.activity.kind) == (planned.pk, ActivityKind.VISIT)
    assert visit.check_in_latitude is not None
    assert Activity.objects.count() == 2
    assert page.evaluate(OUTBOX) == []

    # A resend of a queued request (same key) gets the stored first answer, and writes nothing.
    for entry, row_id in zip(queued, [call.pk, visit.pk], strict=True):
        resent = page.evaluate(RESEND, entry)
        assert (resent["status"], resent["body"]["id"], resent["replayed"]) == (201, row_id, "true")
    assert (Activity.objects.count(), Visit.objects.count()) == (2, 1)

    assert page.page_errors == []
    assert csp_violations(page) == []


def test_a_refused_entry_shows_the_servers_message_and_logout_clears_the_copies(phone, field_day):
    page = phone
    login(page, "sales_east1", PASSWORD)
    wait_until_controlled(page)
    wait_for_kept(page, "/", "/offline/log-form/")
    page.context.set_offline(True)

    # A call saved offline without its next follow-up date: the phone takes it...
    row = page.locator(
        "[data-testid=block-follow-ups] [data-testid=myday-row]", has_text="Harbor Point Logistics"
    )
    row.locator("[data-testid=log-call]").click()
    row.locator("[data-testid=log-submit]").click()
    summary = page.locator("[data-testid=offline-summary]")
    expect(summary).to_have_text("Waiting to sync (1)")

    # ... the server refuses it: failed, with its message on the field at fault.
    page.context.set_offline(False)
    expect(summary).to_have_text("1 failed")
    item = page.locator("[data-testid=offline-item]")
    expect(item).to_have_attribute("data-state", "failed")
    expect(item.locator("[data-testid=offline-error]")).to_have_text(
        "next_follow_up_on: Agree the next contact: every call needs a next follow-up date."
    )
    assert not Activity.objects.exists()

    # Retry sends it again (refused again); discard drops it.
    item.get_by_role("button", name="Retry").click()
    expect(item).to_have_attribute("data-state", "failed")
    page.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="Discard").click()
    expect(page.locator("[data-testid=offline-panel]")).to_be_hidden()
    assert page.evaluate(OUTBOX) == []

    # Logging out clears the pages kept on the phone (the login page's styles may come back).
    asked = []  # logging out never asks "leave the page?"
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.locator(".navbar-toggler").click()
    page.locator("[data-testid=user-menu]").click()
    page.locator("[data-testid=logout]").click()
    try:
        page.wait_for_url(re.compile(r"/accounts/login/"))
    except PlaywrightError as error:
        raise AssertionError(f"logout stayed on {page.url}; dialogs: {asked}") from error
    assert asked == []
    assert [url for url in page.evaluate(KEPT_PAGES) if not url.startswith("/static/")] == []
    assert page.page_errors == []
    assert csp_violations(page) == []


def lose_the_answer(route):
    """The request reaches the server, which saves it; the answer never reaches the phone."""
    route.fetch()
    route.abort("internetdisconnected")


@pytest.mark.parametrize("phone", ["block"], indirect=True)
def test_an_inline_log_whose_answer_was_lost_is_resent_and_saved_once(phone, field_day):
    page = phone
    login(page, "sales_east1", PASSWORD)
    page.route(
        re.compile(r"/activities/customers/\d+/log/$"),
        lambda route: lose_the_answer(route) if route.request.method == "POST" else route.continue_(),
    )

    row = page.locator(
        "[data-testid=block-follow-ups] [data-testid=myday-row]", has_text="Harbor Point Logistics"
    )
    row.locator("[data-testid=log-call]").click()
    row.get_by_role("button", name="Tomorrow", exact=True).click()
    row.locator("[data-testid=log-submit]").click()

    # htmx saw a network error: the form went to the queue with its key, and was sent
    # at once; the server answered with the call it had already saved.
    expect(row.locator("[data-testid=offline-queued]")).to_have_text("Saved on this phone, and now sent.")
    expect(page.locator("[data-testid=offline-summary]")).to_have_text(
        "Everything logged on this phone is sent."
    )
    assert Activity.objects.filter(kind=ActivityKind.CALL).count() == 1
    assert page.evaluate(OUTBOX) == []
    assert page.page_errors == []


@pytest.mark.parametrize("phone", ["block"], indirect=True)
def test_a_full_page_log_whose_answer_was_lost_is_saved_once(phone, field_day):
    page = phone
    follow_up = field_day["follow_up"]
    login(page, "sales_east1", PASSWORD)
    page.goto(f"/activities/customers/{follow_up.pk}/log/?kind=call")
    page.locator("[data-testid=log-form]").get_by_role("button", name="Tomorrow", exact=True).click()
    page.route(
        re.compile(r"/activities/customers/\d+/log/$"),
        lambda route: lose_the_answer(route) if route.request.method == "POST" else route.continue_(),
    )
    # The browser shows its own error page.
    with contextlib.suppress(PlaywrightError), page.expect_navigation():
        page.locator("[data-testid=log-submit]").click()
    assert Activity.objects.count() == 1

    # The next page sends the copy the phone kept of that post: the same key, no second call.
    page.unroute(re.compile(r"/activities/customers/\d+/log/$"))
    page.goto("/")
    expect(page.locator("h1")).to_contain_text("Good day")
    for _ in range(50):
        if page.evaluate(OUTBOX) == []:
            break
        page.wait_for_timeout(100)
    assert page.evaluate(OUTBOX) == []
    assert Activity.objects.count() == 1
    expect(page.locator("[data-testid=offline-panel]")).to_be_hidden()

"""A field day on a phone (外勤签到): from "my day", check in on a planned visit with the
phone's location, check out, and see the plan item done; with the location permission
denied the check-in is still saved, as "no location"; a check-in 2 km from the customer's
known location is flagged. At 390×844, touch, no page wider than the phone."""

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from activities import services
from activities.models import (
    CustomerLocation,
    LocationSource,
    LocationStatus,
    PlanItem,
    PlanItemKind,
    Purpose,
    Visit,
)
from activities.tests.factories import ensure_default_catalog
from crm.models import KeyPersonRole
from crm.tests.factories import ContactFactory, CustomerFactory, TeamFactory, UserFactory
from funnel.tests.factories import grade

from .conftest import PHONE, csp_violations, login

PASSWORD = "correct-horse-battery"
# The customers' doors; a phone 111 m north of Harbor Point, and one 2 km north of Jade River.
HARBOR = (Decimal("31.230000"), Decimal("121.470000"))
JADE = (Decimal("31.100000"), Decimal("121.300000"))
NEAR_HARBOR = {"latitude": 31.231, "longitude": 121.47, "accuracy": 20}
FAR_FROM_JADE = {"latitude": 31.117986, "longitude": 121.3, "accuracy": 20}

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def field_day(transactional_db):
    ensure_default_catalog()
    salesperson = UserFactory(
        username="sales_east1", first_name="Wei", last_name="Zhang", team=TeamFactory(name="East")
    )
    harbor = CustomerFactory(
        owner=salesperson, name="Harbor Point Logistics", grade=grade("C"), address="88 Harbour Rd, Shanghai"
    )
    ContactFactory(
        customer=harbor, name="Lin Mei", role=KeyPersonRole.DECISION_MAKER, phone="+86 138 0013 8000"
    )
    jade = CustomerFactory(owner=salesperson, name="Jade River Trading", grade=grade("D"))
    for customer, (latitude, longitude) in ((harbor, HARBOR), (jade, JADE)):
        CustomerLocation.objects.create(
            customer=customer,
            latitude=latitude,
            longitude=longitude,
            source=LocationSource.MANUAL,
            set_by=salesperson,
        )
    plan = services.open_plan(by=salesperson, day=timezone.localdate())
    item = services.add_plan_item(
        plan=plan, by=salesperson, customer=harbor, purpose=Purpose.SERVICE, kind=PlanItemKind.VISIT
    )
    return SimpleNamespace(salesperson=salesperson, harbor=harbor, jade=jade, item=item)


@pytest.fixture
def phone(phone_page):
    """``phone(**context_options)`` → a page in a new 390×844 touch context, English."""
    return phone_page


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def test_check_in_and_out_with_the_phones_location_ticks_the_planned_visit(phone, field_day):
    page = phone(geolocation=NEAR_HARBOR, permissions=["geolocation"])
    login(page, "sales_east1", PASSWORD)

    # My day: the planned visit offers "Check in".
    row = page.locator("[data-testid=block-plan] [data-testid=myday-row]", has_text="Harbor Point Logistics")
    row.locator("[data-testid=check-in]").tap()

    # The check-in page locates the phone at once and has the plan item chosen.
    expect(page.locator("[data-testid=geo-state]")).to_have_text("Located ±20 m")
    expect(page.locator("select[name=plan_item]")).to_have_value(str(field_day.item.pk))
    _fits(page)
    page.locator("[data-testid=check-in-submit]").tap()
    expect(page.locator(".alert-success")).to_contain_text("Checked in at Harbor Point Logistics at")

    visit = Visit.objects.get()
    at = timezone.localtime(visit.checked_in_at).strftime("%H:%M")
    expect(page.locator(".alert-success")).to_contain_text(
        f"Checked in at Harbor Point Logistics at {at} — 111 m from the customer"
    )
    expect(page.locator("[data-testid=distance]")).to_contain_text("111 m")
    expect(page.locator("[data-testid=far-flag]")).to_have_count(0)
    _fits(page)

    # Check out, with the outcome; the visit's duration shows.
    expect(page.locator("[data-testid=check-out-form] [data-testid=geo-state]")).to_have_text("Located ±20 m")
    page.locator("textarea[name=outcome]").fill("Agreed on a trial order of 20 pallets.")
    page.locator("[data-testid=check-out-submit]").tap()
    expect(page.locator(".alert-success")).to_contain_text("Checked out at")
    expect(page.locator("[data-testid=duration]")).to_contain_text("minute")

    visit.refresh_from_db()
    assert (visit.check_in_status, visit.distance_m, visit.far_from_customer) == (
        LocationStatus.FIXED,
        111,
        False,
    )
    assert (visit.check_in_latitude, visit.check_in_accuracy_m) == (Decimal("31.231000"), 20)
    assert visit.check_out_status == LocationStatus.FIXED and visit.duration_minutes >= 1
    assert visit.plan_item_id == field_day.item.pk and visit.activity.outcome.startswith("Agreed")

    # Back on my day: the planned visit is done, checked in at that time.
    page.goto("/")
    row = page.locator("[data-testid=block-plan] [data-testid=myday-row]", has_text="Harbor Point Logistics")
    expect(row).to_contain_text("done")
    expect(row.locator("[data-testid=checked-in]")).to_have_text(f"Checked in {at}")
    assert PlanItem.objects.get(pk=field_day.item.pk).done
    assert not csp_violations(page)


def test_without_the_location_permission_the_check_in_is_saved_as_no_location(phone, field_day):
    page = phone()  # no permission granted: the browser refuses the position
    login(page, "sales_east1", PASSWORD)
    page.goto(f"/customers/{field_day.jade.pk}/check-in/")

    expect(page.locator("[data-testid=geo-state]")).to_have_text(
        "No location: permission denied — you can still check in"
    )
    page.locator("[data-testid=check-in-submit]").tap()

    expect(page.locator(".alert-success")).to_contain_text("Jade River Trading")
    expect(page.locator(".alert-success")).to_contain_text("— no location")
    expect(page.locator("[data-testid=checked-in] [data-testid=location-status]")).to_have_text(
        "no location: permission denied"
    )
    visit = Visit.objects.get()
    assert (visit.check_in_status, visit.check_in_latitude, visit.distance_m) == (
        LocationStatus.DENIED,
        None,
        None,
    )
    assert not csp_violations(page)


def test_a_check_in_two_km_from_the_customer_is_flagged(phone, field_day):
    page = phone(geolocation=FAR_FROM_JADE, permissions=["geolocation"])
    login(page, "sales_east1", PASSWORD)

    # From the customer page's action bar, at the thumb.
    page.goto(f"/customers/{field_day.jade.pk}/")
    bar = page.locator("[data-testid=action-bar]")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    box = bar.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"] + 1 and box["height"] >= 44
    _fits(page)
    bar.locator("[data-testid=action-check-in]").tap()
    expect(page.locator("[data-testid=geo-state]")).to_have_text("Located ±20 m")
    page.locator("[data-testid=check-in-submit]").tap()

    expect(page.locator("[data-testid=far-flag]")).to_have_text("far from the customer")
    expect(page.locator("[data-testid=distance]")).to_contain_text("2000 m")
    visit = Visit.objects.get()
    assert (visit.distance_m, visit.far_from_customer) == (2000, True)

    # The customer page now offers "Check out" for the open visit, and lists the flagged check-in.
    page.goto(f"/customers/{field_day.jade.pk}/")
    expect(page.locator("[data-testid=action-check-out]")).to_be_visible()
    expect(page.locator("[data-testid=recent-check-ins]")).to_contain_text("far from the customer")
    assert timezone.localdate() - timedelta(days=0) == timezone.localdate(visit.checked_in_at)
    assert not csp_violations(page)

"""公海: claim with caps, release with a reason, idle customers returned by the daily sweep
(never from a locked grade) with a warning first; the pool list and its limited detail."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from core.models import Grade
from crm import services as crm_services
from crm.models import Customer, Notification
from funnel import tasks
from funnel.models import (
    CloseReason,
    HandoverStatus,
    HandoverTask,
    PoolReturnWarning,
    Reassignment,
    ReassignmentKind,
    StagnationAlert,
)
from funnel.services import (
    ReassignConflict,
    claim_customer,
    reassign_customer,
    release_customer,
    return_idle_customers,
    scan_stagnation,
)
from funnel.tests.builders import customer_at, funnel_settings

NOW = timezone.make_aware(datetime(2025, 6, 11, 9, 0))
TODAY = NOW.date()


@pytest.fixture
def pooled(personas):
    return customer_at(
        "E", None, by=personas.admin, name="Free Prospect", region="Shanghai", industry="Steel"
    )


# --- Claiming ------------------------------------------------------------------------------------


def test_a_salesperson_claims_a_pool_customer(personas, pooled):
    record = claim_customer(customer=pooled, by=personas.salesperson)

    pooled.refresh_from_db()
    assert pooled.owner == personas.salesperson
    assert (record.kind, record.from_owner, record.to_owner) == (
        ReassignmentKind.CLAIM,
        None,
        personas.salesperson,
    )
    assert pooled.history.latest().owner_id == personas.salesperson.pk
    assert not HandoverTask.objects.exists()


def test_a_customer_that_left_the_pool_cannot_be_claimed(personas, pooled):
    claim_customer(customer=pooled, by=personas.teammate)

    with pytest.raises(ReassignConflict):
        claim_customer(customer=pooled, by=personas.salesperson)
    assert Reassignment.objects.count() == 1


def test_admins_assign_instead_of_claiming(personas, pooled):
    with pytest.raises(PermissionDenied):
        claim_customer(customer=pooled, by=personas.admin)


def test_the_cap_of_open_customers_per_salesperson(personas):
    funnel_settings(max_customers_per_salesperson=2, claims_per_day=None)
    customer_at("E", personas.salesperson)
    customer_at("WON", personas.salesperson)  # won customers do not count
    first, second = (customer_at("E", None, by=personas.admin) for _ in range(2))

    claim_customer(customer=first, by=personas.salesperson)
    with pytest.raises(ValidationError) as refused:
        claim_customer(customer=second, by=personas.salesperson)

    assert "You already own 2 open customers" in refused.value.messages[0]


def test_the_claims_per_day_cap_resets_the_next_day(personas):
    funnel_settings(claims_per_day=2, max_customers_per_salesperson=None)
    pool = [customer_at("E", None, by=personas.admin, now=NOW) for _ in range(3)]

    with time_machine.travel(NOW, tick=False):
        claim_customer(customer=pool[0], by=personas.salesperson)
        claim_customer(customer=pool[1], by=personas.salesperson)
        with pytest.raises(ValidationError) as refused:
            claim_customer(customer=pool[2], by=personas.salesperson)
        claim_customer(customer=pool[2], by=personas.teammate)  # the cap is per person
    assert "daily limit" in refused.value.messages[0]

    extra = customer_at("E", None, by=personas.admin, now=NOW)
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        claim_customer(customer=extra, by=personas.salesperson)


def test_a_previous_owner_waits_before_claiming_back(personas):
    funnel_settings(reclaim_wait_days=30)
    customer = customer_at("D", personas.salesperson, now=NOW - timedelta(days=1))
    with time_machine.travel(NOW, tick=False):
        release_customer(customer=customer, by=personas.salesperson, reason="No budget")
    with time_machine.travel(NOW + timedelta(days=29), tick=False), pytest.raises(ValidationError) as refused:
        claim_customer(customer=customer, by=personas.salesperson)
    assert "you may claim it back from" in refused.value.messages[0]

    with time_machine.travel(NOW + timedelta(days=31), tick=False):
        claim_customer(customer=customer, by=personas.salesperson)


# --- Releasing -------------------------------------------------------------------------------------


def test_release_needs_a_reason_and_never_leaves_a_locked_grade(personas):
    customer = customer_at("D", personas.salesperson)
    locked = customer_at("B", personas.salesperson)

    with pytest.raises(ValidationError):
        release_customer(customer=customer, by=personas.salesperson, reason=" ")
    with pytest.raises(ValidationError) as refused:
        release_customer(customer=locked, by=personas.salesperson, reason="Lost interest")
    with pytest.raises(PermissionDenied):
        release_customer(customer=customer, by=personas.teammate, reason="Not mine")
    assert "locked grade B" in refused.value.messages[0]


def test_a_manager_releases_and_the_owner_is_told(personas):
    customer = customer_at("D", personas.salesperson)

    record = release_customer(customer=customer, by=personas.manager, reason="Out of our territory")

    customer.refresh_from_db()
    assert customer.owner is None
    assert (record.kind, record.from_owner, record.reason) == (
        ReassignmentKind.RELEASE,
        personas.salesperson,
        "Out of our territory",
    )
    assert Notification.objects.filter(recipient=personas.salesperson, kind="pool").exists()


# --- The daily return sweep ------------------------------------------------------------------------


@pytest.fixture
def d_returns_after_45(db):
    Grade.objects.filter(code="D").update(pool_return_days=45)
    Grade.objects.filter(code="B").update(pool_return_days=30, locked=True)


def test_idle_customers_go_back_to_the_pool_and_locked_ones_stay(personas, d_returns_after_45):
    idle = customer_at("D", personas.salesperson, days_ago=46, now=NOW, name="Idle Ltd")
    active = customer_at("D", personas.salesperson, days_ago=60, now=NOW, name="Active Ltd")
    Customer.objects.filter(pk=active.pk).update(last_activity_at=NOW - timedelta(days=10))
    locked = customer_at("B", personas.salesperson, days_ago=90, now=NOW, name="Quoting Ltd")
    fresh_owner = customer_at("D", personas.teammate, days_ago=90, now=NOW, name="Handed Ltd")
    with time_machine.travel(NOW - timedelta(days=2), tick=False):
        reassign_customer(
            customer=fresh_owner, new_owner=personas.salesperson, by=personas.manager, reason="x"
        )

    with time_machine.travel(NOW, tick=False):
        result = return_idle_customers(on=TODAY)
        again = return_idle_customers(on=TODAY)

    assert (result.returned, again.returned) == (1, 0)
    assert set(Customer.objects.in_pool().values_list("name", flat=True)) == {"Idle Ltd"}
    record = Reassignment.objects.get(customer=idle, kind=ReassignmentKind.POOL_RETURN)
    assert (record.from_owner, record.to_owner, record.by) == (personas.salesperson, None, None)
    assert Notification.objects.filter(recipient=personas.salesperson, kind="pool").count() == 1
    locked.refresh_from_db()
    assert locked.owner == personas.salesperson


def test_owners_are_warned_once_a_few_days_before(personas, d_returns_after_45):
    funnel_settings(pool_warning_days=3)
    soon = customer_at("D", personas.salesperson, days_ago=43, now=NOW, name="Soon Ltd")
    customer_at("D", personas.salesperson, days_ago=30, now=NOW, name="Later Ltd")

    with time_machine.travel(NOW, tick=False):
        first = return_idle_customers(on=TODAY)
        second = return_idle_customers(on=TODAY)

    assert (first.warned, second.warned, first.returned) == (1, 0, 0)
    warning = PoolReturnWarning.objects.get()
    assert (warning.customer, warning.owner) == (soon, personas.salesperson)
    assert timezone.localtime(warning.due_at).date() == TODAY + timedelta(days=2)
    told = Notification.objects.get(kind="pool_warning")
    assert told.recipient == personas.salesperson and "Soon Ltd" in told.body


def test_a_return_closes_the_alert_and_cancels_the_handover(personas, d_returns_after_45):
    Grade.objects.filter(code="D").update(stagnation_days=14)
    customer = customer_at("D", personas.teammate, days_ago=100, now=NOW)
    with time_machine.travel(NOW - timedelta(days=50), tick=False):
        reassign_customer(customer=customer, new_owner=personas.salesperson, by=personas.manager, reason="x")
    with time_machine.travel(NOW, tick=False):
        scan_stagnation(on=TODAY)
        tasks.return_idle_customers.delay(on=TODAY.isoformat())

    assert StagnationAlert.objects.get().close_reason == CloseReason.POOL
    assert HandoverTask.objects.get().status == HandoverStatus.CANCELLED


# --- Pages and API ------------------------------------------------------------------------------------


def test_the_pool_list_filters_by_grade_tier_region_and_search(personas, client_as, pooled):
    customer_at("D", None, by=personas.admin, name="Other Prospect", region="Beijing")
    customer_at("D", personas.salesperson, name="Owned Ltd")
    client = client_as("salesperson")

    everything = client.get(reverse("funnel:pool-list")).content.decode()
    shanghai = client.get(reverse("funnel:pool-list"), {"region": "shang"}).content.decode()
    steel = client.get(reverse("funnel:pool-list"), {"search": "steel"}).content.decode()
    at_d = client.get(reverse("funnel:pool-list"), {"grade": Grade.objects.get(code="D").pk}).content.decode()

    assert "Free Prospect" in everything and "Other Prospect" in everything and "Owned Ltd" not in everything
    assert "Free Prospect" in shanghai and "Other Prospect" not in shanghai
    assert "Free Prospect" in steel and "Other Prospect" not in steel
    assert "Free Prospect" not in at_d and "Other Prospect" in at_d


def test_a_salesperson_opens_the_limited_pool_page_not_the_customer_page(personas, client_as, pooled):
    crm_services.create_contact(customer=pooled, by=personas.admin, name="Ms Secret", phone="13800000000")
    client = client_as("salesperson")

    pool_page = client.get(reverse("funnel:pool-detail", args=[pooled.pk]))
    customer_page = client.get(reverse("crm:customer-detail", args=[pooled.pk]))

    assert pool_page.status_code == 200
    assert "Free Prospect" in pool_page.content.decode() and "13800000000" not in pool_page.content.decode()
    assert customer_page.status_code == 404


def test_claiming_from_the_list_swaps_the_row_with_htmx_and_redirects_without(personas, client_as, pooled):
    other = customer_at("E", None, by=personas.admin, name="Second Prospect")
    client = client_as("salesperson")

    swapped = client.post(reverse("funnel:pool-claim", args=[pooled.pk]), HTTP_HX_REQUEST="true")
    plain = client.post(reverse("funnel:pool-claim", args=[other.pk]))
    gone = client.post(reverse("funnel:pool-claim", args=[pooled.pk]), HTTP_HX_REQUEST="true")

    assert swapped.status_code == 200 and "Claimed" in swapped.content.decode()
    assert plain.status_code == 302 and plain["Location"] == reverse("crm:customer-detail", args=[other.pk])
    assert "no longer in the pool" in gone.content.decode()


def test_the_api_claims_releases_and_lists_the_pool(personas, client_as, pooled):
    client = client_as("salesperson")

    listing = client.get(reverse("pool-list"))
    claimed = client.post(reverse("customer-claim", args=[pooled.pk]))
    again = client_as("teammate").post(reverse("customer-claim", args=[pooled.pk]))
    released = client.post(
        reverse("customer-release", args=[pooled.pk]),
        {"reason": "Wrong region"},
        content_type="application/json",
    )

    assert [row["name"] for row in listing.json()["results"]] == ["Free Prospect"]
    assert "phone" not in listing.json()["results"][0]
    assert claimed.status_code == 200 and claimed.json()["kind"] == "claim"
    assert again.status_code == 404
    assert released.status_code == 200 and released.json()["kind"] == "release"

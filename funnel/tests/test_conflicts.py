"""撞单: a salesperson refused a customer a colleague owns raises a claim with evidence; a
manager over both settles it (keep, transfer, share); both are told."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from crm.models import Customer, Notification
from funnel import selectors
from funnel.models import ConflictStatus, HandoverTask, Reassignment
from funnel.services import (
    apply_departure,
    raise_conflict,
    reassign_customer,
    release_customer,
    settle_conflict,
)
from funnel.tests.builders import customer_at


@pytest.fixture
def held(personas):
    """Registered by salesperson 20 days ago, phone 021-5555 0000."""
    return customer_at(
        "D", personas.salesperson, days_ago=20, name="Shanghai Steel Co., Ltd.", phone="021-5555 0000"
    )


@pytest.fixture
def claim(personas, held):
    return raise_conflict(
        by=personas.teammate,
        name="SHANGHAI STEEL",
        first_contact_on=date(2025, 1, 6),
        evidence="Met their buyer at the January fair; sent a quote on 10 Jan.",
    )


def test_a_claim_finds_the_customer_by_the_duplicate_check_and_tells_the_managers(personas, held, claim):
    assert (claim.customer, claim.claimant, claim.holder, claim.claimed_as) == (
        held,
        personas.teammate,
        personas.salesperson,
        "SHANGHAI STEEL",
    )
    assert claim.status == ConflictStatus.OPEN
    assert list(
        Notification.objects.filter(kind="conflict").values_list("recipient__username", flat=True)
    ) == ["manager"]


def test_claims_are_refused_with_a_reason(personas, held, claim):
    pooled = customer_at("E", None, by=personas.admin, name="Pool Co")
    cases = [
        (personas.teammate, {"name": "Unknown Newco"}, "No existing customer matches"),
        (personas.teammate, {"name": "Pool Co"}, "public pool"),
        (personas.salesperson, {"name": "Shanghai Steel"}, "already own"),
        (personas.teammate, {"phone": "(021) 5555-0000"}, "already raised a conflict"),
        (personas.admin, {"name": "Shanghai Steel"}, None),
    ]
    for by, identity, message in cases:
        with pytest.raises((ValidationError, PermissionDenied)) as refused:
            raise_conflict(by=by, first_contact_on=date(2025, 1, 6), evidence="Evidence", **identity)
        if message:
            assert message in " ".join(refused.value.messages), identity
    with pytest.raises(ValidationError) as future:
        raise_conflict(
            by=personas.teammate,
            name="Shanghai Steel",
            evidence="x",
            first_contact_on=timezone.localdate() + timedelta(days=1),
        )
    assert "first_contact_on" in future.value.message_dict
    assert pooled.owner is None


def test_keep_leaves_the_owner_and_tells_both(personas, claim):
    settled = settle_conflict(conflict=claim, by=personas.manager, outcome="kept", note="Registered first")

    assert (settled.status, settled.settled_by) == (ConflictStatus.KEPT, personas.manager)
    told = Notification.objects.filter(kind="conflict", title__contains="settled")
    assert set(told.values_list("recipient__username", flat=True)) == {"salesperson", "teammate"}
    with pytest.raises(ValidationError):
        settle_conflict(conflict=claim, by=personas.manager, outcome="transferred")


def test_transfer_reassigns_to_the_claimant_with_handover_tasks(personas, held, claim):
    settle_conflict(conflict=claim, by=personas.manager, outcome="transferred")

    held.refresh_from_db()
    assert held.owner == personas.teammate
    record = Reassignment.objects.get()
    assert (record.kind, record.from_owner, record.to_owner) == (
        "conflict",
        personas.salesperson,
        personas.teammate,
    )
    assert HandoverTask.objects.filter(owner=personas.teammate, customer=held).exists()


def test_transfer_respects_the_lock_unless_an_admin_forces(personas):
    locked = customer_at("B", personas.salesperson, name="Locked Deal")
    conflict = raise_conflict(
        by=personas.teammate,
        name="Locked Deal",
        first_contact_on=date(2025, 1, 6),
        evidence="First visit in January",
    )

    with pytest.raises(ValidationError):
        settle_conflict(conflict=conflict, by=personas.manager, outcome="transferred")
    with pytest.raises(ValidationError):
        settle_conflict(conflict=conflict, by=personas.admin, outcome="transferred", force=True)
    settle_conflict(
        conflict=conflict,
        by=personas.admin,
        outcome="transferred",
        force=True,
        note="Teammate's evidence predates the registration",
    )

    locked.refresh_from_db()
    assert locked.owner == personas.teammate


def test_share_adds_the_claimants_information_as_a_note(personas, held, claim):
    settle_conflict(conflict=claim, by=personas.manager, outcome="shared")

    held.refresh_from_db()
    assert held.owner == personas.salesperson
    assert "Met their buyer at the January fair" in held.notes


def test_a_cross_team_conflict_is_settled_by_an_admin(personas, held):
    conflict = raise_conflict(
        by=personas.other_salesperson,
        name="Shanghai Steel",
        first_contact_on=date(2025, 1, 6),
        evidence="Cold call in January",
    )

    for manager in (personas.manager, personas.other_manager):
        with pytest.raises(PermissionDenied):
            settle_conflict(conflict=conflict, by=manager, outcome="kept")
    assert settle_conflict(conflict=conflict, by=personas.admin, outcome="kept").status == "kept"


def test_an_open_claim_follows_its_customer_to_a_new_owner(personas, held, claim):
    reassign_customer(
        customer=held, new_owner=personas.sub_salesperson, by=personas.manager, reason="Territory change"
    )
    claim.refresh_from_db()
    assert (claim.status, claim.holder) == (ConflictStatus.OPEN, personas.sub_salesperson)

    settle_conflict(conflict=claim, by=personas.manager, outcome="transferred")
    held.refresh_from_db()
    assert held.owner == personas.teammate


def test_a_claim_is_settled_when_its_customer_goes_to_the_claimant_closed_in_the_pool(personas, held, claim):
    second = raise_conflict(
        by=personas.sub_salesperson,
        name="Shanghai Steel",
        first_contact_on=date(2025, 2, 3),
        evidence="Trade fair in February",
    )
    reassign_customer(
        customer=held, new_owner=personas.teammate, by=personas.manager, reason="Agreed in the weekly meeting"
    )
    claim.refresh_from_db()
    second.refresh_from_db()
    assert (claim.status, claim.settled_by, claim.settlement_note) == (
        ConflictStatus.TRANSFERRED,
        personas.manager,
        "The customer was reassigned to the claimant.",
    )
    assert (second.status, second.holder) == (ConflictStatus.OPEN, personas.teammate)

    release_customer(customer=held, by=personas.teammate, reason="Not our segment")
    second.refresh_from_db()
    assert (second.status, second.settled_by, second.settlement_note) == (
        ConflictStatus.CLOSED,
        personas.teammate,
        "The customer went to the public pool: claim it there.",
    )


def test_a_departure_closes_the_leavers_claims_and_hands_over_those_against_them(personas, held, claim):
    apply_departure(
        leaver=personas.salesperson, assignments={held.pk: personas.sub_salesperson}, by=personas.manager
    )
    claim.refresh_from_db()
    assert (claim.status, claim.holder) == (ConflictStatus.OPEN, personas.sub_salesperson)

    apply_departure(leaver=personas.teammate, assignments={}, by=personas.manager)
    claim.refresh_from_db()
    assert (claim.status, claim.settled_by) == (ConflictStatus.CLOSED, personas.manager)
    assert claim.settlement_note == f"{personas.teammate.display_name} left the company."


def test_the_default_rule_earlier_registration_with_recent_activity_wins(personas, held, claim):
    now = timezone.now()
    # The holder registered 20 days ago, after the claimant's first contact in January 2025.
    early = selectors.conflict_suggestion(claim, recent_days=30, now=now)
    claim.first_contact_on = timezone.localdate() - timedelta(days=1)
    later_inactive = selectors.conflict_suggestion(claim, recent_days=30, now=now)
    Customer.objects.filter(pk=held.pk).update(last_activity_at=now - timedelta(days=2))
    claim.customer.refresh_from_db()
    later_active = selectors.conflict_suggestion(claim, recent_days=30, now=now)

    assert [s["outcome"] for s in (early, later_inactive, later_active)] == [
        "transferred",
        "transferred",
        "kept",
    ]


def test_the_pages_raise_show_and_settle(personas, client_as, held):
    teammate = client_as("teammate")
    form = teammate.get(reverse("funnel:conflict-create"), {"name": "Shanghai Steel"})
    raised = teammate.post(
        reverse("funnel:conflict-create"),
        {"name": "Shanghai Steel", "first_contact_on": "2025-01-06", "evidence": "Fair in January"},
    )
    conflict_url = raised["Location"]
    claimant_view = teammate.get(conflict_url).content.decode()
    manager_view = client_as("manager").get(conflict_url).content.decode()
    settled = client_as("manager").post(conflict_url, {"outcome": "kept", "note": "Registered first"})

    assert 'value="Shanghai Steel"' in form.content.decode()
    assert raised.status_code == 302
    assert "Fair in January" in claimant_view and "Settle the conflict" not in claimant_view
    assert reverse("crm:customer-detail", args=[held.pk]) not in claimant_view  # they cannot see the customer
    assert "Default rule" in manager_view and "Settle the conflict" in manager_view
    assert settled.status_code == 302
    assert client_as("salesperson").post(conflict_url, {"outcome": "kept"}).status_code == 403


def test_the_api_raises_lists_and_settles(personas, client_as, held):
    raised = client_as("teammate").post(
        reverse("conflict-list"),
        {"phone": "021 5555 0000", "first_contact_on": "2025-01-06", "evidence": "Fair"},
        content_type="application/json",
    )
    conflict_id = raised.json()["id"]
    settled = client_as("manager").post(
        reverse("conflict-settle", args=[conflict_id]),
        {"outcome": "transferred"},
        content_type="application/json",
    )

    assert raised.status_code == 201 and raised.json()["customer"] is None  # not visible to the claimant
    assert client_as("salesperson").get(reverse("conflict-list")).json()["count"] == 1
    assert client_as("other_salesperson").get(reverse("conflict-list")).json()["count"] == 0
    assert settled.status_code == 200 and settled.json()["status"] == "transferred"
    assert settled.json()["customer"] == held.pk

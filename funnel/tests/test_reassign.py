"""改派: managers within their tree, admins anywhere; locked grades refused unless an admin
forces with a reason; history, timeline, handover tasks; stale owners are conflicts."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from core.models import SecurityAction, SecurityEvent
from crm.models import Customer, Notification
from funnel.models import HandoverStatus, HandoverTask, Reassignment, ReassignmentKind
from funnel.services import ReassignConflict, reassign, reassign_customer
from funnel.tests.builders import customer_at


@pytest.fixture
def at_b(personas):
    return customer_at("B", personas.salesperson, name="Quoting Corp")


@pytest.fixture
def at_d(personas):
    return customer_at("D", personas.salesperson, name="Contacted Ltd")


def test_a_manager_is_refused_a_customer_at_the_locked_grade_with_a_clear_message(personas, at_b):
    with pytest.raises(ValidationError) as refused:
        reassign_customer(customer=at_b, new_owner=personas.teammate, by=personas.manager, reason="Balance")

    assert "Quoting Corp is at the locked grade B" in refused.value.messages[0]
    assert "An admin may force" in refused.value.messages[0]
    at_b.refresh_from_db()
    assert at_b.owner == personas.salesperson
    assert not Reassignment.objects.exists()


def test_a_reassignment_goes_to_the_security_audit_log(personas, at_d):
    reassign_customer(customer=at_d, new_owner=personas.teammate, by=personas.manager, reason="Balance")

    event = SecurityEvent.objects.get(action=SecurityAction.REASSIGN)
    assert (event.actor, event.object_id) == (personas.manager, str(at_d.pk))
    assert (event.detail["to"], event.detail["customers"]) == (personas.teammate.pk, [at_d.pk])


def test_a_manager_may_not_force(personas, at_b):
    with pytest.raises(PermissionDenied):
        reassign_customer(
            customer=at_b, new_owner=personas.teammate, by=personas.manager, reason="x", force=True
        )


def test_an_admin_forces_with_a_reason_and_it_is_recorded_with_handover_tasks(personas, at_b):
    with pytest.raises(ValidationError):
        reassign_customer(
            customer=at_b, new_owner=personas.teammate, by=personas.admin, reason="  ", force=True
        )

    record = reassign_customer(
        customer=at_b,
        new_owner=personas.teammate,
        by=personas.admin,
        force=True,
        reason="Salesperson on long leave; the quote is due this week",
    )

    at_b.refresh_from_db()
    assert at_b.owner == personas.teammate
    assert (record.from_owner, record.to_owner, record.by, record.forced) == (
        personas.salesperson,
        personas.teammate,
        personas.admin,
        True,
    )
    assert record.reason == "Salesperson on long leave; the quote is due this week"
    # B's template: an on-site visit by the new owner within 3 days.
    task = HandoverTask.objects.get()
    assert (task.owner, task.kind, task.status) == (personas.teammate, "visit", HandoverStatus.OPEN)
    assert task.due_on == timezone.localdate() + timedelta(days=3)
    # The field history records who moved it and why.
    latest = at_b.history.latest()
    assert (latest.owner_id, latest.history_user) == (personas.teammate.pk, personas.admin)


def test_the_timeline_shows_the_reassignment(personas, client_as, at_b):
    reassign_customer(
        customer=at_b, new_owner=personas.teammate, by=personas.admin, force=True, reason="Long leave"
    )

    page = client_as("admin").get(reverse("crm:customer-detail", args=[at_b.pk]))

    timeline = page.content.decode()
    assert "Reassigned:" in timeline and "forced past a locked grade" in timeline and "Long leave" in timeline


@pytest.mark.parametrize(
    ("code", "kind", "days"),
    [("A", "visit", 3), ("C", "phone", 5), ("D", "phone_or_email", 14), ("E", "phone_or_email", 14)],
)
def test_each_grade_creates_its_template_tasks(personas, code, kind, days):
    customer = customer_at(code, personas.salesperson)

    reassign_customer(customer=customer, new_owner=personas.teammate, by=personas.manager, reason="Balance")

    assert list(HandoverTask.objects.values_list("kind", "due_on", "owner")) == [
        (kind, timezone.localdate() + timedelta(days=days), personas.teammate.pk)
    ]


def test_a_manager_moves_only_within_their_tree(personas, at_d):
    with pytest.raises(PermissionDenied):
        reassign_customer(
            customer=at_d, new_owner=personas.other_salesperson, by=personas.manager, reason="x"
        )
    with pytest.raises(PermissionDenied):
        reassign_customer(customer=at_d, new_owner=personas.teammate, by=personas.other_manager, reason="x")

    record = reassign_customer(
        customer=at_d,
        new_owner=personas.sub_salesperson,
        by=personas.manager,
        reason="Sub-team takes the region",
    )
    assert record.to_owner == personas.sub_salesperson


def test_admins_move_across_teams(personas, at_d):
    record = reassign_customer(
        customer=at_d,
        new_owner=personas.other_salesperson,
        by=personas.admin,
        reason="Moved to the West territory",
    )
    assert record.to_owner == personas.other_salesperson


def test_a_reason_is_required_and_the_new_owner_must_be_active(personas, at_d):
    with pytest.raises(ValidationError):
        reassign_customer(customer=at_d, new_owner=personas.teammate, by=personas.manager, reason="")
    personas.teammate.is_active = False
    personas.teammate.save()
    with pytest.raises(ValidationError) as refused:
        reassign_customer(customer=at_d, new_owner=personas.teammate, by=personas.manager, reason="x")
    assert "active" in str(refused.value)


def test_an_owner_changed_since_the_caller_looked_is_a_conflict(personas, at_d):
    seen = Customer.objects.get(pk=at_d.pk)  # the second manager's page, loaded before the first move
    reassign_customer(customer=at_d, new_owner=personas.teammate, by=personas.manager, reason="First")

    with pytest.raises(ReassignConflict) as conflict:
        reassign_customer(
            customer=seen, new_owner=personas.sub_salesperson, by=personas.admin, reason="Second"
        )

    assert "moved by someone else meanwhile" in conflict.value.message
    assert Reassignment.objects.count() == 1


def test_bulk_moves_the_others_and_lists_the_refused(personas, at_b, at_d):
    other = customer_at("E", personas.teammate, name="Prospect Co")

    result = reassign(
        customers=[at_b, at_d, other],
        new_owner=personas.sub_salesperson,
        by=personas.manager,
        reason="New territory split",
    )

    assert sorted(r.customer.name for r in result.moved) == ["Contacted Ltd", "Prospect Co"]
    assert [(r.customer.name, r.code) for r in result.refused] == [("Quoting Corp", "locked")]
    assert set(Customer.objects.filter(owner=personas.sub_salesperson).values_list("name", flat=True)) == {
        "Contacted Ltd",
        "Prospect Co",
    }


def test_a_second_reassignment_cancels_the_previous_owners_open_tasks(personas, at_d):
    reassign_customer(customer=at_d, new_owner=personas.teammate, by=personas.manager, reason="One")
    at_d.refresh_from_db()
    reassign_customer(customer=at_d, new_owner=personas.sub_salesperson, by=personas.manager, reason="Two")

    assert sorted(HandoverTask.objects.values_list("owner__username", "status")) == [
        ("sub_salesperson", "open"),
        ("teammate", "cancelled"),
    ]


def test_the_new_and_the_old_owner_are_told(personas, at_d):
    reassign_customer(customer=at_d, new_owner=personas.teammate, by=personas.manager, reason="Balance")

    assert set(Notification.objects.values_list("recipient__username", "kind")) == {
        ("teammate", "reassignment"),
        ("salesperson", "reassignment"),
    }


# --- Pages ------------------------------------------------------------------------------------


def test_the_customer_page_offers_reassignment_to_managers_only(personas, client_as, at_d):
    url = reverse("crm:customer-detail", args=[at_d.pk])
    form_action = reverse("funnel:customer-reassign", args=[at_d.pk])

    assert form_action in client_as("manager").get(url).content.decode()
    assert form_action not in client_as("salesperson").get(url).content.decode()


def test_the_reassign_page_moves_the_customer(personas, client_as, at_d):
    response = client_as("manager").post(
        reverse("funnel:customer-reassign", args=[at_d.pk]),
        {
            "owner": personas.teammate.pk,
            "reason": "Balance the team",
            "expected_owner": personas.salesperson.pk,
        },
    )

    assert response.status_code == 302
    at_d.refresh_from_db()
    assert at_d.owner == personas.teammate


def test_the_reassign_page_answers_a_stale_owner_with_409(personas, client_as, at_d):
    reassign_customer(customer=at_d, new_owner=personas.teammate, by=personas.manager, reason="First")

    response = client_as("manager").post(
        reverse("funnel:customer-reassign", args=[at_d.pk]),
        {"owner": personas.sub_salesperson.pk, "reason": "Second", "expected_owner": personas.salesperson.pk},
    )

    assert response.status_code == 409
    assert "moved by someone else meanwhile" in response.content.decode()


def test_the_reassign_page_shows_the_lock_on_the_field_form(personas, client_as, at_b):
    response = client_as("manager").post(
        reverse("funnel:customer-reassign", args=[at_b.pk]),
        {"owner": personas.teammate.pk, "reason": "Balance", "expected_owner": personas.salesperson.pk},
    )

    assert response.status_code == 400
    assert "locked grade B" in response.content.decode()


def test_the_bulk_page_reports_moved_and_refused(personas, client_as, at_b, at_d):
    client = client_as("manager")
    page = client.get(reverse("funnel:bulk-reassign"), {"owner": personas.salesperson.pk})
    assert "Quoting Corp" in page.content.decode() and "Contacted Ltd" in page.content.decode()

    response = client.post(
        reverse("funnel:bulk-reassign"),
        {
            "customers": [at_b.pk, at_d.pk],
            "owner": personas.teammate.pk,
            "reason": "Split",
            f"seen_{at_b.pk}": personas.salesperson.pk,
            f"seen_{at_d.pk}": personas.salesperson.pk,
        },
        follow=True,
    )

    text = response.content.decode()
    assert "1 customer reassigned" in text and "locked grade B" in text
    assert Customer.objects.get(pk=at_d.pk).owner == personas.teammate


def test_the_bulk_page_refuses_customers_the_manager_cannot_see(personas, client_as):
    theirs = customer_at("D", personas.other_salesperson)

    response = client_as("manager").post(
        reverse("funnel:bulk-reassign"),
        {"customers": [theirs.pk], "owner": personas.teammate.pk, "reason": "Grab"},
    )

    assert response.status_code == 400
    assert Customer.objects.get(pk=theirs.pk).owner == personas.other_salesperson


# --- API ----------------------------------------------------------------------------------------


def test_the_api_reassigns_and_answers_with_the_history_record_and_tasks(personas, client_as, at_d):
    response = client_as("manager").post(
        reverse("customer-reassign", args=[at_d.pk]),
        {"owner": personas.teammate.pk, "reason": "Balance"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["from_owner"], body["to_owner"], body["kind"], body["forced"]) == (
        personas.salesperson.pk,
        personas.teammate.pk,
        ReassignmentKind.REASSIGN,
        False,
    )
    assert [task["kind"] for task in body["handover_tasks"]] == ["phone_or_email"]


def test_the_api_refuses_the_locked_grade_with_400_and_a_stale_owner_with_409(
    personas, client_as, at_b, at_d
):
    client = client_as("manager")
    locked = client.post(
        reverse("customer-reassign", args=[at_b.pk]),
        {"owner": personas.teammate.pk, "reason": "Balance"},
        content_type="application/json",
    )
    stale = client.post(
        reverse("customer-reassign", args=[at_d.pk]),
        {"owner": personas.teammate.pk, "reason": "Balance", "expected_owner": personas.teammate.pk},
        content_type="application/json",
    )

    assert locked.status_code == 400 and "locked grade B" in str(locked.json())
    assert stale.status_code == 409 and "meanwhile" in stale.json()["detail"]


def test_an_admin_forces_through_the_api(personas, client_as, at_b):
    response = client_as("admin").post(
        reverse("customer-reassign", args=[at_b.pk]),
        {"owner": personas.teammate.pk, "reason": "Long leave", "force": True},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["forced"] is True


def test_the_bulk_api_lists_moved_and_refused(personas, client_as, at_b, at_d):
    response = client_as("manager").post(
        reverse("customer-bulk-reassign"),
        {"customers": [at_b.pk, at_d.pk], "owner": personas.teammate.pk, "reason": "Split"},
        content_type="application/json",
    )

    assert response.status_code == 200
    body = response.json()
    assert [row["customer"] for row in body["moved"]] == [at_d.pk]
    assert [(row["customer"], row["code"]) for row in body["refused"]] == [(at_b.pk, "locked")]


def test_the_bulk_api_answers_404_for_customers_out_of_sight(personas, client_as, at_d):
    theirs = customer_at("D", personas.other_salesperson)

    response = client_as("manager").post(
        reverse("customer-bulk-reassign"),
        {"customers": [at_d.pk, theirs.pk], "owner": personas.teammate.pk, "reason": "Split"},
        content_type="application/json",
    )

    assert response.status_code == 404
    assert not Reassignment.objects.exists()


def test_a_customer_id_too_large_for_a_database_key_is_a_400_in_bulk_reassign(personas, client_as):
    """Found by the API fuzz test: SQLite's driver raised OverflowError (a 500)."""
    response = client_as("manager").post(
        reverse("customer-bulk-reassign"),
        {
            "customers": [10**20],
            "owner": personas.teammate.pk,
            "reason": "Territory change",
        },
        content_type="application/json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"customers"}

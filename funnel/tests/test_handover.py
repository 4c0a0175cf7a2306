"""工作交接: handover tasks are done by the matching activity or by ticking; my day reads
them; managers see done / open / overdue per new owner."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from funnel import selectors
from funnel.models import HandoverStatus, HandoverTask
from funnel.services import complete_handover_tasks, reassign_customer, tick_handover_task
from funnel.tests.builders import customer_at


@pytest.fixture
def handed_over(personas):
    """Three customers handed from salesperson to teammate: at A (visit), C (phone), D (phone or e-mail)."""
    customers = {
        code: customer_at(code, personas.salesperson, name=f"Handed {code}") for code in ("A", "C", "D")
    }
    for customer in customers.values():
        reassign_customer(
            customer=customer, new_owner=personas.teammate, by=personas.manager, reason="Territory"
        )
    return customers


def _status(customer) -> str:
    return HandoverTask.objects.get(customer=customer).status


@pytest.mark.parametrize(
    ("channel", "done"),
    [
        ("visit", {"A", "C", "D"}),  # a visit is at least as good as a call
        ("call", {"C", "D"}),
        ("email", {"D"}),
        ("sms", set()),
    ],
)
def test_the_matching_activity_completes_the_task(personas, handed_over, channel, done):
    now = timezone.now()
    for customer in handed_over.values():
        complete_handover_tasks(customer=customer, channel=channel, by=personas.teammate, at=now)

    assert {
        code for code, customer in handed_over.items() if _status(customer) == HandoverStatus.DONE
    } == done
    for task in HandoverTask.objects.filter(status=HandoverStatus.DONE):
        assert (task.done_by, task.done_via, task.done_at) == (personas.teammate, channel, now)


def test_an_activity_from_before_the_handover_completes_nothing_and_repeats_are_harmless(
    personas, handed_over
):
    customer = handed_over["C"]
    earlier = timezone.now() - timedelta(days=1)

    assert complete_handover_tasks(customer=customer, channel="call", by=personas.teammate, at=earlier) == 0
    assert (
        complete_handover_tasks(customer=customer, channel="call", by=personas.teammate, at=timezone.now())
        == 1
    )
    assert (
        complete_handover_tasks(customer=customer, channel="call", by=personas.teammate, at=timezone.now())
        == 0
    )


def test_the_new_owner_or_their_manager_ticks_a_task(personas, handed_over):
    task = HandoverTask.objects.get(customer=handed_over["A"])

    with pytest.raises(PermissionDenied):
        tick_handover_task(task=task, by=personas.salesperson)  # the previous owner
    ticked = tick_handover_task(task=task, by=personas.teammate)
    again = tick_handover_task(task=task, by=personas.manager)

    assert (ticked.status, ticked.done_via, again.done_by) == (HandoverStatus.DONE, "tick", personas.teammate)


def test_a_cancelled_task_cannot_be_ticked(personas, handed_over):
    customer = handed_over["A"]
    customer.refresh_from_db()
    task = HandoverTask.objects.get(customer=customer)
    reassign_customer(
        customer=customer, new_owner=personas.sub_salesperson, by=personas.admin, reason="x", force=False
    )

    with pytest.raises(ValidationError):
        tick_handover_task(task=task, by=personas.teammate)


def test_my_day_selectors_return_the_users_open_tasks_with_the_customer(
    personas, handed_over, django_assert_num_queries
):
    complete_handover_tasks(
        customer=handed_over["C"], channel="call", by=personas.teammate, at=timezone.now()
    )

    with django_assert_num_queries(1):
        tasks = list(selectors.open_handover_tasks_for(personas.teammate))
        names = [task.customer.name for task in tasks] + [task.customer.grade.code for task in tasks]

    assert names == ["Handed A", "Handed D", "A", "D"]  # soonest due first
    assert not selectors.open_handover_tasks_for(personas.salesperson).exists()


def test_the_progress_page_counts_done_open_and_overdue_per_new_owner(personas, client_as, handed_over):
    complete_handover_tasks(
        customer=handed_over["D"], channel="email", by=personas.teammate, at=timezone.now()
    )

    with time_machine.travel(
        timezone.now() + timedelta(days=4)
    ):  # A's 3-day visit is overdue, C's call not yet
        rows = selectors.handover_progress(
            personas.manager, since=timezone.localdate() - timedelta(days=30), today=timezone.localdate()
        )
        page = client_as("manager").get(reverse("funnel:handover-progress"))

    assert [(row["owner"], row["done"], row["open"], row["overdue"]) for row in rows] == [
        (personas.teammate, 1, 2, 1)
    ]
    assert page.status_code == 200 and personas.teammate.display_name in page.content.decode()
    assert (
        selectors.handover_progress(
            personas.other_manager, since=timezone.localdate(), today=timezone.localdate()
        )
        == []
    )


def test_the_task_list_ticks_in_place_with_htmx(personas, client_as, handed_over):
    task = HandoverTask.objects.get(customer=handed_over["A"])
    client = client_as("teammate")

    page = client.get(reverse("funnel:handover-tasks"))
    response = client.post(reverse("funnel:handover-task-done", args=[task.pk]), HTTP_HX_REQUEST="true")

    assert "Handed A" in page.content.decode()
    assert response.status_code == 200 and 'id="task-row-' in response.content.decode()
    task.refresh_from_db()
    assert task.status == HandoverStatus.DONE


def test_the_task_api_lists_and_ticks(personas, client_as, handed_over):
    client = client_as("teammate")
    listing = client.get(reverse("handovertask-list"))
    task_id = listing.json()["results"][0]["id"]

    done = client.post(reverse("handovertask-done", args=[task_id]))

    assert listing.json()["count"] == 3
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert (
        client_as("other_salesperson").post(reverse("handovertask-done", args=[task_id])).status_code == 404
    )


def test_a_customer_filter_too_large_for_a_database_key_is_a_400(personas, client_as):
    """Found by the API fuzz test: SQLite's driver raised OverflowError (a 500)."""
    response = client_as("manager").get(reverse("handovertask-list"), {"customer": 10**20})

    assert response.status_code == 400
    assert set(response.json()) == {"customer"}

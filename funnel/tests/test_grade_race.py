"""Grade changes racing on PostgreSQL, each request on its own connection: no 500s, a
lost race answers 409, and the grade history keeps one row per applied change, chained
from the customer's first grade to its current one. (SQLite serializes writers, so
these run on PostgreSQL only; CI sets DATABASE_URL to PostgreSQL.)"""

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from conftest import at_once, skip_or_fail
from crm.services import update_customer
from funnel.models import GradeChange
from funnel.services import change_grade
from funnel.tests.builders import customer_at
from funnel.tests.factories import grade

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://…")


def _change_grade_request(url: str, user, body: dict):
    def send():
        client = Client(raise_request_exception=False)
        client.force_login(user)
        return client.post(url, body, content_type="application/json")

    return send


def _chain(customer) -> list[tuple[str | None, str]]:
    return [
        (change.from_grade.code if change.from_grade else None, change.to_grade.code)
        for change in GradeChange.objects.filter(customer=customer).order_by("changed_at", "pk")
    ]


def test_twenty_grade_changes_from_the_grade_everyone_saw_leave_one_move_and_nineteen_409s(personas):
    customer = customer_at("D", personas.salesperson, name="Hotly Graded Ltd")
    url = reverse("customer-change-grade", args=[customer.pk])
    # One grade up or one down: a skip upward could be refused (400) by the grade-skip
    # rule before the conflict is noticed, whichever request takes the lock first.
    targets = ["C", "E"]
    requests = [
        _change_grade_request(
            url,
            personas.salesperson,
            {
                "grade": grade(targets[index % 2]).pk,
                "note": f"move {index}",
                "expected_grade": grade("D").pk,
            },
        )
        for index in range(20)
    ]

    responses = at_once(*requests)

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [409] * 19
    for refused in (response for response in responses if response.status_code == 409):
        assert "changed by someone else meanwhile" in refused.json()["detail"]
    winner = next(response.json() for response in responses if response.status_code == 200)
    customer.refresh_from_db()
    assert customer.grade_id == winner["grade"]
    assert _chain(customer) == [("D", customer.grade.code)]


def test_twenty_grade_changes_without_a_precondition_never_fail_and_keep_the_history_chained(personas):
    # The client sends no expected grade: each request expects the grade it read before
    # the lock. Whatever the interleaving, every answer is a decision (200, 409, or 400
    # for a request that found the customer already at its target), never a 500.
    customer = customer_at("D", personas.salesperson, name="Busy Ltd")
    url = reverse("customer-change-grade", args=[customer.pk])
    targets = ["C", "B", "E", "A", "D"]
    requests = [
        _change_grade_request(url, personas.salesperson, {"grade": grade(targets[index % 5]).pk})
        for index in range(20)
    ]

    responses = at_once(*requests)

    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {200, 400, 409}, statuses
    assert 200 in statuses
    chain = _chain(customer)
    assert len(chain) == statuses.count(200)
    customer.refresh_from_db()
    assert chain[-1][1] == customer.grade.code
    assert all(previous[1] == following[0] for previous, following in zip(chain, chain[1:], strict=False))


def test_a_grade_change_racing_field_edits_never_loses_the_customer(personas):
    # Field edits lock the customer too; an edit waiting behind a grade change used to
    # lose its row to the joined grade (Customer.DoesNotExist).
    customer = customer_at("D", personas.salesperson, name="Edited Ltd")

    def edit(index):
        return lambda: update_customer(customer=customer, by=personas.salesperson, region=f"Region {index}")

    def move(code):
        return lambda: change_grade(customer=customer, grade=grade(code), by=personas.salesperson)

    at_once(move("C"), *[edit(index) for index in range(5)])

    customer.refresh_from_db()
    assert customer.grade.code == "C" and customer.region.startswith("Region ")

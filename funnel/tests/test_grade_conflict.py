"""A grade change made on a stale view of the customer (someone else moved it since the
page or the API client read it) is refused with a clear conflict: 409 in the API, a
message on the page, and nothing written. The races themselves run on PostgreSQL in
``test_grade_race.py``."""

from decimal import Decimal

import pytest
from django.urls import reverse

from crm.tests.factories import CustomerFactory
from funnel.models import GradeChange
from funnel.services import GradeConflict, StaleWrite, change_grade
from funnel.tests.builders import funnel_settings
from funnel.tests.factories import grade


@pytest.fixture
def customer(personas):
    return CustomerFactory(
        owner=personas.salesperson, name="Northwind Ltd", grade=grade("E"), expected_value=Decimal(5_000_000)
    )


def test_a_change_from_a_grade_that_is_no_longer_current_is_a_conflict(personas, customer):
    change_grade(customer=customer, grade=grade("D"), by=personas.manager)

    with pytest.raises(GradeConflict, match="changed by someone else meanwhile") as refused:
        change_grade(
            customer=customer, grade=grade("C"), by=personas.salesperson, expected_grade_id=grade("E").pk
        )

    assert isinstance(refused.value, StaleWrite)
    customer.refresh_from_db()
    assert customer.grade.code == "D"
    assert GradeChange.objects.filter(customer=customer).count() == 1


def test_a_change_from_the_current_grade_applies(personas, customer):
    change = change_grade(
        customer=customer, grade=grade("D"), by=personas.salesperson, expected_grade_id=grade("E").pk
    )

    assert (change.from_grade.code, change.to_grade.code) == ("E", "D")


def test_the_api_answers_409_when_the_grade_the_client_saw_is_gone(personas, client_as, customer):
    change_grade(customer=customer, grade=grade("D"), by=personas.manager)

    response = client_as("salesperson").post(
        reverse("customer-change-grade", args=[customer.pk]),
        {"grade": grade("C").pk, "expected_grade": grade("E").pk},
        content_type="application/json",
    )

    assert response.status_code == 409
    assert "changed by someone else meanwhile (it is now D)" in response.json()["detail"]
    assert GradeChange.objects.filter(customer=customer).count() == 1


def test_the_api_applies_a_change_from_the_grade_the_client_saw(personas, client_as, customer):
    funnel_settings(grade_skip_rule=False)  # builds its case with grade skips
    response = client_as("salesperson").post(
        reverse("customer-change-grade", args=[customer.pk]),
        {"grade": grade("C").pk, "expected_grade": grade("E").pk},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["grade_code"] == "C"


@pytest.mark.parametrize("expected_grade", ["E", -1, 10**20])
def test_the_api_refuses_a_malformed_expected_grade_with_a_400(personas, client_as, customer, expected_grade):
    response = client_as("salesperson").post(
        reverse("customer-change-grade", args=[customer.pk]),
        {"grade": grade("C").pk, "expected_grade": expected_grade},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"expected_grade"}


def test_the_page_carries_the_grade_shown_and_explains_a_conflict(personas, client_as, customer):
    funnel_settings(grade_skip_rule=False)  # builds its case with grade skips
    client = client_as("salesperson")
    page = client.get(reverse("crm:customer-detail", args=[customer.pk]))
    assert f'name="expected_grade" value="{grade("E").pk}"' in page.content.decode()
    change_grade(customer=customer, grade=grade("C"), by=personas.manager)

    # The user picks C too, from the page that still showed E.
    response = client.post(
        reverse("funnel:change-grade", args=[customer.pk]),
        {"grade": grade("C").pk, "expected_grade": grade("E").pk},
        follow=True,
    )

    messages = [str(message) for message in response.context["messages"]]
    assert any("changed by someone else meanwhile (it is now C)" in message for message in messages), messages
    assert GradeChange.objects.filter(customer=customer).count() == 1

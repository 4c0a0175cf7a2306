"""Moving up more than one grade at once follows the method: a reason is required, and
the move is refused past a grade that needs a decision maker the customer lacks. The
admin can switch the rule off; moves down, one step up and to won/lost are not skips."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.models import KeyPersonRole
from crm.tests.factories import ContactFactory, CustomerFactory
from funnel.models import GradeChange
from funnel.services import change_grade
from funnel.tests.builders import funnel_settings
from funnel.tests.factories import grade

NEEDS_REASON = "Moving up more than one grade needs a reason."
NEEDS_DM = "C needs a decision maker: add one to the contacts first."


@pytest.fixture
def customer(personas):
    return CustomerFactory(
        owner=personas.salesperson, name="Northwind Ltd", grade=grade("E"), expected_value=Decimal(100_000)
    )


def test_a_skip_needs_a_reason_and_a_decision_maker(personas, customer):
    with pytest.raises(ValidationError) as refused:
        change_grade(customer=customer, grade=grade("C"), by=personas.salesperson)

    assert refused.value.message_dict == {"note": [NEEDS_REASON], "grade": [NEEDS_DM]}
    assert not GradeChange.objects.filter(customer=customer).exists()


def test_a_skip_with_a_reason_and_a_decision_maker_is_kept_with_its_reason(personas, customer):
    ContactFactory(customer=customer, role=KeyPersonRole.DECISION_MAKER)

    change = change_grade(
        customer=customer, grade=grade("C"), by=personas.salesperson, note="Met the owner at the fair"
    )

    assert (change.from_grade.code, change.to_grade.code) == ("E", "C")
    assert change.note == "Met the owner at the fair"


def test_with_a_reason_the_missing_decision_maker_alone_refuses(personas, customer):
    with pytest.raises(ValidationError) as refused:
        change_grade(customer=customer, grade=grade("C"), by=personas.salesperson, note="Fair")
    assert refused.value.message_dict == {"grade": [NEEDS_DM]}


@pytest.mark.parametrize(("start", "target"), [("E", "D"), ("C", "E"), ("E", "WON"), ("E", "LOST")])
def test_one_step_up_down_and_terminal_moves_are_not_skips(personas, start, target):
    customer = CustomerFactory(owner=personas.salesperson, grade=grade(start))
    change_grade(
        customer=customer,
        grade=grade(target),
        by=personas.salesperson,
        note="Lost to a rival" if target == "LOST" else "",
    )
    customer.refresh_from_db()
    assert customer.grade.code == target


def test_the_admin_can_switch_the_rule_off(personas, customer):
    funnel_settings(grade_skip_rule=False)

    change_grade(customer=customer, grade=grade("A"), by=personas.salesperson)

    customer.refresh_from_db()
    assert customer.grade.code == "A"


def test_the_page_shows_the_errors_on_the_fields(personas, client_as, customer):
    client = client_as("salesperson")

    response = client.post(
        reverse("funnel:change-grade", args=[customer.pk]),
        {"grade": grade("C").pk, "expected_grade": grade("E").pk},
        follow=True,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-testid="note-error">{NEEDS_REASON}' in html
    assert f'data-testid="grade-error">{NEEDS_DM}' in html
    assert not GradeChange.objects.filter(customer=customer).exists()
    # The errors are shown once: a reload is a clean form.
    assert "note-error" not in client.get(reverse("crm:customer-detail", args=[customer.pk])).content.decode()


def test_the_api_answers_400_on_the_fields(personas, client_as, customer):
    url = reverse("customer-change-grade", args=[customer.pk])
    client = client_as("salesperson")

    refused = client.post(url, {"grade": grade("C").pk}, content_type="application/json")

    assert refused.status_code == 400
    assert refused.json() == {"note": [NEEDS_REASON], "grade": [NEEDS_DM]}
    ContactFactory(customer=customer, role=KeyPersonRole.DECISION_MAKER)
    applied = client.post(
        url, {"grade": grade("C").pk, "note": "Met the owner"}, content_type="application/json"
    )
    assert applied.status_code == 200
    assert applied.json()["grade_code"] == "C"

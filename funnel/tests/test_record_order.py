"""Recording an order (出单): the customer moves to won (unless the company turned that
off), its lifecycle follows its orders, and bad amounts are refused with nothing written."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.models import CrmSettings, Lifecycle, Order
from crm.tests.factories import CustomerFactory
from funnel.models import GradeChange
from funnel.services import record_order
from funnel.tests.factories import grade


@pytest.fixture
def customer(personas):
    return CustomerFactory(owner=personas.salesperson, name="Northwind Ltd", grade=grade("A"))


def _order(customer, by, amount="100000"):
    return record_order(customer=customer, by=by, amount=Decimal(amount), signed_on=date(2025, 6, 1))


def test_an_order_moves_the_customer_to_won_with_a_grade_change(personas, customer):
    order = _order(customer, personas.salesperson, "250000")

    customer.refresh_from_db()
    assert customer.grade.code == "WON"
    change = GradeChange.objects.get()
    assert (change.from_grade.code, change.to_grade.code) == ("A", "WON")
    assert change.changed_by == personas.salesperson
    assert "250000" in change.note
    assert (order.owner, order.created_by, order.amount) == (
        personas.salesperson,
        personas.salesperson,
        Decimal(250000),
    )


def test_no_move_to_won_when_the_company_turned_it_off(personas, customer):
    CrmSettings.objects.update_or_create(pk=1, defaults={"won_on_order": False})

    _order(customer, personas.salesperson)

    customer.refresh_from_db()
    assert customer.grade.code == "A"
    assert not GradeChange.objects.exists()
    assert customer.order_count == 1


def test_a_repeat_order_of_a_won_customer_adds_no_grade_change(personas, customer):
    _order(customer, personas.salesperson)
    _order(customer, personas.salesperson)

    assert GradeChange.objects.count() == 1


@time_machine.travel(datetime(2025, 9, 1, 12, tzinfo=UTC), tick=False)
def test_the_lifecycle_follows_the_orders(personas):
    # Orders in three quarters of the last four (Q1, Q2, Q3 2025); the rule's own cases
    # are in crm/tests/test_lifecycle.py.
    customer = CustomerFactory(owner=personas.salesperson, grade=grade("A"))
    stages = []
    for signed_on in (date(2025, 1, 10), date(2025, 6, 1), date(2025, 8, 20)):
        record_order(customer=customer, by=personas.salesperson, amount=Decimal(1000), signed_on=signed_on)
        customer.refresh_from_db()
        stages.append((customer.order_count, customer.lifecycle))

    assert stages == [
        (1, Lifecycle.FIRST_PURCHASE),
        (2, Lifecycle.REPEAT),
        (3, Lifecycle.LOYAL),
    ]


def test_a_new_customer_is_a_prospect(customer):
    assert (customer.order_count, customer.lifecycle) == (0, Lifecycle.PROSPECT)


def test_money_collected_needs_its_date(personas, customer):
    with pytest.raises(ValidationError) as raised:
        record_order(
            customer=customer,
            by=personas.salesperson,
            amount=Decimal(100),
            signed_on=date(2025, 6, 1),
            collected_amount=Decimal(50),
        )

    assert set(raised.value.message_dict) == {"collected_on"}
    assert not Order.objects.exists()
    customer.refresh_from_db()
    assert customer.grade.code == "A"


# --- Page and API ------------------------------------------------------------------------


def test_the_page_records_an_order(personas, client_as, customer):
    response = client_as("salesperson").post(
        reverse("funnel:record-order", args=[customer.pk]),
        {
            "amount": "250000",
            "gross_profit": "50000",
            "signed_on": "2025-06-01",
            "collected_amount": "100000",
            "collected_on": "2025-06-15",
            "note": "first order",
        },
    )

    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.amount, order.collected_amount, order.collected_on) == (
        Decimal(250000),
        Decimal(100000),
        date(2025, 6, 15),
    )
    customer.refresh_from_db()
    assert (customer.grade.code, customer.lifecycle) == ("WON", Lifecycle.FIRST_PURCHASE)


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"amount": "-1"}, "amount", "Ensure this value is greater than or equal to 0."),
        ({"amount": ""}, "amount", "This field is required."),
        ({"collected_amount": "-5"}, "collected_amount", "Ensure this value is greater than or equal to 0."),
        ({"signed_on": "yesterday"}, "signed_on", "Enter a valid date."),
        ({"collected_amount": "10"}, "collected_on", "Say when the money was collected."),
    ],
)
def test_the_page_refuses_bad_input_on_the_field_and_writes_nothing(
    personas, client_as, customer, data, field, error
):
    response = client_as("salesperson").post(
        reverse("funnel:record-order", args=[customer.pk]),
        {"amount": "1000", "signed_on": "2025-06-01", **data},
    )

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {field}
    assert error in response.content.decode()
    assert not Order.objects.exists()
    customer.refresh_from_db()
    assert (customer.grade.code, customer.order_count) == ("A", 0)


def test_the_api_records_an_order(personas, client_as, customer):
    response = client_as("salesperson").post(
        reverse("order-list"),
        {
            "customer": customer.pk,
            "amount": "250000.00",
            "signed_on": "2025-06-01",
        },
        content_type="application/json",
    )

    assert response.status_code == 201
    assert (response.json()["owner"], response.json()["amount"]) == (personas.salesperson.pk, "250000.00")
    customer.refresh_from_db()
    assert customer.grade.code == "WON"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": "-100"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"collected_amount": "-1"}, "collected_amount"),
        ({"collected_amount": "10"}, "collected_on"),
        ({"signed_on": None}, "signed_on"),
    ],
)
def test_the_api_refuses_bad_orders_with_the_field_key(personas, client_as, customer, data, field):
    response = client_as("salesperson").post(
        reverse("order-list"),
        {
            "customer": customer.pk,
            "amount": "1000",
            "signed_on": "2025-06-01",
            **data,
        },
        content_type="application/json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert not Order.objects.exists()


def test_an_order_for_another_teams_customer_is_refused(personas, client_as, customer):
    response = client_as("other_salesperson").post(
        reverse("order-list"),
        {
            "customer": customer.pk,
            "amount": "1000",
            "signed_on": "2025-06-01",
        },
        content_type="application/json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"customer"}
    assert not Order.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("teammate", 404), ("other_manager", 404), ("manager", 302)])
def test_the_order_page_follows_visibility(personas, client_as, customer, role, status):
    response = client_as(role).post(
        reverse("funnel:record-order", args=[customer.pk]), {"amount": "1000", "signed_on": "2025-06-01"}
    )

    assert response.status_code == status
    assert Order.objects.count() == (1 if status == 302 else 0)

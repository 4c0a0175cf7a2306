"""Creating and editing customers: who may own what, and bad input answered on the field
with nothing written (page: 400 with the error text; API: 400 keyed by the field)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from crm import services
from crm.models import Customer, Tag
from crm.tests.factories import CustomerFactory
from funnel.tests.factories import grade


def _page_data(**overrides) -> dict:
    data = {
        "name": "Northwind Ltd",
        "grade": grade("E").pk,
        "source": "referral",
        "tier": "priority",
        "expected_value": "5000000",
        "tags": "state-owned, price-sensitive",
    }
    return {**data, **overrides}


@pytest.fixture(autouse=True)
def shared_tags(db):
    """The tags an admin has added: others may only pick these (see test_tags.py)."""
    Tag.objects.bulk_create([Tag(name=name) for name in ("state-owned", "price-sensitive")])


# --- Who may own the new customer --------------------------------------------------------


def test_a_salesperson_creates_a_customer_for_themselves_on_the_page(personas, client_as):
    response = client_as("salesperson").post(
        reverse("crm:customer-create"), _page_data(owner=personas.salesperson.pk)
    )

    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("crm:customer-detail", args=[customer.pk])
    assert (customer.owner, customer.grade.code, customer.created_by) == (
        personas.salesperson,
        "E",
        personas.salesperson,
    )
    assert customer.expected_value == Decimal(5_000_000)
    assert sorted(customer.tags.values_list("name", flat=True)) == ["price-sensitive", "state-owned"]
    assert customer.stagnant_from == customer.grade_entered_at + timedelta(days=30)  # E's limit


@pytest.mark.parametrize(
    ("role", "owner", "created"),
    [
        ("salesperson", "teammate", False),
        ("salesperson", "other_salesperson", False),
        ("manager", "teammate", True),
        ("manager", "sub_salesperson", True),
        ("manager", "other_salesperson", False),
        ("other_manager", "salesperson", False),
        ("admin", "other_salesperson", True),
    ],
)
def test_who_may_create_a_customer_for_whom_on_the_page(personas, client_as, role, owner, created):
    response = client_as(role).post(reverse("crm:customer-create"), _page_data(owner=personas.user(owner).pk))

    if created:
        assert response.status_code == 302
        assert Customer.objects.get().owner == personas.user(owner)
    else:
        assert response.status_code == 400
        assert "owner" in response.context["form"].errors
        assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("role", "owner", "created"),
    [
        ("salesperson", "teammate", False),
        ("manager", "teammate", True),
        ("manager", "other_salesperson", False),
        ("admin", "other_salesperson", True),
    ],
)
def test_who_may_create_a_customer_for_whom_in_the_api(personas, client_as, role, owner, created):
    response = client_as(role).post(
        reverse("customer-list"),
        {
            "name": "Northwind Ltd",
            "grade": grade("E").pk,
            "owner": personas.user(owner).pk,
        },
        content_type="application/json",
    )

    if created:
        assert response.status_code == 201
        assert response.json()["owner"] == personas.user(owner).pk
    else:
        assert response.status_code == 400
        assert set(response.json()) == {"owner"}
        assert not Customer.objects.exists()


def test_the_api_makes_the_caller_the_owner_by_default(personas, client_as):
    response = client_as("salesperson").post(
        reverse("customer-list"),
        {
            "name": "Northwind Ltd",
            "grade": grade("E").pk,
            "tags": ["State-Owned"],
        },
        content_type="application/json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["owner"], body["owner_name"], body["grade_code"], body["tags"]) == (
        personas.salesperson.pk,
        personas.salesperson.display_name,
        "E",
        ["state-owned"],
    )


def test_a_salesperson_cannot_put_a_customer_in_the_pool(personas, client_as):
    response = client_as("salesperson").post(
        reverse("customer-list"),
        {
            "name": "Northwind Ltd",
            "grade": grade("E").pk,
            "owner": None,
        },
        content_type="application/json",
    )

    assert response.status_code == 403
    assert not Customer.objects.exists()


def test_the_service_refuses_another_owner(personas):
    with pytest.raises(PermissionDenied):
        services.create_customer(by=personas.salesperson, owner=personas.teammate, grade=grade("E"), name="X")


# --- Bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("name", "", "This field is required."),
        ("expected_value", "-1", "Ensure this value is greater than or equal to 0."),
        ("annual_revenue", "-5", "Ensure this value is greater than or equal to 0."),
        ("grade", "999999", "Select a valid choice."),
        ("email", "not-an-address", "Enter a valid email address."),
        ("tier", "platinum", "Select a valid choice."),
    ],
)
def test_the_create_page_shows_bad_input_on_its_field_and_writes_nothing(
    personas, client_as, field, value, error
):
    response = client_as("salesperson").post(
        reverse("crm:customer-create"), _page_data(owner=personas.salesperson.pk, **{field: value})
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {field}
    assert error in errors[field][0]
    assert error in response.content.decode().replace("&#x27;", "'")
    assert not Customer.objects.exists()


def test_a_won_or_lost_grade_is_not_a_starting_grade(personas, client_as):
    response = client_as("salesperson").post(
        reverse("crm:customer-create"), _page_data(owner=personas.salesperson.pk, grade=grade("WON").pk)
    )

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"grade"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("expected_value", "-1"),
        ("grade", 999999),
        ("grade", "A+"),
    ],
)
def test_the_api_answers_bad_input_with_the_field_key_and_writes_nothing(personas, client_as, field, value):
    data = {"name": "Northwind Ltd", "grade": grade("E").pk, "expected_value": "100", field: value}

    response = client_as("salesperson").post(reverse("customer-list"), data, content_type="application/json")

    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert not Customer.objects.exists()


def test_the_api_requires_a_name(personas, client_as):
    response = client_as("salesperson").post(
        reverse("customer-list"), {"grade": grade("E").pk}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"name": ["This field is required."]}


def test_the_edit_page_refuses_a_negative_value_and_keeps_the_old_one(personas, client_as):
    customer = CustomerFactory(owner=personas.salesperson, name="Northwind Ltd", expected_value=Decimal(10))

    response = client_as("salesperson").post(
        reverse("crm:customer-update", args=[customer.pk]),
        {
            "name": "Northwind Ltd",
            "source": "other",
            "tier": "normal",
            "expected_value": "-10",
        },
    )

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"expected_value"}
    customer.refresh_from_db()
    assert customer.expected_value == Decimal(10)
    assert customer.history.count() == 1


def test_the_api_edit_cannot_move_grade_or_owner(personas, client_as):
    customer = CustomerFactory(owner=personas.salesperson, name="Northwind Ltd")

    response = client_as("salesperson").patch(
        reverse("customer-detail", args=[customer.pk]),
        {
            "industry": "Steel",
            "owner": personas.teammate.pk,
            "grade": grade("A").pk,
        },
        content_type="application/json",
    )

    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.industry, customer.owner, customer.grade.code) == ("Steel", personas.salesperson, "E")


def test_a_teammate_cannot_edit_my_customer(personas, client_as):
    customer = CustomerFactory(owner=personas.salesperson, name="Northwind Ltd")

    response = client_as("teammate").post(
        reverse("crm:customer-update", args=[customer.pk]),
        {
            "name": "Stolen",
            "source": "other",
            "tier": "normal",
            "expected_value": "0",
        },
    )

    assert response.status_code == 404
    customer.refresh_from_db()
    assert customer.name == "Northwind Ltd"

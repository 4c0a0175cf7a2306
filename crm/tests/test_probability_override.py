"""A customer's own win probability (with a reason), else its grade's: the override
on the page and in the API, and bad values refused on the field with nothing written."""

from decimal import Decimal

import pytest
from django.urls import reverse

from crm import services
from crm.tests.factories import CustomerFactory
from funnel.tests.factories import grade


@pytest.fixture
def customer(personas):
    return CustomerFactory(
        owner=personas.salesperson, name="Northwind Ltd", grade=grade("D"), expected_value=Decimal(5_000_000)
    )


def test_the_page_sets_an_override_with_its_reason(personas, client_as, customer):
    client = client_as("salesperson")

    response = client.post(
        reverse("crm:customer-probability", args=[customer.pk]),
        {"probability": "35", "reason": "Budget approved early"},
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.probability == Decimal(35)
    assert customer.probability_override_reason == "Budget approved early"
    page = client.get(reverse("crm:customer-detail", args=[customer.pk]))
    assert page.context["customer"].weighted_value == Decimal(1_750_000)
    assert "overrides the grade's 20.0 %" in page.content.decode()


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        (
            {"probability": "120", "reason": "sure thing"},
            "probability",
            "Ensure this value is less than or equal to 100.",
        ),
        (
            {"probability": "-5", "reason": "no chance"},
            "probability",
            "Ensure this value is greater than or equal to 0.",
        ),
        ({"probability": "abc", "reason": "typo"}, "probability", "Enter a number."),
        ({"probability": "35", "reason": " "}, "reason", "Say why this customer"),
    ],
)
def test_the_page_refuses_bad_values_on_the_field_and_writes_nothing(
    personas, client_as, customer, data, field, error
):
    response = client_as("salesperson").post(reverse("crm:customer-probability", args=[customer.pk]), data)

    assert response.status_code == 400
    form = response.context["override_form"]
    assert set(form.errors) == {field}
    assert error in form.errors[field][0]
    assert error in response.content.decode().replace("&#x27;", "'")
    customer.refresh_from_db()
    assert customer.probability_override is None
    assert customer.history.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"probability": "120", "reason": "sure thing"}, "probability"),
        ({"probability": "-1", "reason": "x"}, "probability"),
        ({"probability": "35", "reason": ""}, "reason"),
    ],
)
def test_the_api_refuses_bad_values_with_the_field_key(personas, client_as, customer, data, field):
    url = reverse("customer-probability-override", args=[customer.pk])

    response = client_as("salesperson").post(url, data, content_type="application/json")

    assert response.status_code == 400
    assert set(response.json()) == {field}
    customer.refresh_from_db()
    assert customer.probability_override is None


def test_the_api_sets_and_clears_an_override(personas, client_as, customer):
    client = client_as("manager")
    url = reverse("customer-probability-override", args=[customer.pk])

    set_ = client.post(
        url, {"probability": "50", "reason": "Champion inside"}, content_type="application/json"
    )
    cleared = client.post(url, {"probability": None}, content_type="application/json")

    assert (set_.json()["probability"], set_.json()["weighted_value"]) == ("50.00", "2500000.00")
    assert (cleared.json()["probability"], cleared.json()["weighted_value"]) == ("20.00", "1000000.00")
    customer.refresh_from_db()
    assert (customer.probability_override, customer.probability_override_reason) == (None, "")
    assert [r.history_change_reason for r in customer.history.all()[:2]] == [
        "Probability override cleared",
        "Champion inside",
    ]


def test_the_service_refuses_a_probability_out_of_range(personas, customer):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        services.set_probability_override(
            customer=customer, by=personas.salesperson, probability=Decimal(120), reason="certain"
        )

    assert set(raised.value.message_dict) == {"probability"}

"""The stored weighted value (``Customer.weighted_value``, what lists sort on) stays
exactly expected value × probability after every kind of write. Each case runs one
write path; a new path that forgets to keep the column fails here once it is added."""

from decimal import ROUND_HALF_UP, Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from crm import services as crm_services
from crm.importing import services as import_services
from crm.models import Customer
from crm.tests.factories import CustomerFactory
from crm.tests.test_imports import upload, workbook_from_template
from funnel import services as funnel_services
from funnel.tests.builders import funnel_settings
from funnel.tests.factories import grade
from reports import services as report_services


def expected(customer: Customer) -> Decimal:
    return (customer.expected_value * customer.probability / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)


@pytest.fixture
def book(personas):
    """Two customers at D (20 %), one with a probability override; values with fen."""
    plain = CustomerFactory(
        owner=personas.salesperson, name="Plain Ltd", grade=grade("D"), expected_value=Decimal("12345.67")
    )
    overridden = CustomerFactory(
        owner=personas.salesperson, name="Judged Ltd", grade=grade("D"), expected_value=Decimal("80000.05")
    )
    crm_services.set_probability_override(
        customer=overridden, by=personas.salesperson, probability=Decimal("33.33"), reason="Budget approved"
    )
    return {"plain": plain, "overridden": overridden}


def create(personas, book, client_as):
    CustomerFactory(
        owner=personas.salesperson, name="New Ltd", grade=grade("C"), expected_value=Decimal("999.99")
    )


def edit(personas, book, client_as):
    crm_services.update_customer(
        customer=book["plain"], by=personas.salesperson, expected_value=Decimal("7777.77")
    )


def edit_through_the_api(personas, book, client_as):
    response = client_as("salesperson").patch(
        reverse("customer-detail", args=[book["overridden"].pk]),
        {"expected_value": "4321.09"},
        content_type="application/json",
    )
    assert response.status_code == 200


def set_override(personas, book, client_as):
    crm_services.set_probability_override(
        customer=book["plain"], by=personas.salesperson, probability=Decimal("61.5"), reason="Verbal yes"
    )


def clear_override(personas, book, client_as):
    crm_services.set_probability_override(
        customer=book["overridden"], by=personas.salesperson, probability=None
    )


def change_grade(personas, book, client_as):
    funnel_settings(grade_skip_rule=False)  # moves every customer straight to B
    for customer in book.values():
        funnel_services.change_grade(customer=customer, grade=grade("B"), by=personas.salesperson)


def win_and_lose(personas, book, client_as):
    funnel_services.change_grade(customer=book["plain"], grade=grade("WON"), by=personas.salesperson)
    funnel_services.change_grade(
        customer=book["overridden"], grade=grade("LOST"), by=personas.salesperson, note="Chose a competitor"
    )


def change_a_grades_probability(personas, book, client_as):
    d = grade("D")
    d.probability = Decimal("27.5")
    funnel_services.save_grade(grade=d, by=personas.admin)


def change_a_grades_probability_through_the_api(personas, book, client_as):
    response = client_as("admin").patch(
        reverse("grade-detail", args=[grade("D").pk]),
        {"probability": "12.34"},
        content_type="application/json",
    )
    assert response.status_code == 200


def apply_a_calibrated_probability(personas, book, client_as):
    report_services.apply_suggested_probability(
        grade=grade("D"), probability=Decimal("31.07"), by=personas.admin
    )


def merge(personas, book, client_as):
    keep = CustomerFactory(owner=personas.salesperson, name="Keep Ltd", grade=grade("A"))
    crm_services.merge_customers(keep=keep, merge=book["plain"], by=personas.manager)


def release_and_claim(personas, book, client_as):
    funnel_services.release_customer(customer=book["plain"], by=personas.salesperson, reason="Not my region")
    funnel_services.claim_customer(customer=book["plain"], by=personas.teammate)


def import_new_and_updated_customers(personas, book, client_as):
    rows = [
        {"Name*": "Imported Ltd", "Grade": "C", "Expected yearly value (CNY)": 55555.55},
        {"ID": book["plain"].pk, "Expected yearly value (CNY)": 1234.56},
    ]
    batch = import_services.start_import(
        by=personas.salesperson,
        kind="customers",
        upload=upload(workbook_from_template(rows, "en"), "book.xlsx"),
    )
    import_services.confirm_import(batch=batch, by=personas.salesperson)
    assert Customer.objects.filter(name="Imported Ltd").exists()


def generate_data(personas, book, client_as):
    call_command(
        "generate_data", customers=60, users=6, teams=2, activities=0, weeks=1, seed=5, stdout=StringIO()
    )


@pytest.mark.parametrize(
    "write",
    [
        create,
        edit,
        edit_through_the_api,
        set_override,
        clear_override,
        change_grade,
        win_and_lose,
        change_a_grades_probability,
        change_a_grades_probability_through_the_api,
        apply_a_calibrated_probability,
        merge,
        release_and_claim,
        import_new_and_updated_customers,
        generate_data,
    ],
)
def test_the_stored_weighted_value_is_exact_after(write, personas, book, client_as):
    write(personas, book, client_as)

    customers = list(Customer.objects.select_related("grade"))
    assert [(c.name, c.weighted_value) for c in customers] == [(c.name, expected(c)) for c in customers]

"""Who sees which customer, on every route that shows customers or their rows.

One customer per persona (plus one in the public pool), each with a contact, an order
and a grade change; every persona asks every list, search, detail, export, count and
API, and must get exactly the customers the visibility rule gives them.
"""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.models import CrmSettings
from crm.tests.factories import ContactFactory, CustomerFactory, OrderFactory
from funnel.services import change_grade
from funnel.tests.factories import grade

OWNERS = ("salesperson", "teammate", "sub_salesperson", "manager", "other_salesperson", "other_manager")
EAST_TREE = {"salesperson", "teammate", "sub_salesperson", "manager"}
VISIBLE = {
    "salesperson": {"salesperson"},
    "teammate": {"teammate"},
    "sub_salesperson": {"sub_salesperson"},
    "manager": EAST_TREE,
    "other_salesperson": {"other_salesperson"},
    "other_manager": {"other_manager", "other_salesperson"},
    "admin": {*OWNERS, "pool"},
}
ROLES = sorted(VISIBLE)


@pytest.fixture
def book(personas):
    """label → customer: one per owning persona and one in the public pool."""
    customers = {}
    for number, label in enumerate((*OWNERS, "pool")):
        owner = None if label == "pool" else personas.user(label)
        customer = CustomerFactory(
            name=f"{label} Trading",
            owner=owner,
            by=owner or personas.admin,
            grade=grade("E"),
            expected_value=Decimal(100_000),
        )
        ContactFactory(
            customer=customer, by=personas.admin, name=f"{label} buyer", phone=f"+86 139 0000 {number:04d}"
        )
        OrderFactory(customer=customer, by=personas.admin, amount=Decimal(1000))
        change_grade(customer=customer, grade=grade("D"), by=personas.admin, note="first visit")
        customers[label] = customer
    return customers


def _labels(book, customers) -> set[str]:
    by_pk = {customer.pk: label for label, customer in book.items()}
    return {by_pk[customer.pk if hasattr(customer, "pk") else customer] for customer in customers}


# --- Pages -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_list_page_shows_exactly_the_visible_customers_and_counts_them(book, client_as, role):
    response = client_as(role).get(reverse("crm:customer-list"))

    assert response.status_code == 200
    assert _labels(book, response.context["customers"]) == VISIBLE[role]
    assert response.context["paginator"].count == len(VISIBLE[role])


@pytest.mark.parametrize("role", ROLES)
def test_a_search_finds_only_visible_customers(book, client_as, role):
    by_name = client_as(role).get(reverse("crm:customer-list"), {"search": "Trading"})
    # The other team's contact phone, typed the way a caller would read it out.
    by_phone = client_as(role).get(reverse("crm:customer-list"), {"search": "139-0000-0004"})

    assert _labels(book, by_name.context["customers"]) == VISIBLE[role]
    assert _labels(book, by_phone.context["customers"]) == VISIBLE[role] & {"other_salesperson"}


@pytest.mark.parametrize("role", ROLES)
def test_a_search_by_a_contacts_name_finds_its_customer_only_where_visible(book, client_as, role):
    response = client_as(role).get(reverse("crm:customer-list"), {"search": "TEAMMATE buyer"})

    assert _labels(book, response.context["customers"]) == VISIBLE[role] & {"teammate"}


@pytest.mark.parametrize("role", ROLES)
def test_each_customer_page_answers_200_when_visible_and_404_otherwise(book, client_as, role):
    client = client_as(role)

    statuses = {
        label: client.get(reverse("crm:customer-detail", args=[customer.pk])).status_code
        for label, customer in book.items()
    }

    assert {label for label, status in statuses.items() if status == 200} == VISIBLE[role]
    assert {status for label, status in statuses.items() if label not in VISIBLE[role]} <= {404}


@pytest.mark.parametrize("role", ROLES)
def test_the_export_holds_exactly_the_visible_customers(book, client_as, role):
    CrmSettings.objects.update_or_create(pk=1, defaults={"salespeople_may_export": True})

    response = client_as(role).get(reverse("crm:customer-export"), {"file_format": "csv"})

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]
    assert {row[0].removesuffix(" Trading") for row in rows} == VISIBLE[role]


@pytest.mark.parametrize("role", ROLES)
def test_the_funnel_summary_counts_only_visible_customers(book, client_as, role):
    response = client_as(role).get(reverse("funnel:summary"))

    counts = {row["grade"].code: row["count"] for row in response.context["rows"]}
    assert counts["D"] == len(VISIBLE[role])
    assert response.context["total_count"] == len(VISIBLE[role])
    assert response.context["total_weighted"] == Decimal(20_000) * len(VISIBLE[role])


def test_a_managers_owner_filter_lists_only_their_team(book, client_as, personas):
    response = client_as("manager").get(reverse("crm:customer-list"))

    owners = response.context["filterset"].form.fields["owner"].queryset
    assert {user.username for user in owners} == {
        "manager",
        "salesperson",
        "teammate",
        "sub_salesperson",
        "deactivated",
    }


def test_a_salesperson_cannot_filter_their_way_to_another_owner(book, client_as, personas):
    someone_else = {"owner": personas.other_salesperson.pk}
    page = client_as("salesperson").get(reverse("crm:customer-list"), someone_else)
    api = client_as("salesperson").get(reverse("customer-list"), someone_else)

    assert _labels(book, page.context["customers"]) == {"salesperson"}
    assert api.status_code == 400
    assert "owner" in api.json()


# --- API ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_api_list_and_its_count_hold_exactly_the_visible_customers(book, client_as, role):
    body = client_as(role).get(reverse("customer-list")).json()

    assert {row["name"].removesuffix(" Trading") for row in body["results"]} == VISIBLE[role]
    assert body["count"] == len(VISIBLE[role])


@pytest.mark.parametrize("role", ROLES)
def test_the_api_search_finds_only_visible_customers(book, client_as, role):
    body = client_as(role).get(reverse("customer-list"), {"search": "139 0000 0004"}).json()

    found = {row["name"].removesuffix(" Trading") for row in body["results"]}
    assert found == VISIBLE[role] & {"other_salesperson"}


@pytest.mark.parametrize("role", ROLES)
def test_each_customer_in_the_api_answers_200_when_visible_and_404_otherwise(book, client_as, role):
    client = client_as(role)

    statuses = {
        label: client.get(reverse("customer-detail", args=[customer.pk])).status_code
        for label, customer in book.items()
    }

    assert {label for label, status in statuses.items() if status == 200} == VISIBLE[role]
    assert {status for label, status in statuses.items() if label not in VISIBLE[role]} <= {404}


@pytest.mark.parametrize("route", ["contact-list", "order-list", "gradechange-list"])
@pytest.mark.parametrize("role", ROLES)
def test_contacts_orders_and_grade_changes_follow_their_customer(book, client_as, role, route):
    body = client_as(role).get(reverse(route)).json()

    assert _labels(book, [row["customer"] for row in body["results"]]) == VISIBLE[role]
    assert body["count"] == len(VISIBLE[role])


def test_writing_to_another_teams_customer_through_the_api_answers_404(book, client_as):
    client = client_as("other_salesperson")
    customer = book["salesperson"]

    patched = client.patch(
        reverse("customer-detail", args=[customer.pk]),
        {"industry": "Hacked"},
        content_type="application/json",
    )
    deleted = client.delete(reverse("customer-detail", args=[customer.pk]))
    regraded = client.post(
        reverse("customer-change-grade", args=[customer.pk]),
        {"grade": grade("C").pk},
        content_type="application/json",
    )
    contact = client.post(
        reverse("contact-list"), {"customer": customer.pk, "name": "Spy"}, content_type="application/json"
    )

    assert (patched.status_code, deleted.status_code, regraded.status_code) == (404, 404, 404)
    # The customer is not among the choices: a field error that names nothing of it.
    assert contact.status_code == 400
    assert set(contact.json()) == {"customer"}
    customer.refresh_from_db()
    assert (customer.industry, customer.archived_at, customer.grade.code) == ("", None, "D")

"""The customer lists run the same number of SQL queries with 10 and with 1,000 customers.

Each test asks once with 10 customers, grows the data to 1,000 and asks again, with
the same pinned count both times. The counts name their queries, so a new N+1 (a
template touching a relation per row) or a new query per request shows up here.

A signed-in browser's session is read on every request but written only when its last
renewal is five minutes old (``SESSION_RENEW_SECONDS``): the first request of each test
renews it, so the counts below hold no session write.
"""

import pytest
from django.urls import reverse

from crm.models import Contact, CrmSettings, Customer, Tag
from crm.tests.factories import ContactFactory, CustomerFactory, OrderFactory, bulk_customers
from crm.tests.query_counts import same_queries_for_10_and_1000, signed_in
from funnel.tests.factories import grade


@pytest.fixture
def grow(personas):
    """``grow(total)`` brings ``salesperson`` to ``total`` customers (each with a tag and a
    contact) and adds as many for another team, which no East list may read."""
    CrmSettings.load()  # the row exists in production; its creation is not a page's cost
    tag = Tag.objects.create(name="state-owned")
    state = {"count": 0}

    def grow_to(total: int) -> None:
        start, count = state["count"], total - state["count"]
        mine = bulk_customers(
            owner=personas.salesperson, count=count, start=start, grade=grade("D"), prefix="Mine"
        )
        bulk_customers(
            owner=personas.other_salesperson, count=count, start=start, grade=grade("C"), prefix="Theirs"
        )
        Customer.tags.through.objects.bulk_create(
            [Customer.tags.through(customer_id=customer.pk, tag_id=tag.pk) for customer in mine]
        )
        Contact.objects.bulk_create([Contact(customer=c, name=f"Buyer {c.pk}") for c in mine])
        state["count"] = total

    return grow_to


def test_the_customer_list_page_for_a_salesperson(grow, client_as, django_assert_num_queries):
    client = signed_in(client_as, "salesperson")

    # 1 session, 2 user, 3 paginator count (capped), 4 the grade choices of the filter
    # form, 5 crm settings (may export?), 6 the notification bell's unread count (base
    # template), 7 the page of customers (grade and owner joined, probability computed in
    # SQL, weighted value stored).
    responses = same_queries_for_10_and_1000(
        grow, django_assert_num_queries, 7, lambda: client.get(reverse("crm:customer-list"))
    )

    assert [r.context["paginator"].count for r in responses] == [10, 1000]


def test_the_customer_list_page_for_a_manager_searching(grow, client_as, django_assert_num_queries):
    client = signed_in(client_as, "manager")

    # 1 session, 2 user, 3 the team tree (visible team ids), 4 paginator count, 5 grade
    # choices, 6 owner choices (the team tree's people only), 7 the notification bell, 8
    # the page of customers, sorted by weighted value in SQL. (No crm settings: managers
    # may always export.)
    responses = same_queries_for_10_and_1000(
        grow,
        django_assert_num_queries,
        8,
        lambda: client.get(reverse("crm:customer-list"), {"search": "Mine", "ordering": "-weighted_value"}),
    )

    assert [r.context["paginator"].count for r in responses] == [10, 1000]


def test_the_customer_api_list(grow, client_as, django_assert_num_queries):
    client = signed_in(client_as, "salesperson")

    # 1 session, 2 user, 3 count (capped), 4 the page of customers, 5 their tags (one
    # prefetch).
    responses = same_queries_for_10_and_1000(
        grow, django_assert_num_queries, 5, lambda: client.get(reverse("customer-list"))
    )

    assert [r.json()["count"] for r in responses] == [10, 1000]
    assert responses[-1].json()["results"][0]["tags"] == ["state-owned"]


def test_the_customer_api_list_with_a_token(grow, personas, django_assert_num_queries):
    from rest_framework.test import APIClient

    from config.tokens import issue_token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user=personas.manager, via='test')[1]}")

    # 1 token and its user, 2 the team tree, 3 count, 4 the page, 5 tags.
    responses = same_queries_for_10_and_1000(
        grow, django_assert_num_queries, 5, lambda: client.get(reverse("customer-list"), {"search": "Mine"})
    )

    assert [r.json()["count"] for r in responses] == [10, 1000]


def test_the_contact_api_list(grow, client_as, django_assert_num_queries):
    client = signed_in(client_as, "salesperson")

    # 1 session, 2 user, 3 count, 4 the page of contacts.
    responses = same_queries_for_10_and_1000(
        grow, django_assert_num_queries, 4, lambda: client.get(reverse("contact-list"))
    )

    assert [r.json()["count"] for r in responses] == [10, 1000]


def test_the_export(grow, client_as, django_assert_max_num_queries):
    client = signed_in(client_as, "manager")

    # 1 session, 2 user, 3 crm settings, 4 the team tree, 5 the rows (grade and owner
    # joined, capped), 6 the export record, 7-9 its audit event (the hash chain's head
    # locked, the event, the head moved on).
    responses = same_queries_for_10_and_1000(
        grow,
        django_assert_max_num_queries,
        9,
        lambda: client.get(reverse("crm:customer-export"), {"file_format": "csv"}),
    )

    assert [r.status_code for r in responses] == [200, 200]


@pytest.mark.parametrize("role, expected", [("salesperson", 13), ("manager", 15), ("admin", 14)])
def test_the_customer_page(personas, client_as, django_assert_num_queries, role, expected):
    customer = CustomerFactory(owner=personas.salesperson, by=personas.salesperson)
    customer.tags.add(Tag.objects.create(name="state-owned"))
    client = signed_in(client_as, role)

    # 1 session, 2 user, [3 the team tree: manager], the customer (grade, owner, the
    # panels' annotations: cadence rule, open alert and handover tasks, known location), its
    # tags, contacts and orders, [the reassign form's people: manager, admin], field history
    # of the customer and of its contacts, the timeline's grade changes, reassignments and
    # activities (with their check-ins, which the location panel and the action bar read
    # too), the notification bell, the grade form's grades.
    for contacts in (1, 20):
        for number in range(customer.contacts.count(), contacts):
            ContactFactory(customer=customer, by=personas.salesperson, name=f"Buyer {number}")
            OrderFactory(customer=customer, by=personas.salesperson)
        with django_assert_num_queries(expected):
            response = client.get(reverse("crm:customer-detail", args=[customer.pk]))
        assert response.status_code == 200

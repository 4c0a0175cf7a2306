"""The navbar's quick search: the customer list's matching (name, contact name, phone
digits) over what the user may see, whom to call on each row, "Log call" from the
activities app, and two queries whatever the data."""

import pytest
from django.db import connection
from django.urls import reverse

from conftest import skip_or_fail
from crm import selectors
from crm.models import Contact, Customer, KeyPersonRole
from crm.services import archive_customer
from crm.tests.factories import ContactFactory, CustomerFactory, bulk_customers
from crm.tests.query_counts import same_queries_for_10_and_1000, signed_in
from funnel.tests.factories import grade

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def book(personas):
    """Harbor Point (salesperson, East) with a decision maker and a buyer; a teammate's, a
    sub-team's and another team's customer with "Harbor" in the name."""
    harbor = CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics", phone="021-5555-0000")
    boss = ContactFactory(
        customer=harbor, name="Lin Mei", role=KeyPersonRole.DECISION_MAKER, phone="+86 138-0013-8000"
    )
    buyer = ContactFactory(customer=harbor, name="Zhou Qiang", role=KeyPersonRole.USER, phone="139 1111 2222")
    return {
        "harbor": harbor,
        "boss": boss,
        "buyer": buyer,
        "teammate": CustomerFactory(owner=personas.teammate, name="Harborside Foods"),
        "sub": CustomerFactory(owner=personas.sub_salesperson, name="North Harbor Steel"),
        "other": CustomerFactory(owner=personas.other_salesperson, name="West Harbor Trading"),
    }


def names(hits) -> list[str]:
    return [hit.customer.name for hit in hits]


@pytest.mark.parametrize(
    "role, expected",
    [
        ("salesperson", ["Harbor Point Logistics"]),
        ("teammate", ["Harborside Foods"]),
        ("manager", ["Harbor Point Logistics", "Harborside Foods", "North Harbor Steel"]),
        ("other_manager", ["West Harbor Trading"]),
        (
            "admin",
            ["Harbor Point Logistics", "Harborside Foods", "North Harbor Steel", "West Harbor Trading"],
        ),
    ],
)
def test_the_search_finds_only_what_the_user_may_see_names_starting_with_it_first(
    book, personas, role, expected
):
    assert names(selectors.quick_search(getattr(personas, role), "harbor")) == expected


def test_a_contacts_name_finds_its_customer_with_that_contact_to_call(book, personas):
    [hit] = selectors.quick_search(personas.salesperson, "zhou")

    assert (hit.customer, hit.contact, hit.phone) == (book["harbor"], book["buyer"], "139 1111 2222")


def test_phone_digits_match_however_they_are_written(book, personas):
    [hit] = selectors.quick_search(personas.salesperson, "1380013 8000")

    assert (hit.contact, hit.phone) == (book["boss"], "+86 138-0013-8000")
    assert names(selectors.quick_search(personas.salesperson, "5555-0000")) == ["Harbor Point Logistics"]


def test_a_name_match_offers_the_decision_maker_else_the_customers_own_phone(book, personas):
    [hit] = selectors.quick_search(personas.salesperson, "Point")
    assert (hit.contact, hit.phone) == (book["boss"], "+86 138-0013-8000")

    Contact.objects.filter(pk=book["boss"].pk).update(role=KeyPersonRole.OTHER)
    [hit] = selectors.quick_search(personas.salesperson, "Point")
    assert (hit.contact, hit.phone) == (None, "021-5555-0000")


def test_too_short_and_archived_find_nothing_and_a_nul_is_dropped(book, personas, django_assert_num_queries):
    archive_customer(customer=book["harbor"], by=personas.salesperson, reason="Closed down")

    with django_assert_num_queries(0):
        assert selectors.quick_search(personas.salesperson, " h ") == []
    assert selectors.quick_search(personas.salesperson, "harbor") == []
    # A NUL (which PostgreSQL refuses in a string) is dropped, never a server error.
    assert names(selectors.quick_search(personas.manager, "Harbor\x00side")) == ["Harborside Foods"]


def test_at_most_the_limit(personas):
    bulk_customers(owner=personas.salesperson, count=12, grade=grade("D"), prefix="Dock")

    assert len(selectors.quick_search(personas.salesperson, "dock")) == 8
    assert len(selectors.quick_search(personas.salesperson, "dock", limit=3)) == 3


# --- The page, the fragment, the API --------------------------------------------------------


def test_htmx_gets_the_rows_with_tap_to_call_and_log_call(book, client_as):
    response = client_as("salesperson").get(reverse("crm:quick-search"), {"q": "harbor"}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.count('data-testid="search-result"') == 1
    assert 'href="tel:+8613800138000"' in html
    log_call = reverse("activities:log-activity", args=[book["harbor"].pk]) + "?kind=call"
    assert f'href="{log_call}"' in html
    assert reverse("crm:customer-detail", args=[book["harbor"].pk]) in html


def test_htmx_below_two_characters_gets_nothing_to_show(book, client_as):
    response = client_as("salesperson").get(reverse("crm:quick-search"), {"q": "h"}, **HTMX)

    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_without_htmx_it_is_a_page_showing_owners_to_managers(book, client_as, personas):
    response = client_as("manager").get(reverse("crm:quick-search"), {"q": "harbor"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert html.count('data-testid="search-result"') == 3
    assert personas.teammate.display_name in html
    assert (
        "No customer matches"
        in client_as("manager").get(reverse("crm:quick-search"), {"q": "zzz"}).content.decode()
    )
    assert (
        "Type at least 2 characters."
        in client_as("manager").get(reverse("crm:quick-search")).content.decode()
    )


def test_the_api_answers_typed_rows_and_400_for_bad_input(book, client_as):
    api = client_as("salesperson")

    results = api.get(reverse("quick-search"), {"q": "zhou"}).json()["results"]

    assert results == [
        {
            "id": book["harbor"].pk,
            "name": "Harbor Point Logistics",
            "grade_code": book["harbor"].grade.code,
            "owner": book["harbor"].owner_id,
            "owner_name": book["harbor"].owner.display_name,
            "contact": {
                "id": book["buyer"].pk,
                "name": "Zhou Qiang",
                "role": "user",
                "phone": "139 1111 2222",
            },
            "phone": "139 1111 2222",
        }
    ]
    for bad in ({}, {"q": "h"}, {"q": "x" * 101}, {"q": "ha\x00"}):
        response = api.get(reverse("quick-search"), bad)
        assert response.status_code == 400
        assert set(response.json()) == {"q"}


@pytest.fixture
def reachable(book):
    """A contact on each of the other customers, reachable by name and by phone digits."""
    for n, key in enumerate(("teammate", "sub", "other"), start=1):
        ContactFactory(customer=book[key], name=f"Lin Mei {key}", phone=f"+86 138-0013-800{n}")
    return book


@pytest.mark.parametrize(
    "role, expected",
    [
        ("salesperson", ["harbor"]),
        ("teammate", ["teammate"]),
        ("sub_salesperson", ["sub"]),
        ("manager", ["harbor", "sub", "teammate"]),
        ("other_salesperson", ["other"]),
        ("other_manager", ["other"]),
        ("admin", ["harbor", "other", "sub", "teammate"]),
    ],
)
@pytest.mark.parametrize("q", ["Lin Mei", "0013-800", "harbor"])
def test_the_page_and_the_api_never_return_another_owners_customer(reachable, client_as, role, expected, q):
    """A name prefix, a phone fragment and a contact's name all match every customer of
    the book; each role gets exactly the ones it may see, on the page and from the API."""
    client = client_as(role)
    keys = {customer.pk: key for key, customer in reachable.items() if isinstance(customer, Customer)}

    page = client.get(reverse("crm:quick-search"), {"q": q}, **HTMX)
    api = client.get(reverse("quick-search"), {"q": q}).json()["results"]

    shown = sorted(
        key for pk, key in keys.items() if reverse("crm:customer-detail", args=[pk]) in page.content.decode()
    )
    assert shown == expected
    assert sorted(keys[hit["id"]] for hit in api) == expected


def test_a_two_character_chinese_name_finds_only_what_the_user_may_see(book, personas):
    """Too short for the trigram index: the bigram index (crm migration 0017) serves it."""
    ContactFactory(customer=book["harbor"], name="林军", role=KeyPersonRole.USER)
    ContactFactory(customer=book["other"], name="林军", role=KeyPersonRole.USER)
    CustomerFactory(owner=personas.teammate, name="林军贸易")

    assert [
        (hit.customer.name, hit.contact.name) for hit in selectors.quick_search(personas.salesperson, "林军")
    ] == [("Harbor Point Logistics", "林军")]
    assert names(selectors.quick_search(personas.manager, "林军")) == ["林军贸易", "Harbor Point Logistics"]
    assert names(selectors.quick_search(personas.admin, "林军")) == [
        "林军贸易",
        "Harbor Point Logistics",
        "West Harbor Trading",
    ]


def test_two_letters_match_in_any_case_like_longer_searches(book, personas):
    CustomerFactory(owner=personas.salesperson, name="Qx Tools")
    ContactFactory(customer=book["harbor"], name="Anne Qxy", role=KeyPersonRole.USER)

    assert names(selectors.quick_search(personas.salesperson, "qX")) == ["Qx Tools", "Harbor Point Logistics"]


@pytest.mark.postgres
def test_a_two_character_search_asks_the_bigram_indexes(book, personas):
    """The SQL the search writes is the indexed expression (a small table would be read
    whole anyway: the plan is asked without sequential scans)."""
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://…")
    ids = selectors.customer_ids_matching("林军", personas.salesperson)
    sql, params = ids.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customer_name_bigram_idx" in plan and "contact_name_bigram_idx" in plan


# --- Queries ---------------------------------------------------------------------------------


@pytest.fixture
def grow(personas):
    """``grow(total)``: ``salesperson`` and another team's salesperson at ``total``
    customers each, every one with a contact."""
    state = {"count": 0}

    def grow_to(total: int) -> None:
        start, count = state["count"], total - state["count"]
        for owner, prefix in ((personas.salesperson, "Mine"), (personas.other_salesperson, "Theirs")):
            customers = bulk_customers(owner=owner, count=count, start=start, grade=grade("D"), prefix=prefix)
            Contact.objects.bulk_create(
                [
                    Contact(
                        customer=c,
                        name=f"Buyer {c.pk}",
                        role=KeyPersonRole.DECISION_MAKER,
                        phone=f"1380000{c.pk:04d}",
                        phone_digits=f"1380000{c.pk:04d}",
                    )
                    for c in customers
                ]
            )
        state["count"] = total

    return grow_to


def test_the_search_fragment_runs_the_same_queries_at_two_sizes(grow, client_as, django_assert_num_queries):
    client = signed_in(client_as, "salesperson")

    # 1 session, 2 user, 3 the matching customers (grade and owner joined), 4 their
    # matching contacts and decision makers. (A fragment has no bell.)
    responses = same_queries_for_10_and_1000(
        grow,
        django_assert_num_queries,
        4,
        lambda: client.get(reverse("crm:quick-search"), {"q": "Mine"}, **HTMX),
    )

    assert [r.content.decode().count('data-testid="search-result"') for r in responses] == [8, 8]


def test_the_search_api_runs_the_same_queries_at_two_sizes(grow, client_as, django_assert_num_queries):
    client = signed_in(client_as, "manager")

    # 1 session, 2 user, 3 the team tree, 4 the matching customers, 5 their contacts.
    responses = same_queries_for_10_and_1000(
        grow, django_assert_num_queries, 5, lambda: client.get(reverse("quick-search"), {"q": "Mine"})
    )

    assert [len(r.json()["results"]) for r in responses] == [8, 8]
    assert Customer.objects.filter(name__startswith="Theirs").count() == 1000

"""Bulk actions on the customer list (issue 16: 11): tick rows (or all the filter
matches), then change their tier, export them or take them to the funnel's bulk
reassignment. Only the customers the user may see are ever touched; the tier change is
set-based, keeps one history row per customer, and runs the same queries at any size."""

import csv
import io

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm import filters, selectors, services
from crm.models import Customer, Tier
from crm.tests.factories import CustomerFactory, bulk_customers
from crm.tests.query_counts import signed_in
from funnel.tests.factories import grade

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(personas):
    """Two of ``salesperson``'s (one archived), a teammate's, a sub-team's and another
    team's customer, all at the normal tier."""
    archived = CustomerFactory(owner=personas.salesperson, name="Old Harbor Mill", tier=Tier.NORMAL)
    services.archive_customer(customer=archived, by=personas.salesperson, reason="Closed down")
    return {
        "mine": CustomerFactory(owner=personas.salesperson, name="Harbor Point", tier=Tier.NORMAL),
        "mine_too": CustomerFactory(owner=personas.salesperson, name="Dockside Foods", tier=Tier.NORMAL),
        "archived": archived,
        "teammate": CustomerFactory(owner=personas.teammate, name="Harborside Steel", tier=Tier.NORMAL),
        "sub": CustomerFactory(owner=personas.sub_salesperson, name="North Harbor", tier=Tier.NORMAL),
        "other": CustomerFactory(owner=personas.other_salesperson, name="West Harbor", tier=Tier.NORMAL),
    }


def priority_names() -> list[str]:
    return sorted(Customer.objects.filter(tier=Tier.PRIORITY).values_list("name", flat=True))


def everyone(book) -> Customer:
    return Customer.objects.filter(pk__in=[customer.pk for customer in book.values()])


# --- The service ------------------------------------------------------------------------------


def test_a_salesperson_changes_only_their_own_live_customers_whatever_ids_are_sent(book, personas):
    # when: every id, another team's and an archived one included
    result = services.bulk_change_tier(
        customers=everyone(book), tier=Tier.PRIORITY, by=personas.salesperson, requested=len(book)
    )

    # then
    assert priority_names() == ["Dockside Foods", "Harbor Point"]
    assert (result.changed, result.unchanged, result.skipped) == (2, 0, 4)


@pytest.mark.parametrize(
    "role, expected",
    [
        ("manager", ["Dockside Foods", "Harbor Point", "Harborside Steel", "North Harbor"]),
        ("other_manager", ["West Harbor"]),
        ("teammate", ["Harborside Steel"]),
        ("admin", ["Dockside Foods", "Harbor Point", "Harborside Steel", "North Harbor", "West Harbor"]),
    ],
)
def test_each_role_changes_exactly_what_it_may_see(book, personas, role, expected):
    services.bulk_change_tier(customers=everyone(book), tier=Tier.PRIORITY, by=getattr(personas, role))

    assert priority_names() == expected


def test_each_change_keeps_its_history_like_an_edit_and_twice_changes_nothing(book, personas):
    mine = Customer.objects.filter(pk__in=[book["mine"].pk, book["mine_too"].pk])
    before = Customer.history.count()

    services.bulk_change_tier(customers=mine, tier=Tier.LOW, by=personas.salesperson)
    again = services.bulk_change_tier(customers=mine, tier=Tier.LOW, by=personas.salesperson)

    records = list(Customer.history.order_by("history_id")[before:])
    assert [(r.id, r.tier, r.history_type, r.history_user_id, r.history_change_reason) for r in records] == [
        (book["mine"].pk, Tier.LOW, "~", personas.salesperson.pk, "Bulk tier change"),
        (book["mine_too"].pk, Tier.LOW, "~", personas.salesperson.pk, "Bulk tier change"),
    ]
    assert (again.changed, again.unchanged) == (0, 2)
    # The customer's timeline reads it as any edit: "Tier: Normal → Low".
    [edit] = [
        entry
        for entry in selectors.customer_timeline(book["mine"], selectors.customer_history(book["mine"]))
        if entry.kind == "edit"
    ]
    assert "Tier: Normal → Low" in edit.detail
    assert Customer.objects.get(pk=book["mine"].pk).updated_at >= records[0].history_date


def test_an_unknown_tier_and_too_many_customers_are_refused_whole(book, personas, monkeypatch):
    with pytest.raises(ValidationError):
        services.bulk_change_tier(customers=everyone(book), tier="urgent", by=personas.admin)

    monkeypatch.setattr(services, "BULK_LIMIT", 3)
    with pytest.raises(ValidationError, match="More than 3 customers"):
        services.bulk_change_tier(customers=everyone(book), tier=Tier.PRIORITY, by=personas.admin)
    assert priority_names() == []


# --- The page --------------------------------------------------------------------------------


def post_tier(client, data, query=""):
    return client.post(f"{reverse('crm:customer-bulk-tier')}{query}", data)


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_page_changes_the_ticked_rows_and_ignores_anothers_id(book, client_as):
    response = post_tier(
        client_as("salesperson"),
        {"customer": [book["mine"].pk, book["other"].pk], "tier": Tier.PRIORITY},
        "?tier=normal&page=1",
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("crm:customer-list") + "?tier=normal&page=1"
    assert priority_names() == ["Harbor Point"]
    assert texts(response) == [
        "Tier set to Priority for 1 customer.",
        "1 customer was not changed: it is archived or not yours to edit.",
    ]


def test_all_matching_the_filter_changes_every_visible_match_without_ids(book, client_as):
    response = post_tier(client_as("manager"), {"all_matching": "1", "tier": Tier.LOW}, "?search=harbor")

    assert response.status_code == 302
    assert sorted(Customer.objects.filter(tier=Tier.LOW).values_list("name", flat=True)) == [
        "Harbor Point",
        "Harborside Steel",
        "North Harbor",
    ]
    assert texts(response) == ["Tier set to Low for 3 customers."]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"tier": Tier.PRIORITY}, "Tick at least one customer."),
        ({"customer": ["x"], "tier": Tier.PRIORITY}, "Enter a whole number."),
        ({"customer": ["1", "2", "3", "4"], "tier": Tier.PRIORITY}, "Pick at most 3 customers at once."),
        (
            {"customer": ["1"], "tier": "urgent"},
            "Select a valid choice. urgent is not one of the available choices.",
        ),
    ],
)
def test_bad_input_goes_back_to_the_list_with_the_reason_and_changes_nothing(
    book, client_as, monkeypatch, data, message
):
    monkeypatch.setattr(filters, "BULK_LIMIT", 3)  # 1,000 on the page: Django's own cap on fields
    response = post_tier(client_as("admin"), data)

    assert response.status_code == 302
    assert texts(response) == [message]
    assert priority_names() == []


def test_the_list_offers_the_bar_with_a_labelled_checkbox_per_row(book, client_as):
    html = client_as("manager").get(reverse("crm:customer-list")).content.decode()

    assert 'id="bulk-actions"' in html
    assert html.count('form="bulk-actions" data-bulk-row') == 4
    assert f'value="{book["mine"].pk}" form="bulk-actions"' in html
    assert '<span class="visually-hidden">Select Harbor Point</span>' in html
    assert 'data-testid="bulk-reassign"' in html
    assert "js/bulk_select.js" in html


def test_a_salesperson_gets_no_reassign_nor_export_in_the_bar(book, client_as):
    html = client_as("salesperson").get(reverse("crm:customer-list")).content.decode()

    assert 'data-testid="bulk-change-tier"' in html
    assert 'data-testid="bulk-reassign"' not in html
    assert 'data-testid="bulk-export"' not in html


# --- Export and reassign take the selection -----------------------------------------------------


def test_the_export_takes_only_the_ticked_customers_among_the_visible(book, client_as):
    response = client_as("manager").get(
        reverse("crm:customer-export"),
        {"file_format": "csv", "customer": [book["mine"].pk, book["sub"].pk, book["other"].pk]},
    )

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["Harbor Point", "North Harbor"]


def test_the_bulk_reassign_page_lists_the_selection_ticked(book, client_as):
    response = client_as("manager").get(
        reverse("funnel:bulk-reassign"),
        {"tick": "all", "customer": [book["mine"].pk, book["teammate"].pk, book["other"].pk]},
    )

    html = response.content.decode()
    assert [customer.name for customer in response.context["customers"]] == [
        "Harbor Point",
        "Harborside Steel",
    ]
    assert html.count(" checked") == 2
    # Without ``tick`` nothing is ticked for the manager.
    untouched = client_as("manager").get(reverse("funnel:bulk-reassign"), {"customer": [book["mine"].pk]})
    assert (
        f'name="customers" value="{book["mine"].pk}" id="pick-{book["mine"].pk}" aria-label'
        in untouched.content.decode()
    )


# --- The API ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, changed, skipped",
    [("salesperson", 2, 4), ("teammate", 1, 5), ("manager", 4, 2), ("other_manager", 1, 5), ("admin", 5, 1)],
)
def test_the_api_changes_what_each_role_may_see_and_counts_the_rest(book, client_as, role, changed, skipped):
    response = client_as(role).post(
        reverse("customer-bulk-tier"),
        {"customers": [customer.pk for customer in book.values()], "tier": Tier.PRIORITY},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json() == {"changed": changed, "unchanged": 0, "skipped": skipped}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"customers": [], "tier": "priority"}, "customers"),
        ({"customers": list(range(1, 1002)), "tier": "priority"}, "customers"),
        ({"customers": ["x"], "tier": "priority"}, "customers"),
        ({"customers": [1], "tier": "urgent"}, "tier"),
    ],
)
def test_the_api_answers_bad_input_400_on_the_field(book, client_as, body, field):
    response = client_as("admin").post(reverse("customer-bulk-tier"), body, content_type="application/json")

    assert response.status_code == 400
    assert field in response.json()
    assert priority_names() == []


# --- Queries ---------------------------------------------------------------------------------


def test_the_bulk_change_runs_the_same_queries_for_10_and_for_200_customers(personas, client_as):
    client = signed_in(client_as, "manager")
    counts = []
    for size, prefix in ((10, "Small"), (200, "Large")):
        bulk_customers(owner=personas.salesperson, count=size, grade=grade("D"), prefix=prefix)

        with CaptureQueriesContext(connection) as captured:
            response = post_tier(client, {"all_matching": "1", "tier": Tier.PRIORITY}, f"?search={prefix}")

        assert response.status_code == 302
        assert Customer.objects.filter(name__startswith=prefix, tier=Tier.PRIORITY).count() == size
        counts.append([query["sql"].split()[0] for query in captured.captured_queries])
    # 1 session, 2 user, 3 the team tree, 4 the filtered customers locked and read, 5 the
    # count of those at the tier already, 6 the UPDATE (and the transaction's savepoint).
    # The history rows go in one INSERT through the driver's cursor (``TableWriter``,
    # unlogged); one record per customer is checked above.
    assert counts[0] == counts[1]
    assert [verb for verb in counts[1] if verb not in {"SAVEPOINT", "RELEASE"}] == [
        "SELECT",
        "SELECT",
        "SELECT",
        "SELECT",
        "SELECT",
        "UPDATE",
    ]
    assert Customer.history.filter(history_type="~", tier=Tier.PRIORITY).count() == 210

"""The customer list's rows: formatted once per page in the view (crm.views._rows),
they must read exactly as the template filters wrote them, in both languages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation

from crm.filters import CustomerFilter
from crm.models import Customer, Tier
from crm.templatetags.formatting import money
from crm.tests.factories import bulk_customers
from funnel.tests.factories import grade


@pytest.fixture
def customer(personas) -> Customer:
    [customer] = bulk_customers(owner=personas.salesperson, count=1, grade=grade("D"), prefix="Acme")
    Customer.objects.filter(pk=customer.pk).update(
        tier=Tier.PRIORITY,
        last_activity_at=timezone.now() - timedelta(days=1),
        next_follow_up_on=timezone.localdate() + timedelta(days=9),
    )
    customer.refresh_from_db()
    return customer


@pytest.mark.parametrize(("language", "yesterday"), [("en", "yesterday"), ("zh-hans", "昨天")])
def test_a_row_shows_its_link_grade_tier_values_and_dates(customer, client_as, language, yesterday):
    client = client_as("salesperson")
    client.cookies["django_language"] = language

    html = client.get(reverse("crm:customer-list")).content.decode()

    with translation.override(language):
        follow_up = formats.date_format(customer.next_follow_up_on, "SHORT_DATE_FORMAT")
        tier = str(Tier.PRIORITY.label)
        # Each cell names its column (data-label): on a phone the rows are cards.
        label = {
            name: translation.gettext(name)
            for name in ("Tier", "Expected value", "Weighted value", "Next follow-up")
        }
    expected, weighted = money(customer.expected_value), money(customer.weighted_value)
    last_activity = timezone.localtime(customer.last_activity_at).isoformat()
    assert f'<a href="{reverse("crm:customer-detail", args=[customer.pk])}">{customer.name}</a>' in html
    assert 'class="badge grade-badge grade-D"' in html
    assert f'<td data-label="{label["Tier"]}">{tier}</td>' in html
    assert f'<td class="num" data-label="{label["Expected value"]}">{expected}</td>' in html
    assert f'<td class="num" data-label="{label["Weighted value"]}">{weighted}</td>' in html
    assert f'<time datetime="{last_activity}">{yesterday}</time>' in html
    assert f'<td data-label="{label["Next follow-up"]}">{follow_up}</td>' in html


def test_a_row_without_activity_or_follow_up_shows_dashes(personas, client_as):
    bulk_customers(owner=personas.salesperson, count=1, grade=grade("E"))

    html = client_as("salesperson").get(reverse("crm:customer-list")).content.decode()

    assert html.count('data-label="Last activity">—</td>') == 1
    assert html.count('data-label="Next follow-up">—</td>') == 1


def test_the_chosen_owner_is_selected_in_the_filter(personas, client_as):
    html = (
        client_as("manager")
        .get(reverse("crm:customer-list"), {"owner": personas.teammate.pk})
        .content.decode()
    )

    assert f'<option value="{personas.teammate.pk}" selected>' in html
    assert f'<option value="{personas.salesperson.pk}">' in html


def test_the_rows_reverse_no_url_each(personas, client_as, url_reversals):
    """Reversing a URL costs about as much as the rest of a row: a page of 50 rows links
    them from one reversal."""
    client = client_as("salesperson")
    counts = []
    for count in (1, 20):
        bulk_customers(owner=personas.salesperson, count=count, grade=grade("D"), prefix=f"Rows{count}")
        url_reversals.clear()
        assert client.get(reverse("crm:customer-list")).status_code == 200
        counts.append(len(url_reversals))

    assert counts[0] == counts[1]


@pytest.mark.parametrize(
    ("ordering", "name_header", "weighted_header"),
    [
        ("name", 'ordering=-name">Name ▲', 'ordering=weighted_value">Weighted value<'),
        ("-name", 'ordering=name">Name ▼', 'ordering=weighted_value">Weighted value<'),
        ("-weighted_value", 'ordering=name">Name<', 'ordering=weighted_value">Weighted value ▼'),
    ],
)
def test_a_sort_header_keeps_the_filters_drops_the_page_and_toggles_the_order(
    personas, client_as, ordering, name_header, weighted_header
):
    bulk_customers(owner=personas.salesperson, count=1, grade=grade("D"), prefix="Acme")

    html = (
        client_as("salesperson")
        .get(
            reverse("crm:customer-list"),
            {"search": "Acme", "x<y": "a b&c", "page": "1", "ordering": ordering},
        )
        .content.decode()
    )

    kept = "?search=Acme&amp;x&lt;y=a%20b%26c&amp;"
    assert f'href="{kept}{name_header}' in html
    assert f'href="{kept}{weighted_header}' in html


@pytest.mark.parametrize(
    ("ordering", "order_by"),
    [
        ("last_activity", ("last_activity_at", "pk")),
        ("-last_activity", ("-last_activity_at", "pk")),
        ("grade,-tier", ("grade__order", "-tier", "pk")),
    ],
)
def test_rows_that_tie_on_the_sort_column_are_ordered_by_id(personas, ordering, order_by):
    """Otherwise the database may return tied rows in any order, and paging skips or repeats them."""
    filterset = CustomerFilter({"ordering": ordering}, queryset=Customer.objects.all())

    assert filterset.qs.query.order_by == order_by

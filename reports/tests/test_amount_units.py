"""Amounts on pages (issue 16, item 7): in Chinese in 万 / 亿, in English in full with
thousands separators — the same customer on the funnel dashboard, the customer list and
the customer page. Exports keep the full number in both languages."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.tests.factories import CustomerFactory, OrderFactory
from funnel.tests.factories import grade


@pytest.fixture
def big_prospect(personas):
    """¥617,283,950 a year at D (20 %): ¥123,456,790 weighted; one order of ¥1,234,567."""
    customer = CustomerFactory(
        owner=personas.salesperson,
        name="Northwind Ltd",
        grade=grade("D"),
        expected_value=Decimal(617_283_950),
    )
    OrderFactory(customer=customer, amount=Decimal("1234567.00"))
    return customer


def _client_in(client_as, language: str, role: str = "salesperson"):
    """A signed-in client with the language picked as the menu does (the cookie)."""
    client = client_as(role)
    client.cookies["django_language"] = language
    return client


@pytest.mark.parametrize(
    ("language", "expected", "weighted", "order"),
    [
        ("en", "¥617,283,950", "¥123,456,790", "¥1,234,567"),
        ("zh-hans", "¥6.17亿", "¥1.23亿", "¥123.46万"),
    ],
)
def test_every_page_shows_amounts_in_the_languages_units(
    big_prospect, client_as, language, expected, weighted, order
):
    client = _client_in(client_as, language)

    dashboard = client.get(reverse("reports:funnel")).content.decode()
    listing = client.get(reverse("crm:customer-list")).content.decode()
    detail = client.get(reverse("crm:customer-detail", args=[big_prospect.pk])).content.decode()

    assert f'data-testid="quota">{weighted}</td>' in dashboard
    assert f'<td class="num">{expected}</td>' in dashboard
    assert expected in listing and weighted in listing
    assert f'data-testid="weighted-value">{weighted}</dd>' in detail
    assert order in detail  # the order on the timeline and in the orders table
    if language == "en":
        assert "万" not in dashboard + listing + detail


def test_the_export_keeps_full_numbers_in_chinese(big_prospect, client_as):
    client = _client_in(client_as, "zh-hans", role="manager")

    response = client.get(reverse("crm:customer-export"), {"file_format": "csv"})

    text = response.content.decode("utf-8-sig")
    assert "617283950" in text and "万" not in text and "亿" not in text
    assert len(list(csv.reader(io.StringIO(text)))) == 2

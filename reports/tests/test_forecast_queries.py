"""The forecast pages and API run the same number of SQL queries with few and with many
customers, snapshots and orders: grouped aggregates, never a query per row."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import ForecastCategory
from crm.models import Customer, Order
from crm.tests.factories import bulk_customers
from funnel.tests.factories import grade
from reports.models import ForecastSnapshot
from reports.periods import today, week_start
from reports.selectors.forecast import forecast_periods

pytestmark = pytest.mark.django_db

CODES = ["E", "D", "C", "B", "A"]


def grow(personas, count: int, start: int) -> None:
    """``count`` more customers per East salesperson signing across the forecast's
    periods, with an order and a few weekly snapshots each."""
    periods = forecast_periods(today())
    for person in (personas.salesperson, personas.teammate, personas.sub_salesperson):
        for code in CODES:
            created = bulk_customers(
                owner=person, count=count, grade=grade(code), prefix=f"F{code}", start=start
            )
            ids = [customer.pk for customer in created]
            for n, pk in enumerate(ids):
                Customer.objects.filter(pk=pk).update(
                    expected_signing_on=periods[n % 4].start + timedelta(days=n % 20),
                    forecast_category=ForecastCategory.COMMIT if n % 3 == 0 else "",
                )
            Order.objects.bulk_create(
                [Order(customer_id=pk, owner=person, amount=Decimal(1000), signed_on=today()) for pk in ids]
            )
            ForecastSnapshot.objects.bulk_create(
                [
                    ForecastSnapshot(
                        week_start=week_start(today()) - timedelta(weeks=weeks),
                        customer_id=pk,
                        owner=person,
                        category=ForecastCategory.COMMIT,
                        expected_signing_on=today() + timedelta(days=weeks * 10),
                        expected_value=Decimal(1000),
                        weighted_value=Decimal(800),
                    )
                    for pk in ids
                    for weeks in (1, 2)
                ]
            )


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(queries)


PAGES = {
    "page": reverse("reports:forecast"),
    "drill-down": reverse("reports:forecast") + "?period=2&category=commit",
    "accuracy": reverse("reports:forecast-accuracy"),
    "api": "/api/reports/forecast/?period=2&category=commit",
    "api accuracy": "/api/reports/forecast-accuracy/",
}


# Per role: page, drill-down, accuracy page, API (with a drill-down), accuracy API.
# The page as a manager (14): session, user, their team tree, the scope's people, open
# customers grouped by (owner, category), orders grouped by owner, adjustments, the scope's
# targets, the people's and teams' targets, the picker's people and teams, the weekly
# snapshots grouped, the moved customers of the latest snapshot, the unread notifications.
# An admin's company view lists its teams without the moves (−2); a salesperson has no
# picker (−2). The drill-down adds its customers.
EXPECTED = {
    "salesperson": {"page": 12, "drill-down": 13, "accuracy": 7, "api": 9, "api accuracy": 5},
    "manager": {"page": 14, "drill-down": 15, "accuracy": 9, "api": 10, "api accuracy": 6},
    "admin": {"page": 12, "drill-down": 13, "accuracy": 8, "api": 9, "api accuracy": 5},
}


@pytest.mark.parametrize("role", ["salesperson", "manager", "admin"])
def test_forecast_queries_do_not_grow_with_the_data(personas, client_as, role):
    client = client_as(role)
    grow(personas, 2, 0)
    for url in PAGES.values():
        count(client, url)  # warm the per-process caches
    small = {name: count(client, url) for name, url in PAGES.items()}
    grow(personas, 40, 2)
    large = {name: count(client, url) for name, url in PAGES.items()}
    assert small == EXPECTED[role]
    assert large == small

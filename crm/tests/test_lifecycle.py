"""Lifecycle stages (客户生命周期): the one rule from order dates, kept by order events
and the nightly sweep with a history of every move, filtered in the list and the API,
counted on the dashboard, and seen only by those who see the customer."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm import services, tasks
from crm.lifecycle import LifecycleRule, lifecycle_stage
from crm.models import CrmSettings, Customer, Lifecycle, LifecycleChange, LifecycleReason, Order
from crm.tests.factories import CustomerFactory, OrderFactory
from reports import selectors as report_selectors

pytestmark = pytest.mark.django_db

P, F, R, L = Lifecycle.PROSPECT, Lifecycle.FIRST_PURCHASE, Lifecycle.REPEAT, Lifecycle.LOYAL
RULE = LifecycleRule()
ON = date(2027, 5, 15)  # Q2 2027: the last four quarters are Q3 2026 … Q2 2027


# --- The rule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("orders", "expected"),
    [
        ([], P),
        ([date(2027, 5, 16)], P),  # dated ahead: counts from its day
        ([date(2027, 5, 15)], F),
        ([date(2026, 9, 1)], F),
        # A second order within the window (365 days) of the one before: repeat.
        ([date(2027, 1, 10), date(2027, 1, 20)], R),
        ([date(2026, 6, 10), date(2027, 5, 10)], R),  # 334 days apart
        ([date(2026, 5, 15), date(2027, 5, 15)], R),  # exactly 365 days apart
        ([date(2026, 5, 14), date(2027, 5, 15)], F),  # 366 days apart
        ([date(2027, 1, 10), date(2027, 5, 16)], F),  # the second not signed yet
        # Orders in 3 of the last 4 quarters: loyal; 2 of them or 3 reaching further back: repeat.
        ([date(2026, 8, 1), date(2026, 11, 1), date(2027, 4, 1)], L),
        ([date(2026, 10, 1), date(2027, 1, 5), date(2027, 5, 1)], L),
        ([date(2026, 7, 1), date(2026, 10, 1), date(2027, 2, 1), date(2027, 5, 1)], L),
        ([date(2027, 1, 5), date(2027, 2, 5), date(2027, 5, 1)], R),
        ([date(2026, 5, 1), date(2026, 8, 1), date(2027, 4, 1)], R),
        # No order for twelve months: a repeat or loyal customer falls back to first purchase.
        ([date(2025, 1, 1), date(2025, 2, 1), date(2026, 5, 15)], F),
        ([date(2026, 5, 1), date(2026, 5, 16)], R),  # twelve months less a day
        ([date(2026, 4, 1), date(2026, 5, 15)], F),  # twelve months to the day
    ],
)
def test_the_stage_from_the_order_dates(orders, expected):
    assert lifecycle_stage(orders, on=ON, rule=RULE) == expected
    assert lifecycle_stage(reversed(orders), on=ON, rule=RULE) == expected  # order of input does not matter


def test_a_loyal_customer_whose_orders_stop_falls_back_step_by_step():
    orders = [date(2026, 8, 1), date(2026, 11, 1), date(2027, 2, 1)]  # Q3, Q4 2026, Q1 2027

    assert [lifecycle_stage(orders, on=day, rule=RULE) for day in (date(2027, 3, 1), date(2027, 6, 1))] == [
        L,
        L,
    ]
    assert lifecycle_stage(orders, on=date(2027, 7, 1), rule=RULE) == R  # Q3 2026 rolled out
    assert lifecycle_stage(orders, on=date(2028, 2, 1), rule=RULE) == F  # a year without an order


def test_the_rule_is_the_company_settings():
    orders = [date(2027, 2, 1), date(2027, 4, 1)]
    strict = LifecycleRule(repeat_window_days=30, loyal_quarters=2, loyal_of_quarters=2, fall_back_months=3)

    assert lifecycle_stage(orders, on=ON, rule=strict) == L  # 2 of the last 2 quarters
    assert lifecycle_stage(orders[:1] + [date(2027, 1, 20)], on=ON, rule=strict) == F  # no order for 3 months
    assert lifecycle_stage([date(2027, 4, 1), date(2027, 5, 10)], on=ON, rule=strict) == F  # 39 days apart
    settings_row = CrmSettings.load()
    settings_row.lifecycle_loyal_quarters, settings_row.lifecycle_loyal_of_quarters = 2, 2
    assert LifecycleRule.of(settings_row) == LifecycleRule(loyal_quarters=2, loyal_of_quarters=2)


def test_more_quarters_with_orders_than_looked_at_is_refused():
    settings_row = CrmSettings.load()
    settings_row.lifecycle_loyal_quarters = 5

    with pytest.raises(Exception, match="quarters"):
        settings_row.full_clean()


# --- Order events ------------------------------------------------------------------------


@pytest.fixture
def customer(personas):
    return CustomerFactory(owner=personas.salesperson, name="Northwind Ltd")


def _moves(customer) -> list[tuple]:
    return list(
        LifecycleChange.objects.filter(customer=customer)
        .order_by("pk")
        .values_list("from_stage", "to_stage", "reason")
    )


def test_one_order_makes_a_first_purchase_and_a_second_within_the_window_a_repeat(personas, customer):
    today = timezone.localdate()

    OrderFactory(customer=customer, signed_on=today - timedelta(days=40))
    customer.refresh_from_db()
    assert customer.lifecycle == F
    OrderFactory(customer=customer, signed_on=today)
    customer.refresh_from_db()
    assert (customer.order_count, customer.lifecycle) == (2, R)
    OrderFactory(customer=customer, signed_on=today)  # no move, no row

    assert _moves(customer) == [(P, F, LifecycleReason.ORDER), (F, R, LifecycleReason.ORDER)]


def test_a_merge_recomputes_the_kept_customer_and_leaves_the_duplicate_its_history(personas, customer):
    duplicate = CustomerFactory(owner=personas.salesperson, name="Acme Widgets")
    OrderFactory(customer=customer)
    OrderFactory(customer=duplicate)

    services.merge_customers(keep=customer, merge=duplicate, by=personas.manager)

    customer.refresh_from_db()
    assert (customer.order_count, customer.lifecycle) == (2, R)
    assert _moves(customer)[-1] == (F, R, LifecycleReason.ORDER)
    assert _moves(duplicate) == [(P, F, LifecycleReason.ORDER)]


# --- The nightly sweep -------------------------------------------------------------------


def _orders_without_events(customer, *days: date) -> None:
    """Orders written as an import or a rule change leaves them: the stage not moved yet."""
    Order.objects.bulk_create(
        [Order(customer=customer, owner=customer.owner, amount=Decimal(100), signed_on=day) for day in days]
    )
    Customer.objects.filter(pk=customer.pk).update(order_count=len(days))


def test_the_nightly_sweep_moves_to_loyal_and_back_down_with_history(customer):
    _orders_without_events(customer, date(2026, 8, 1), date(2026, 11, 1), date(2027, 4, 1))

    first = services.refresh_lifecycles(on=ON)
    again = services.refresh_lifecycles(on=ON)

    customer.refresh_from_db()
    assert customer.lifecycle == L
    assert (first.moved, again.moved) == (1, 0)
    # Fourteen months on, with no order since: back to first purchase.
    assert services.refresh_lifecycles(on=date(2028, 6, 1)).moved == 1
    customer.refresh_from_db()
    assert customer.lifecycle == F
    assert _moves(customer) == [(P, L, LifecycleReason.NIGHTLY), (L, F, LifecycleReason.NIGHTLY)]


def test_the_nightly_task_is_idempotent_and_leaves_prospects_and_archived_customers(personas, customer):
    CustomerFactory(owner=personas.salesperson, name="Contoso")
    archived = CustomerFactory(owner=personas.salesperson, name="Fabrikam")
    _orders_without_events(customer, date(2027, 1, 10), date(2027, 2, 10))
    _orders_without_events(archived, date(2027, 1, 10), date(2027, 2, 10))
    services.archive_customer(customer=archived, by=personas.salesperson)

    assert tasks.refresh_lifecycles(on=ON.isoformat()) == 1
    assert tasks.refresh_lifecycles(on=ON.isoformat()) == 0

    stages = dict(Customer.objects.values_list("name", "lifecycle"))
    assert stages == {"Northwind Ltd": R, "Contoso": P, "Fabrikam": P}
    assert LifecycleChange.objects.count() == 1


def test_the_nightly_sweep_runs_the_same_queries_for_5_and_50_customers(personas):
    CrmSettings.load()
    counts, made = [], 0
    for total in (5, 50):
        for n in range(made, total):
            customer = CustomerFactory(owner=personas.salesperson, name=f"Buyer {n}")
            _orders_without_events(customer, date(2027, 1, 10), date(2027, 2, 10))
        made = total
        with CaptureQueriesContext(connection) as queries:
            services.refresh_lifecycles(on=ON, batch_size=100)
        counts.append(len(queries))
    # 1 the settings row; the batch: 2 its savepoint (the test runs in a transaction),
    # 3 the customers locked, 4 their order dates, 5 one UPDATE for the one stage reached,
    # 6 one insert of the history rows, 7 the savepoint released; 8-10 the same for the
    # empty batch that ends the sweep (savepoint, customers, release).
    assert counts == [10, 10], counts
    assert LifecycleChange.objects.count() == Customer.objects.filter(lifecycle=R).count() == 50


def test_a_batch_smaller_than_the_customers_moves_them_all(personas):
    for n in range(7):
        customer = CustomerFactory(owner=personas.salesperson, name=f"Buyer {n}")
        _orders_without_events(customer, date(2027, 1, 10))

    result = services.refresh_lifecycles(on=ON, batch_size=3)

    assert (result.checked, result.moved) == (7, 7)
    assert set(Customer.objects.values_list("lifecycle", flat=True)) == {F}


# --- List, API, page and dashboard -------------------------------------------------------


@pytest.fixture
def stages(personas):
    """A repeat customer of the salesperson's, one of the teammate's, and a first
    purchase of another team's salesperson."""
    today = timezone.localdate()
    mine = CustomerFactory(owner=personas.salesperson, name="Mine Repeat")
    theirs = CustomerFactory(owner=personas.teammate, name="Teammate Repeat")
    other = CustomerFactory(owner=personas.other_salesperson, name="West First")
    for customer in (mine, mine, theirs, theirs, other):
        OrderFactory(customer=customer, signed_on=today)
    return {"mine": mine, "theirs": theirs, "other": other}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("salesperson", {"Mine Repeat"}),
        ("manager", {"Mine Repeat", "Teammate Repeat"}),
        ("other_manager", set()),
        ("admin", {"Mine Repeat", "Teammate Repeat"}),
    ],
)
def test_the_api_and_the_list_filter_by_stage_within_what_one_sees(stages, client_as, role, expected):
    client = client_as(role)

    api = client.get(reverse("customer-list"), {"lifecycle": "repeat"})
    page = client.get(reverse("crm:customer-list"), {"lifecycle": "repeat"})

    assert {row["name"] for row in api.json()["results"]} == expected
    assert {row["lifecycle"] for row in api.json()["results"]} <= {"repeat"}
    assert {customer.name for customer in page.context["customers"]} == expected


def test_an_unknown_stage_is_a_400(client_as):
    assert client_as("salesperson").get(reverse("customer-list"), {"lifecycle": "vip"}).status_code == 400


def test_the_page_shows_the_stage_and_its_last_move_to_those_who_see_the_customer(stages, client_as):
    url = reverse("crm:customer-detail", args=[stages["mine"].pk])

    page = client_as("salesperson").get(url)

    assert page.status_code == 200
    assert page.context["customer"].get_lifecycle_display() == "Repeat"
    assert page.context["lifecycle_was"] == "First purchase"
    assert "was First purchase" in page.content.decode()
    assert client_as("other_salesperson").get(url).status_code == 404


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("salesperson", {"Mine Repeat"}),
        ("teammate", {"Teammate Repeat"}),
        ("manager", {"Mine Repeat", "Teammate Repeat"}),
        ("other_salesperson", {"West First"}),
        ("admin", {"Mine Repeat", "Teammate Repeat", "West First"}),
    ],
)
def test_the_history_api_lists_the_moves_of_visible_customers_only(stages, client_as, role, expected):
    names = {
        customer.pk: name
        for name, customer in zip(
            ("Mine Repeat", "Teammate Repeat", "West First"), stages.values(), strict=True
        )
    }

    response = client_as(role).get(reverse("lifecyclechange-list"))

    assert {names[row["customer"]] for row in response.json()["results"]} == expected
    if role == "salesperson":
        assert [
            (row["from_stage"], row["to_stage"], row["reason"]) for row in response.json()["results"]
        ] == [
            ("first_purchase", "repeat", "order"),
            ("prospect", "first_purchase", "order"),
        ]


def test_the_list_shows_the_stage(stages, client_as):
    page = client_as("salesperson").get(reverse("crm:customer-list"))

    assert [row["lifecycle"] for row in page.context["rows"]] == ["Repeat"]


def test_the_dashboard_counts_customers_per_stage_per_salesperson_and_team(personas, stages):
    CustomerFactory(owner=personas.salesperson, name="Still A Prospect")

    team = report_selectors.funnel_dashboard(report_selectors.resolve_scope(personas.manager))
    company = report_selectors.funnel_dashboard(report_selectors.resolve_scope(personas.admin))

    per_person = {row.person.username: row.stages for row in team.people}
    assert per_person["salesperson"] == {P: 1, F: 0, R: 1, L: 0}
    assert per_person["teammate"] == {P: 0, F: 0, R: 1, L: 0}
    assert team.stages == {P: 1, F: 0, R: 2, L: 0}
    assert company.stages == {P: 1, F: 1, R: 2, L: 0}
    per_team = {row.team.name if row.team else None: row.stages for row in company.teams}
    assert per_team[personas.other_salesperson.team.name] == {P: 0, F: 1, R: 0, L: 0}


def test_the_dashboard_page_and_api_show_the_stage_counts(stages, client_as):
    client = client_as("manager")

    page = client.get(reverse("reports:funnel"))
    api = client.get(reverse("report-funnel"))

    assert page.status_code == 200
    assert 'data-testid="lifecycle"' in page.content.decode()
    assert api.json()["stages"] == {"prospect": 0, "first_purchase": 0, "repeat": 2, "loyal": 0}
    salesperson = next(row for row in api.json()["people"] if row["id"] == stages["mine"].owner_id)
    assert salesperson["stages"]["repeat"] == 1

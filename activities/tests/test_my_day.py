""" "My day", the start page, and the lists: what they show, in which order, and a number
of SQL queries that does not grow with the data."""

import itertools
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import selectors, services
from activities.models import Purpose
from crm.models import Customer, Tier
from crm.tests.factories import CustomerFactory, bulk_customers
from funnel.models import HandoverKind, HandoverStatus, HandoverStep, HandoverTask, StagnationAlert
from funnel.services import reassign_customer
from funnel.tests.factories import grade

from .factories import bulk_activities, log_call, submitted_plan

TODAY = timezone.localdate


def _due(owner, days_ago, **fields):
    customer = CustomerFactory(owner=owner, **fields)
    Customer.objects.filter(pk=customer.pk).update(next_follow_up_on=TODAY() - timedelta(days=days_ago))
    return customer


def test_my_day_is_the_home_page(client_as):
    response = client_as("salesperson").get(reverse("home"))

    assert response.status_code == 200
    assert response.templates[0].name == "activities/my_day.html"


def test_follow_ups_due_today_and_overdue_oldest_first_with_days_overdue(client_as, personas):
    owner = personas.salesperson
    today_due = _due(owner, 0, name="Due Today Co")
    week_late = _due(owner, 7, name="Week Late Co")
    day_late = _due(owner, 1, name="Day Late Co")
    _due(owner, -1, name="Tomorrow Co")
    _due(personas.teammate, 3, name="Not Mine Co")

    response = client_as("salesperson").get(reverse("home"))

    follow_ups = response.context["day"].follow_ups
    assert [c.name for c in follow_ups] == [week_late.name, day_late.name, today_due.name]
    assert [c.days_overdue for c in follow_ups] == [7, 1, 0]
    html = response.content.decode()
    assert "7 days overdue" in html and "1 day overdue" in html and "due today" in html
    assert 'class="over-limit" data-testid="overdue"' in html  # red


def test_cadence_due_with_priority_first(client_as, personas):
    owner = personas.salesperson
    normal = CustomerFactory(owner=owner, tier=Tier.NORMAL, name="Normal Never Co")
    priority = CustomerFactory(owner=owner, tier=Tier.PRIORITY, name="Priority Co")

    response = client_as("salesperson").get(reverse("home"))

    assert response.context["day"].cadence == [priority, normal]
    assert "never called" in response.content.decode()


def test_todays_plan_shows_its_items_with_one_click_logging(client_as, personas):
    customer = CustomerFactory(owner=personas.salesperson, name="Planned Co")
    plan = submitted_plan(personas.salesperson, customer)
    item = plan.items.get()

    response = client_as("salesperson").get(reverse("home"))

    html = response.content.decode()
    assert response.context["day"].plan == plan
    assert f'id="plan-{item.pk}"' in html
    assert f'hx-target="#slot-plan-{item.pk}"' in html
    assert reverse("activities:log-activity", args=[customer.pk]) + "?kind=call&amp;purpose=service" in html


def test_a_manager_gets_their_own_day_and_what_waits_for_review(client_as, personas):
    submitted_plan(personas.salesperson, CustomerFactory(owner=personas.salesperson))
    mine = CustomerFactory(owner=personas.manager, name="Manager Own Co")
    Customer.objects.filter(pk=mine.pk).update(next_follow_up_on=TODAY())

    response = client_as("manager").get(reverse("home"))

    assert response.context["day"].follow_ups == [mine]
    assert response.context["day"].pending_reviews == 1
    assert reverse("activities:approvals") in response.content.decode()


def test_salespeople_get_no_review_block(client_as):
    response = client_as("salesperson").get(reverse("home"))

    assert response.context["day"].pending_reviews is None
    assert 'data-testid="pending-reviews"' not in response.content.decode()


def test_logging_from_a_row_takes_it_out_of_the_follow_ups(client_as, personas):
    customer = _due(personas.salesperson, 2)
    log_call(customer)

    assert client_as("salesperson").get(reverse("home")).context["day"].follow_ups == []


def test_handover_tasks_and_alerts_are_on_my_day_and_a_call_completes_the_task(client_as, personas):
    customer = CustomerFactory(owner=personas.teammate, name="Handed Over Co")
    HandoverStep.objects.create(
        grade=customer.grade, kind=HandoverKind.PHONE, due_in_days=5, description="Call within 5 days"
    )
    reassign_customer(
        customer=customer, new_owner=personas.salesperson, by=personas.manager, reason="Rebalance"
    )
    stuck = CustomerFactory(owner=personas.salesperson, name="Stuck Co")
    StagnationAlert.objects.create(
        customer=stuck,
        grade=stuck.grade,
        owner=personas.salesperson,
        grade_entered_at=stuck.grade_entered_at,
        raised_on=TODAY(),
        stagnant_from=timezone.now() - timedelta(days=2),
    )
    client = client_as("salesperson")

    html = client.get(reverse("home")).content.decode()
    log_call(Customer.objects.get(pk=customer.pk), by=personas.salesperson)

    assert 'data-testid="block-handover"' in html and "Call within 5 days" in html
    assert 'data-testid="block-alerts"' in html and "Stuck Co" in html
    assert not HandoverTask.objects.filter(
        customer=customer, owner=personas.salesperson, kind=HandoverKind.PHONE, status=HandoverStatus.OPEN
    ).exists()
    assert "Call within 5 days" not in client.get(reverse("home")).content.decode()


def test_the_api_my_day(client_as, personas):
    overdue = _due(personas.salesperson, 2, tier=Tier.PRIORITY)

    data = client_as("salesperson").get(reverse("my-day")).json()

    assert data["today"] == TODAY().isoformat()
    assert [(row["id"], row["days_overdue"]) for row in data["follow_ups"]] == [(overdue.pk, 2)]
    assert data["cadence"][0]["call_due"] is True
    assert data["plan"] is None and data["pending_reviews"] is None


def test_each_block_shows_at_most_fifty_rows_and_says_there_are_more(personas):
    bulk_customers(owner=personas.salesperson, count=60, grade=grade("E"))
    Customer.objects.update(next_follow_up_on=TODAY())

    day = selectors.my_day(personas.salesperson)

    assert len(day.follow_ups) == 50 and day.follow_ups_more
    assert len(day.cadence) == 50 and day.cadence_more


# --- Query counts: constant whatever the data --------------------------------------------

_batches = itertools.count()


def _fill(owner, count):
    customers = bulk_customers(owner=owner, count=count, grade=grade("E"), prefix=f"Load{next(_batches)}")
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(next_follow_up_on=TODAY())
    bulk_activities(customers, owner=owner, per_customer=2)
    plan = services.open_plan(by=owner, day=TODAY())
    for customer in customers[:5]:
        services.add_plan_item(plan=plan, by=owner, customer=customer, purpose=Purpose.SERVICE)
    return customers


@pytest.mark.parametrize("role", ["salesperson", "manager"])
def test_my_day_queries_do_not_grow(client_as, personas, role, django_assert_max_num_queries):
    client = client_as(role)
    owner = personas.user(role)
    _fill(owner, 5)
    # session, user, follow-ups, cadence rules, cadence due, plan, its items, report,
    # today's counts, handover tasks, alerts, the visits joined today (陪同拜访), open
    # action items (reports' meetings), activity targets (reports' progress provider),
    # [manager: team tree, 2 pending counts], the bell; saving the session (3)
    limit = 18 if role == "salesperson" else 21
    with django_assert_max_num_queries(limit):
        assert client.get(reverse("home")).status_code == 200
    _fill(owner, 200)
    with django_assert_max_num_queries(limit):
        assert client.get(reverse("home")).status_code == 200


@pytest.mark.parametrize(
    "url_name, query",
    [
        ("activities:activity-list", {}),
        ("activities:activity-list", {"kind": "call", "ordering": "customer"}),
        ("activity-list", {}),
        ("dailyplan-list", {}),
        ("dailyreport-list", {}),
        ("marketreport-list", {}),
        ("notification-list", {}),
        ("my-day", {}),
        ("activities:plans", {}),
        ("activities:market-report-list", {}),
        ("activities:notifications", {}),
    ],
)
def test_lists_keep_a_constant_number_of_queries(
    client_as, personas, url_name, query, django_assert_max_num_queries
):
    manager = client_as("manager")

    def grow(count, days_ahead):
        for person in (personas.salesperson, personas.teammate):
            customers = _fill(person, count)
            services.file_market_report(
                by=person, kind="market", title="News", body="Prices up", customer=customers[0]
            )
            plan = services.open_plan(by=person, day=TODAY() + timedelta(days=days_ahead))
            services.add_plan_item(plan=plan, by=person, customer=customers[-1], purpose=Purpose.ORDER)
            services.submit_plan(plan=plan, by=person)
            report = services.open_report(by=person, day=TODAY() - timedelta(days=days_ahead))
            services.submit_report(report=report, by=person)

    grow(5, days_ahead=1)
    # Each list: session, user, the team tree, the count, the page (joins), its prefetches
    # (plan items, review events), the bell, saving the session — at most 16, and then
    # exactly as many again with eight times the rows.
    with django_assert_max_num_queries(16) as small:
        assert manager.get(reverse(url_name), query).status_code == 200
    for days in range(2, 6):
        grow(40, days_ahead=days)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert manager.get(reverse(url_name), query).status_code == 200

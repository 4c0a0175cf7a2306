""" "My day" stays live (issue 16: 8): an inline log answers, out of band, today's counts,
the due blocks' counts and the customer's other rows (the plan item done, a due row
updated or removed), so nothing needs a reload."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Purpose
from crm.models import Customer
from crm.tests.factories import CustomerFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def _overdue(customer: Customer, **fields) -> Customer:
    Customer.objects.filter(pk=customer.pk).update(
        next_follow_up_on=timezone.localdate() - timedelta(days=2), **fields
    )
    return customer


def _log_call(client, customer, row, **extra):
    return client.post(
        reverse("activities:log-activity", args=[customer.pk]),
        {
            "row": row,
            "kind": "call",
            "purpose": "service",
            "call_stage": "2",
            "next_follow_up_on": (timezone.localdate() + timedelta(days=7)).isoformat(),
            **extra,
        },
        **HTMX,
    )


def test_an_inline_log_updates_the_counts_the_plan_item_and_the_other_rows(client_as, personas):
    owner = personas.salesperson
    # Due three ways: on today's plan, an overdue follow-up, never called nor visited.
    customer = _overdue(CustomerFactory(owner=owner, name="Harbor Point"))
    plan = services.open_plan(by=owner, day=timezone.localdate())
    item = services.add_plan_item(plan=plan, by=owner, customer=customer, purpose=Purpose.SERVICE)
    # Due for a call only (visited just now), and an overdue follow-up that stays due.
    called_only = _overdue(CustomerFactory(owner=owner, name="Blue Sky"), last_visit_at=timezone.now())
    _overdue(CustomerFactory(owner=owner, name="Still Due"))
    client = client_as("salesperson")

    page = client.get(reverse("home")).content.decode()
    first = _log_call(
        client,
        customer,
        f"follow-{customer.pk}",
        myday="1",
        rows=[f"plan-{item.pk}", f"cadence-{customer.pk}", "not a row", f"follow-{customer.pk}"],
    )
    second = _log_call(
        client, called_only, f"follow-{called_only.pk}", myday="1", rows=[f"cadence-{called_only.pk}"]
    )

    assert 'id="day-progress"' in page and 'id="follow-count"' in page
    html = first.content.decode()
    assert first.status_code == 200 and "data-logged" in html
    assert '<div id="day-progress" hx-swap-oob="true">' in html and "1 call" in html
    # Two follow-ups left due, and three customers still due by cadence (one for a visit now).
    assert '<span class="badge text-bg-secondary" id="follow-count" hx-swap-oob="true">2</span>' in html
    plan_row = f'id="plan-{item.pk}" data-testid="myday-row" data-customer="{customer.pk}" hx-swap-oob="true"'
    assert plan_row in html
    assert ">done<" in html
    assert f'id="cadence-{customer.pk}" data-testid="myday-row"' in html and "Visit due" in html
    assert html.count("hx-swap-oob") == 5  # progress, two counts, the plan row, the cadence row
    # Called: no longer due by cadence, its row goes; the counts say two calls now.
    later = second.content.decode()
    assert f'<li id="cadence-{called_only.pk}" hx-swap-oob="delete"></li>' in later
    assert "2 calls" in later
    assert '<span class="badge text-bg-secondary" id="follow-count" hx-swap-oob="true">1</span>' in later


def test_without_my_day_the_logged_row_comes_alone(client_as, personas):
    customer = _overdue(CustomerFactory(owner=personas.salesperson))

    html = _log_call(client_as("salesperson"), customer, f"follow-{customer.pk}").content.decode()

    assert "data-logged" in html and "hx-swap-oob" not in html


def test_the_live_answer_keeps_its_queries_whatever_the_rows(
    client_as, personas, django_assert_max_num_queries
):
    owner = personas.salesperson
    client = client_as("salesperson")
    plan = services.open_plan(by=owner, day=timezone.localdate())

    def log_one(name):
        customer = _overdue(CustomerFactory(owner=owner, name=name))
        item = services.add_plan_item(plan=plan, by=owner, customer=customer, purpose=Purpose.SERVICE)
        return lambda: _log_call(
            client,
            customer,
            f"follow-{customer.pk}",
            myday="1",
            rows=[f"plan-{item.pk}", f"cadence-{customer.pk}"],
        )

    small = log_one("First")
    with django_assert_max_num_queries(60) as first:
        assert small().status_code == 200
    for n in range(20):
        _overdue(CustomerFactory(owner=owner, name=f"More {n}"))
    large = log_one("Second")
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert large().status_code == 200

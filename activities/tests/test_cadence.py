"""Contact cadence per tier: who is due or overdue for a call or a visit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from activities import selectors
from activities.customer_page import contact_panel_context
from activities.models import CadenceRule
from crm.models import Customer, Tier
from crm.selectors import customer_for_detail
from crm.services import archive_customer
from crm.tests.factories import CustomerFactory
from funnel.services import change_grade
from funnel.tests.factories import grade

DAY = timedelta(days=1)


def _customer(owner, tier, *, called_days_ago=None, visited_days_ago=None, name=None):
    customer = CustomerFactory(owner=owner, tier=tier, **({"name": name} if name else {}))
    now = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(
        last_call_at=now - called_days_ago * DAY if called_days_ago is not None else None,
        last_visit_at=now - visited_days_ago * DAY if visited_days_ago is not None else None,
    )
    return customer


def _flags(customer) -> tuple[bool, bool]:
    customers = selectors.with_cadence(Customer.objects.filter(pk=customer.pk))
    row = customers.values("call_due", "visit_due").get()
    # The customer page's panel works the same flags out in memory, from the rule read
    # with the page's customer: both must agree.
    panel = contact_panel_context(None, customer_for_detail(customer.owner, customer.pk))
    assert panel["flags"] == row
    return row["call_due"], row["visit_due"]


def test_the_default_cadence_is_seeded_per_tier():
    rules = {rule.tier: (rule.call_every_days, rule.visit_every_days) for rule in CadenceRule.objects.all()}

    assert rules == {Tier.PRIORITY: (30, 90), Tier.NORMAL: (90, 180), Tier.LOW: (180, 365)}


def test_a_priority_customer_called_35_days_ago_is_due_for_a_call(personas):
    customer = _customer(personas.salesperson, Tier.PRIORITY, called_days_ago=35, visited_days_ago=10)

    assert _flags(customer) == (True, False)
    assert list(selectors.cadence_due_for(personas.salesperson)) == [customer]


def test_a_normal_customer_called_35_days_ago_is_not_due_for_a_call(personas):
    customer = _customer(personas.salesperson, Tier.NORMAL, called_days_ago=35, visited_days_ago=10)

    assert _flags(customer) == (False, False)
    assert list(selectors.cadence_due_for(personas.salesperson)) == []


@pytest.mark.parametrize(
    "tier, call_days, visit_days",
    [
        (Tier.PRIORITY, 30, 90),
        (Tier.NORMAL, 90, 180),
        (Tier.LOW, 180, 365),
    ],
)
def test_each_tier_turns_due_just_past_its_rule(personas, tier, call_days, visit_days):
    inside = _customer(
        personas.salesperson, tier, called_days_ago=call_days - 1, visited_days_ago=visit_days - 1
    )
    past = _customer(
        personas.salesperson, tier, called_days_ago=call_days + 1, visited_days_ago=visit_days + 1
    )

    assert _flags(inside) == (False, False)
    assert _flags(past) == (True, True)


def test_never_contacted_counts_as_due(personas):
    customer = _customer(personas.salesperson, Tier.LOW)

    assert _flags(customer) == (True, True)


def test_the_admins_rule_applies_at_once(personas):
    customer = _customer(personas.salesperson, Tier.NORMAL, called_days_ago=35, visited_days_ago=10)
    CadenceRule.objects.filter(tier=Tier.NORMAL).update(call_every_days=30)

    assert _flags(customer) == (True, False)


def test_a_tier_without_a_rule_is_never_due(personas):
    customer = _customer(personas.salesperson, Tier.LOW)
    CadenceRule.objects.filter(tier=Tier.LOW).update(call_every_days=None, visit_every_days=None)

    assert _flags(customer) == (False, False)


def test_priority_customers_come_first_then_the_longest_neglected(personas):
    owner = personas.salesperson
    low = _customer(owner, Tier.LOW, name="Low Ltd")
    normal_old = _customer(owner, Tier.NORMAL, called_days_ago=300, visited_days_ago=300, name="Normal Old")
    priority = _customer(owner, Tier.PRIORITY, called_days_ago=40, visited_days_ago=10, name="Priority Co")
    Customer.objects.filter(pk=normal_old.pk).update(last_activity_at=timezone.now() - 300 * DAY)
    Customer.objects.filter(pk=low.pk).update(last_activity_at=timezone.now() - 400 * DAY)
    normal_never = _customer(owner, Tier.NORMAL, name="Normal Never")

    due = list(selectors.cadence_due_for(owner))

    assert due == [priority, normal_never, normal_old, low]


def test_archived_and_lost_customers_are_not_due(personas):
    owner = personas.salesperson
    archive_customer(customer=_customer(owner, Tier.PRIORITY), by=owner)
    change_grade(
        customer=_customer(owner, Tier.PRIORITY), grade=grade("LOST"), by=owner, note="Went bankrupt"
    )

    assert list(selectors.cadence_due_for(owner)) == []


@pytest.mark.parametrize(
    "role, sees",
    [
        ("salesperson", True),
        ("manager", True),
        ("admin", True),
        ("teammate", False),
        ("other_manager", False),
    ],
)
def test_the_cadence_list_obeys_visibility(personas, role, sees):
    customer = _customer(personas.salesperson, Tier.PRIORITY)

    assert (customer in selectors.cadence_due_for(personas.user(role))) is sees

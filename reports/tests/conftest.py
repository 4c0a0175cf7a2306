"""Fixtures shared by the report tests."""

from decimal import Decimal

import pytest

from activities.models import ActivityKind
from crm.tests.factories import CustomerFactory
from funnel.services import change_grade, record_order
from funnel.tests.factories import grade
from reports.periods import today, week_start

from .helpers import activity


@pytest.fixture
def this_week(personas):
    """This week: the salesperson's upgrade, win, order, calls and visits, and another
    salesperson's open customer. Returns the week's Monday."""
    salesperson = personas.salesperson
    moving = CustomerFactory(owner=salesperson, grade=grade("E"), expected_value=Decimal(1_000_000))
    change_grade(customer=moving, grade=grade("D"), by=salesperson)
    signing = CustomerFactory(owner=salesperson, grade=grade("A"), expected_value=Decimal(500_000))
    record_order(
        customer=signing,
        by=salesperson,
        amount=Decimal(100_000),
        signed_on=today(),
        gross_profit=Decimal(30_000),
        collected_amount=Decimal(40_000),
        collected_on=today(),
    )
    for _ in range(3):
        activity(owner=salesperson, customer=moving, kind=ActivityKind.CALL, minutes=10)
    activity(
        owner=salesperson,
        customer=moving,
        kind=ActivityKind.VISIT,
        effective=True,
        minutes=60,
        expense=Decimal(50),
    )
    activity(owner=salesperson, customer=signing, kind=ActivityKind.VISIT, minutes=30)
    CustomerFactory(owner=personas.other_salesperson, grade=grade("C"), expected_value=Decimal(100_000))
    return week_start(today())

"""Follow-up channels as the method compares them (phone, visit, e-mail, SMS/WeChat, fax):
a fax, or an e-mail with a proposal, is confirmed by phone the next working day
(传真发过去一定要电话确认) — in the service, the log form and the API."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from activities import services
from activities.models import Activity, ActivityKind, Purpose
from crm.models import Customer
from crm.tests.factories import CustomerFactory

from .factories import at

TUESDAY, FRIDAY = date(2026, 3, 10), date(2026, 3, 13)
MONDAY = date(2026, 3, 16)


@pytest.fixture
def customer(personas):
    return CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics")


@pytest.mark.parametrize(
    ("sent_on", "confirm_on"),
    [
        (date(2026, 3, 9), date(2026, 3, 10)),  # Monday → Tuesday
        (date(2026, 3, 12), FRIDAY),  # Thursday → Friday
        (FRIDAY, MONDAY),
        (date(2026, 3, 14), MONDAY),  # Saturday → Monday
        (date(2026, 3, 15), MONDAY),  # Sunday → Monday
    ],
)
def test_the_confirming_call_is_the_next_working_day(sent_on, confirm_on):
    assert services.confirming_call_day(sent_on) == confirm_on


def test_every_channel_of_the_method_is_offered():
    assert {"call", "visit", "email", "message", "fax"} <= set(ActivityKind.values)


@pytest.mark.parametrize(
    ("kind", "proposal_sent", "follow_up"),
    [
        (ActivityKind.FAX, False, MONDAY),
        (ActivityKind.EMAIL, True, MONDAY),
        (ActivityKind.EMAIL, False, None),
        (ActivityKind.MESSAGE, True, None),
    ],
)
def test_a_fax_or_a_proposal_email_on_friday_suggests_a_call_on_monday(
    personas, customer, kind, proposal_sent, follow_up
):
    with time_machine.travel(at(FRIDAY, 16), tick=False):
        activity = services.log_activity(
            by=personas.salesperson,
            customer=customer,
            kind=kind,
            purpose=Purpose.ORDER,
            proposal_sent=proposal_sent,
        )

    assert activity.next_follow_up_on == follow_up
    assert activity.confirming_call_on == follow_up
    assert Customer.objects.get(pk=customer.pk).next_follow_up_on == follow_up
    assert Activity.objects.get(pk=activity.pk).needs_confirming_call is (follow_up is not None)


def test_a_follow_up_of_ones_own_is_kept(personas, customer):
    with time_machine.travel(at(TUESDAY, 16), tick=False):
        activity = services.log_activity(
            by=personas.salesperson,
            customer=customer,
            kind=ActivityKind.FAX,
            purpose=Purpose.ORDER,
            next_follow_up_on=date(2026, 3, 20),
        )

    assert activity.next_follow_up_on == date(2026, 3, 20)
    assert activity.confirming_call_on is None


def test_the_log_form_suggests_the_call_and_says_when_it_is_set(personas, customer, client_as):
    client = client_as("salesperson")
    url = reverse("activities:log-activity", args=[customer.pk])

    with time_machine.travel(at(FRIDAY, 16), tick=False):
        form = client.get(url)
        logged = client.post(
            url, {"kind": "fax", "purpose": "order", "outcome": "Sent the quotation"}, follow=True
        )

    assert "Fax" in form.content.decode() and 'name="proposal_sent"' in form.content.decode()
    assert "a confirming call is set for Mon" in form.content.decode()
    assert "Confirming call suggested for Mon" in logged.content.decode()
    assert Activity.objects.get().next_follow_up_on == MONDAY


def test_the_api_logs_a_proposal_email_with_its_confirming_call(personas, customer, client_as):
    with time_machine.travel(at(TUESDAY, 16), tick=False):
        response = client_as("salesperson").post(
            reverse("activity-list"),
            {"customer": customer.pk, "kind": "email", "purpose": "order", "proposal_sent": True},
            content_type="application/json",
        )

    assert response.status_code == 201
    assert response.json()["next_follow_up_on"] == "2026-03-11"
    assert response.json()["needs_confirming_call"] is True

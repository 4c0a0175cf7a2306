"""Moving a customer between grades: a complete, append-only timeline (from, to, when,
who, note) shown on the customer page, the clocks reset, lost needs a reason, and an
override survives until cleared."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crm import services as crm_services
from crm.tests.factories import CustomerFactory
from funnel.models import GradeChange
from funnel.services import change_grade
from funnel.tests.builders import funnel_settings
from funnel.tests.factories import grade


@pytest.fixture
def customer(personas):
    return CustomerFactory(
        owner=personas.salesperson, name="Northwind Ltd", grade=grade("E"), expected_value=Decimal(5_000_000)
    )


def test_a_change_records_from_to_when_who_and_note(personas, customer):
    entered = customer.grade_entered_at

    with time_machine.travel(entered + timedelta(days=12, hours=3), tick=False):
        change = change_grade(
            customer=customer, grade=grade("D"), by=personas.manager, note="Called the buyer"
        )

    assert (change.from_grade.code, change.to_grade.code, change.note) == ("E", "D", "Called the buyer")
    assert change.changed_at == entered + timedelta(days=12, hours=3)
    assert (change.changed_by, change.owner) == (personas.manager, personas.salesperson)
    assert change.days_in_previous == 12
    assert change.direction == "up"


def test_a_change_resets_the_time_in_grade_and_the_stagnation_clock(personas, customer):
    funnel_settings(grade_skip_rule=False)  # builds its case with grade skips
    old_stagnant_from = customer.stagnant_from
    later = customer.grade_entered_at + timedelta(days=40)

    with time_machine.travel(later, tick=False):
        change_grade(customer=customer, grade=grade("B"), by=personas.salesperson)
        customer.refresh_from_db()
        assert customer.days_in_grade == 0
        assert not customer.is_stagnant

    assert customer.grade_entered_at == later
    assert customer.stagnant_from != old_stagnant_from
    assert customer.stagnant_from >= later + timedelta(days=14)  # B's limit (calendar or working days)


def test_every_move_stays_in_the_timeline_in_order(personas, customer):
    start = customer.grade_entered_at
    moves = [
        ("D", "first call", personas.salesperson),
        ("C", "demo went well", personas.salesperson),
        ("D", "buyer left the company", personas.manager),
        ("LOST", "went with a competitor", personas.manager),
    ]
    for day, (code, note, by) in enumerate(moves, start=1):
        with time_machine.travel(start + timedelta(days=day * 10), tick=False):
            change_grade(customer=customer, grade=grade(code), by=by, note=note)

    chain = list(
        GradeChange.objects.filter(customer=customer)
        .order_by("changed_at")
        .values_list("from_grade__code", "to_grade__code", "note", "changed_by", "days_in_previous")
    )

    assert chain == [
        ("E", "D", "first call", personas.salesperson.pk, 10),
        ("D", "C", "demo went well", personas.salesperson.pk, 10),
        ("C", "D", "buyer left the company", personas.manager.pk, 10),
        ("D", "LOST", "went with a competitor", personas.manager.pk, 10),
    ]
    customer.refresh_from_db()
    assert (customer.grade.code, customer.lost_reason) == ("LOST", "went with a competitor")


def test_the_customer_page_shows_every_grade_change(personas, client_as, customer):
    change_grade(customer=customer, grade=grade("D"), by=personas.salesperson, note="first call")
    change_grade(customer=customer, grade=grade("C"), by=personas.manager, note="demo went well")

    response = client_as("salesperson").get(reverse("crm:customer-detail", args=[customer.pk]))

    grade_entries = [(e.title, e.detail, e.actor) for e in response.context["timeline"] if e.kind == "grade"]
    assert grade_entries == [
        ("Grade D → C", "demo went well", personas.manager.display_name),
        ("Grade E → D", "first call", personas.salesperson.display_name),
    ]
    content = response.content.decode()
    assert "Grade E → D" in content and "demo went well" in content


def test_the_api_lists_a_customers_grade_history(personas, client_as, customer):
    change_grade(customer=customer, grade=grade("D"), by=personas.salesperson, note="first call")

    body = client_as("manager").get(reverse("gradechange-list"), {"customer": customer.pk}).json()

    row = body["results"][0]
    assert (row["from_code"], row["to_code"], row["note"], row["changed_by"], row["owner"]) == (
        "E",
        "D",
        "first call",
        personas.salesperson.pk,
        personas.salesperson.pk,
    )
    assert row["changed_at"]


def test_lost_needs_a_reason_and_nothing_is_written_without_one(personas, customer):
    with pytest.raises(ValidationError) as raised:
        change_grade(customer=customer, grade=grade("LOST"), by=personas.salesperson, note="   ")

    assert set(raised.value.message_dict) == {"note"}
    customer.refresh_from_db()
    assert customer.grade.code == "E"
    assert not GradeChange.objects.exists()


def test_moving_to_the_same_grade_is_refused(personas, customer):
    with pytest.raises(ValidationError) as raised:
        change_grade(customer=customer, grade=grade("E"), by=personas.salesperson)

    assert set(raised.value.message_dict) == {"grade"}
    assert not GradeChange.objects.exists()


def test_an_override_survives_grade_changes_until_cleared(personas, customer):
    crm_services.set_probability_override(
        customer=customer, by=personas.salesperson, probability=Decimal(35), reason="Champion inside"
    )

    change_grade(customer=customer, grade=grade("D"), by=personas.salesperson)
    change_grade(customer=customer, grade=grade("C"), by=personas.salesperson)
    customer.refresh_from_db()
    assert (customer.probability, customer.probability_override_reason) == (Decimal(35), "Champion inside")

    crm_services.set_probability_override(customer=customer, by=personas.salesperson, probability=None)
    customer.refresh_from_db()
    assert customer.probability == Decimal(40)  # C's default again


# --- Page and API ------------------------------------------------------------------------


def test_the_page_changes_the_grade_and_returns_to_the_customer(personas, client_as, customer):
    response = client_as("salesperson").post(
        reverse("funnel:change-grade", args=[customer.pk]), {"grade": grade("D").pk, "note": "first call"}
    )

    assert response.status_code == 302
    assert response.url == reverse("crm:customer-detail", args=[customer.pk])
    assert GradeChange.objects.get().note == "first call"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"grade": 999999, "note": ""}, "Select a valid choice."),
        ({"grade": "", "note": ""}, "This field is required."),
        ({"note": "went away"}, "This field is required."),
    ],
)
def test_the_page_refuses_an_unknown_grade_and_writes_nothing(personas, client_as, customer, data, message):
    client = client_as("salesperson")

    response = client.post(reverse("funnel:change-grade", args=[customer.pk]), data, follow=True)

    assert response.status_code == 200
    assert any(message in str(m) for m in response.context["messages"])
    assert not GradeChange.objects.exists()


def test_the_page_refuses_lost_without_a_reason(personas, client_as, customer):
    response = client_as("salesperson").post(
        reverse("funnel:change-grade", args=[customer.pk]),
        {"grade": grade("LOST").pk, "note": ""},
        follow=True,
    )

    assert any("Say why the customer was lost." in str(m) for m in response.context["messages"])
    customer.refresh_from_db()
    assert customer.grade.code == "E"


def test_the_api_changes_the_grade_and_answers_with_the_new_grade_state(personas, client_as, customer):
    response = client_as("salesperson").post(
        reverse("customer-change-grade", args=[customer.pk]),
        {"grade": grade("D").pk, "note": "first call"},
        content_type="application/json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["grade_code"], body["probability"], body["weighted_value"], body["days_in_grade"]) == (
        "D",
        "20.00",
        "1000000.00",
        0,
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (lambda: {"grade": 999999}, "grade"),  # no such grade
        (lambda: {"grade": "A"}, "grade"),  # a code, not an id
        (lambda: {}, "grade"),  # missing
        (lambda: {"grade": grade("LOST").pk}, "note"),  # lost without a reason
        (lambda: {"grade": grade("E").pk}, "grade"),  # already there
    ],
)
def test_the_api_refuses_bad_grade_changes_with_the_field_key(personas, client_as, customer, data, field):
    response = client_as("salesperson").post(
        reverse("customer-change-grade", args=[customer.pk]), data(), content_type="application/json"
    )

    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert not GradeChange.objects.exists()


def test_an_archived_customer_cannot_change_grade_in_the_api(personas, client_as, customer):
    crm_services.archive_customer(customer=customer, by=personas.salesperson)

    response = client_as("salesperson").post(
        reverse("customer-change-grade", args=[customer.pk]),
        {"grade": grade("D").pk},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert not GradeChange.objects.exists()


def test_time_in_grade_is_counted_from_the_last_change(personas, customer):
    change_grade(customer=customer, grade=grade("D"), by=personas.salesperson)

    with time_machine.travel(timezone.now() + timedelta(days=5, hours=1)):
        customer.refresh_from_db()
        assert customer.days_in_grade == 5

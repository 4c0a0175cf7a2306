"""停滞预警: one alert per stay, to the owner and their manager, closed by a grade change;
calendar or working days; a set-based, idempotent daily job."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import Grade
from crm.models import Customer, Notification
from crm.tests.factories import UserFactory, bulk_customers
from funnel import clock, services, tasks
from funnel.models import CloseReason, DayCount, StagnationAlert
from funnel.services import change_grade, scan_stagnation
from funnel.tests.builders import customer_at, funnel_settings
from funnel.tests.factories import grade

# A fixed Wednesday morning in the company time zone (Asia/Shanghai).
NOW = timezone.make_aware(datetime(2025, 6, 11, 9, 0))
TODAY = NOW.date()


@pytest.fixture
def limit_14(db):
    Grade.objects.filter(code="D").update(stagnation_days=14)
    return grade("D")


def test_a_customer_15_days_into_a_14_day_grade_gets_exactly_one_alert_after_two_runs(personas, limit_14):
    customer = customer_at("D", personas.salesperson, days_ago=15, now=NOW)
    fresh = customer_at("D", personas.salesperson, days_ago=13, now=NOW)

    with time_machine.travel(NOW, tick=False):
        first = scan_stagnation(on=TODAY)
        second = scan_stagnation(on=TODAY)

    assert (first.raised, second.raised) == (1, 0)
    alert = StagnationAlert.objects.get()
    assert (alert.customer, alert.grade, alert.owner, alert.is_open) == (
        customer,
        limit_14,
        personas.salesperson,
        True,
    )
    assert alert.grade_entered_at == customer.grade_entered_at
    assert not StagnationAlert.objects.filter(customer=fresh).exists()


def test_the_customer_page_shows_the_open_alert_until_the_grade_changes(personas, limit_14, client_as):
    customer = customer_at("D", personas.salesperson, days_ago=15, now=NOW)
    client = client_as("salesperson")
    page = reverse("crm:customer-detail", args=[customer.pk])
    with time_machine.travel(NOW, tick=False):
        scan_stagnation(on=TODAY)
        alerted = client.get(page).content.decode()
        change_grade(customer=customer, grade=grade("C"), by=personas.salesperson, note="Agrees")
        moved_on = client.get(page).content.decode()

    assert "Stagnation alert: 15 days at D, past the grade's limit." in alerted
    assert 'data-testid="stagnation-alert"' not in moved_on


def test_the_alert_closes_when_the_grade_changes(personas, limit_14):
    customer = customer_at("D", personas.salesperson, days_ago=15, now=NOW)
    with time_machine.travel(NOW, tick=False):
        scan_stagnation(on=TODAY)
        change_grade(customer=customer, grade=grade("C"), by=personas.salesperson, note="Agrees")
        scan_stagnation(on=TODAY)

    alert = StagnationAlert.objects.get()
    assert (alert.is_open, alert.close_reason) == (False, CloseReason.GRADE_CHANGED)


def test_the_owner_and_their_manager_get_one_notification_and_one_email_digest_each(
    personas, limit_14, django_capture_on_commit_callbacks
):
    for days in (15, 20, 30):
        customer_at("D", personas.salesperson, days_ago=days, now=NOW)
    customer_at("D", personas.teammate, days_ago=16, now=NOW)

    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        scan_stagnation(on=TODAY)
        scan_stagnation(on=TODAY)

    notified = Notification.objects.filter(kind="stagnation")
    assert sorted(notified.values_list("recipient__username", flat=True)) == [
        "manager",
        "salesperson",
        "teammate",
    ]
    assert "4 customers" in notified.get(recipient=personas.manager).title
    assert sorted(address for message in mail.outbox for address in message.to) == [
        "manager@example.com",
        "salesperson@example.com",
        "teammate@example.com",
    ]


def test_pool_archived_and_terminal_customers_raise_no_alert(personas, limit_14):
    Grade.objects.filter(code="WON").update(stagnation_days=1)
    customer_at("D", None, days_ago=30, now=NOW, by=personas.admin)
    archived = customer_at("D", personas.salesperson, days_ago=30, now=NOW)
    Customer.objects.filter(pk=archived.pk).update(archived_at=NOW)
    won = customer_at("WON", personas.salesperson, days_ago=30, now=NOW)
    services.refresh_stagnation_clock(grade("WON"))

    with time_machine.travel(NOW, tick=False):
        assert scan_stagnation(on=TODAY).raised == 0
    assert won.pk


def test_the_task_takes_an_iso_date_and_defaults_to_today(personas, limit_14):
    customer_at("D", personas.salesperson, days_ago=15, now=NOW)
    with time_machine.travel(NOW, tick=False):
        assert tasks.scan_stagnation.delay(on=(TODAY - timedelta(days=5)).isoformat()) is not None
        assert not StagnationAlert.objects.exists()  # five days earlier it was not stuck yet
        tasks.scan_stagnation.delay()
    assert StagnationAlert.objects.get().raised_on == TODAY


# --- Working days --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entered", "limit", "expected"),
    [
        (date(2025, 6, 9), 1, date(2025, 6, 10)),  # Monday + 1 → Tuesday
        (date(2025, 6, 13), 1, date(2025, 6, 16)),  # Friday + 1 → Monday
        (date(2025, 6, 9), 5, date(2025, 6, 16)),  # Monday + 5 → next Monday
        (date(2025, 6, 14), 1, date(2025, 6, 17)),  # Saturday: counting starts Monday → Tuesday
        (date(2025, 6, 15), 3, date(2025, 6, 19)),  # Sunday + 3 → Thursday
        (date(2025, 6, 11), 14, date(2025, 7, 1)),  # Wednesday + 14 working days
    ],
)
def test_working_days_skip_weekends(entered, limit, expected):
    start = timezone.make_aware(datetime.combine(entered, datetime.min.time()).replace(hour=10))

    result = clock.stagnant_from(start, limit, DayCount.WORKING)

    assert timezone.localtime(result).date() == expected
    assert timezone.localtime(result).hour == 10


def test_the_working_day_after_and_before_each_day_of_a_week():
    week = [date(2025, 6, 9) + timedelta(days=n) for n in range(7)]  # Monday … Sunday
    monday, tuesday, friday = week[0], week[1], week[4]
    next_monday = monday + timedelta(days=7)

    assert [clock.next_working_day(day) for day in week] == [
        *week[1:5],
        next_monday,
        next_monday,
        next_monday,
    ]
    assert [clock.previous_working_day(day) for day in week] == [
        monday - timedelta(days=3),
        monday,
        tuesday,
        week[2],
        week[3],
        friday,
        friday,
    ]


def test_working_days_are_the_same_in_python_and_in_sql(personas, limit_14):
    funnel_settings(day_count=DayCount.WORKING)
    customers = [customer_at("D", personas.salesperson, days_ago=days, now=NOW) for days in range(0, 9)]

    services.refresh_stagnation_clock(limit_14)

    for customer in customers:
        customer.refresh_from_db()
        assert customer.stagnant_from == clock.stagnant_from(customer.grade_entered_at, 14, DayCount.WORKING)


def test_changing_the_setting_retimes_the_clocks_and_the_scan_follows_it(personas, limit_14):
    # Entered 15 calendar days ago (a Tuesday): past 14 calendar days, but only 11 working days.
    customer = customer_at("D", personas.salesperson, days_ago=15, now=NOW)
    settings_row = funnel_settings()
    settings_row.day_count = DayCount.WORKING

    services.save_funnel_settings(settings_row=settings_row, by=personas.admin)
    with time_machine.travel(NOW, tick=False):
        assert scan_stagnation(on=TODAY).raised == 0

    customer.refresh_from_db()
    assert customer.stagnant_from == clock.stagnant_from(customer.grade_entered_at, 14, DayCount.WORKING)


def test_change_grade_times_the_new_stay_in_working_days(personas, limit_14):
    funnel_settings(day_count=DayCount.WORKING)
    customer = customer_at("E", personas.salesperson, now=NOW)
    friday = timezone.make_aware(datetime(2025, 6, 13, 16, 0))

    with time_machine.travel(friday, tick=False):
        change_grade(customer=customer, grade=limit_14, by=personas.salesperson)

    customer.refresh_from_db()
    assert timezone.localtime(customer.stagnant_from) == timezone.make_aware(datetime(2025, 7, 3, 16, 0))


def test_the_scan_retimes_customers_created_in_calendar_days(personas, limit_14):
    funnel_settings(day_count=DayCount.WORKING)
    customer = customer_at("D", personas.salesperson, days_ago=15, now=NOW)  # create_customer: calendar days
    calendar = customer.stagnant_from

    with time_machine.travel(NOW, tick=False):
        result = scan_stagnation(on=TODAY)
        again = scan_stagnation(on=TODAY)

    customer.refresh_from_db()
    assert (result.retimed, again.retimed, result.raised) == (1, 0, 0)
    assert customer.stagnant_from > calendar


# --- Set-based ------------------------------------------------------------------------------


def _scan_queries(personas, count: int) -> int:
    Customer.objects.all().delete()
    StagnationAlert.objects.all().delete()
    with time_machine.travel(NOW - timedelta(days=20), tick=False):
        for owner in (personas.salesperson, personas.teammate):
            bulk_customers(owner=owner, count=count, grade=grade("D"), prefix=f"Scan{count}")
    services.refresh_stagnation_clock(grade("D"))
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
        result = scan_stagnation(on=TODAY)
    assert result.raised == 2 * count
    return len(queries)


def test_the_scan_runs_the_same_number_of_queries_for_10_and_200_customers(personas, limit_14):
    small = _scan_queries(personas, 5)
    large = _scan_queries(personas, 100)

    assert small == large


def test_managers_of_a_team_without_manager_come_from_the_parent_team(personas, limit_14):
    sub_salesperson = personas.sub_salesperson  # East North has no manager: East's manager is told
    customer_at("D", sub_salesperson, days_ago=15, now=NOW)
    lonely = UserFactory(username="lonely")
    customer_at("D", lonely, days_ago=15, now=NOW)

    with time_machine.travel(NOW, tick=False):
        scan_stagnation(on=TODAY)

    recipients = set(
        Notification.objects.filter(kind="stagnation").values_list("recipient__username", flat=True)
    )
    assert recipients == {"sub_salesperson", "manager", "lonely"}

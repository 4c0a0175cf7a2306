"""Stagnation alerts agree with the funnel's "stuck" (issue 16, item 3): the scan keeps
one open alert per stuck customer — raised the same day, closed and reopened as limits
and owners change — and each alert row can be snoozed (owner, managers) with a reason
until a date."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from core.models import Grade
from crm.models import Customer, Notification
from funnel import services, tasks
from funnel.models import CloseReason, StagnationAlert
from funnel.selectors import alerts_visible_to, open_alerts_for
from funnel.services import scan_stagnation, snooze_alert
from funnel.tests.builders import customer_at
from funnel.tests.factories import grade

# A fixed Wednesday afternoon in the company time zone (Asia/Shanghai).
NOW = timezone.make_aware(datetime(2025, 6, 11, 15, 0))
TODAY = NOW.date()


@pytest.fixture
def limit_14(db):
    Grade.objects.filter(code="D").update(stagnation_days=14)
    return grade("D")


def _alerted(user=None) -> set[int]:
    alerts = StagnationAlert.objects.open() if user is None else alerts_visible_to(user)
    return set(alerts.values_list("customer_id", flat=True))


def _stuck(user=None) -> set[int]:
    customers = Customer.objects.all() if user is None else Customer.objects.visible_to(user)
    return set(customers.stuck().values_list("pk", flat=True))


# --- The scan agrees with the funnel -----------------------------------------------------


def test_a_customer_stuck_since_this_morning_is_alerted_by_todays_run(personas, limit_14):
    this_morning = customer_at("D", personas.salesperson, days_ago=14.2, now=NOW)  # stuck since 10:12
    tonight = customer_at("D", personas.salesperson, days_ago=13.8, now=NOW)  # stuck at 19:48

    with time_machine.travel(NOW, tick=False):
        scan_stagnation(on=TODAY, notify=False)
        assert _alerted() == _stuck() == {this_morning.pk}

    assert tonight.pk not in _alerted()


def test_raising_a_limit_closes_the_alerts_and_lowering_it_again_reopens_them(personas, limit_14):
    customer = customer_at("D", personas.salesperson, days_ago=16, now=NOW)
    with time_machine.travel(NOW, tick=False):
        scan_stagnation(on=TODAY)
        limit_14.stagnation_days = 30
        services.save_grade(grade=limit_14, by=personas.admin)
        assert _alerted() == _stuck() == set()
        closed = StagnationAlert.objects.get()
        limit_14.stagnation_days = 14
        services.save_grade(grade=limit_14, by=personas.admin)
        assert _alerted() == _stuck() == {customer.pk}

    assert closed.close_reason == CloseReason.NOT_STUCK
    assert StagnationAlert.objects.count() == 1  # the same stay, the same alert


def test_lowering_a_limit_raises_the_alerts_at_once(personas, limit_14):
    customer = customer_at("D", personas.salesperson, days_ago=10, now=NOW)
    with time_machine.travel(NOW, tick=False):
        limit_14.stagnation_days = 7
        services.save_grade(grade=limit_14, by=personas.admin)
        assert _alerted() == _stuck() == {customer.pk}

    assert not Notification.objects.filter(kind="stagnation").exists()  # the morning digest tells


def test_a_stuck_customer_claimed_from_the_pool_gets_its_alert_back(personas, limit_14):
    customer = customer_at("D", personas.salesperson, days_ago=16, now=NOW)
    with time_machine.travel(NOW, tick=False):
        scan_stagnation(on=TODAY)
        services.release_customer(customer=customer, by=personas.salesperson, reason="No budget")
        assert _alerted() == _stuck() == set()
        services.claim_customer(customer=customer, by=personas.teammate)
        assert _alerted(personas.teammate) == _stuck(personas.teammate) == {customer.pk}

    alert = StagnationAlert.objects.get()
    assert (alert.owner, alert.notified_at) == (personas.teammate, None)  # the next digest tells them


def test_the_hourly_run_raises_quietly_and_the_morning_run_tells_once(personas, limit_14):
    customer_at("D", personas.salesperson, days_ago=16, now=NOW)
    with time_machine.travel(NOW, tick=False):
        tasks.scan_stagnation.delay(notify=False)
        assert not Notification.objects.filter(kind="stagnation").exists()
        tasks.scan_stagnation.delay()
        tasks.scan_stagnation.delay()

    assert sorted(
        Notification.objects.filter(kind="stagnation").values_list("recipient__username", flat=True)
    ) == ["manager", "salesperson"]


def test_archived_customers_alerts_close(personas, limit_14):
    customer = customer_at("D", personas.salesperson, days_ago=16, now=NOW)
    with time_machine.travel(NOW, tick=False):
        scan_stagnation(on=TODAY)
        Customer.objects.filter(pk=customer.pk).update(archived_at=NOW)
        scan_stagnation(on=TODAY)

    assert _alerted() == _stuck() == set()


# --- Snooze ----------------------------------------------------------------------------------


@pytest.fixture
def alert(personas, limit_14):
    customer_at("D", personas.salesperson, days_ago=16, now=NOW)
    with time_machine.travel(NOW, tick=False):
        scan_stagnation(on=TODAY, notify=False)
    return StagnationAlert.objects.get()


def test_a_snoozed_alert_leaves_my_day_until_its_date_and_stays_stuck(personas, alert):
    with time_machine.travel(NOW, tick=False):
        snooze_alert(
            alert=alert,
            by=personas.salesperson,
            until=TODAY + timedelta(days=3),
            reason="Buyer on leave until Monday",
        )
        assert list(open_alerts_for(personas.salesperson)) == []
        assert _alerted(personas.salesperson) == _stuck(personas.salesperson) == {alert.customer_id}
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        assert [a.pk for a in open_alerts_for(personas.salesperson)] == [alert.pk]

    alert.refresh_from_db()
    assert (alert.snoozed_by, alert.snooze_reason) == (personas.salesperson, "Buyer on leave until Monday")


def test_snoozing_twice_the_same_way_changes_nothing(personas, alert):
    until = TODAY + timedelta(days=3)
    with time_machine.travel(NOW, tick=False):
        snooze_alert(alert=alert, by=personas.salesperson, until=until, reason="On leave")
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        snooze_alert(alert=alert, by=personas.manager, until=until, reason=" On leave ")

    alert.refresh_from_db()
    assert (alert.snoozed_by, alert.snoozed_at) == (personas.salesperson, NOW)


@pytest.mark.parametrize(
    ("days", "reason", "field"),
    [(0, "On leave", "until"), (-1, "On leave", "until"), (91, "On leave", "until"), (3, "  ", "reason")],
)
def test_a_snooze_needs_a_reason_and_a_day_within_90_days(personas, alert, days, reason, field):
    with time_machine.travel(NOW, tick=False), pytest.raises(ValidationError) as error:
        snooze_alert(alert=alert, by=personas.salesperson, until=TODAY + timedelta(days=days), reason=reason)

    assert field in error.value.message_dict


def test_a_closed_alert_cannot_be_snoozed_and_a_grade_change_ends_the_snooze(personas, alert):
    with time_machine.travel(NOW, tick=False):
        snooze_alert(alert=alert, by=personas.salesperson, until=TODAY + timedelta(days=3), reason="Leave")
        services.change_grade(customer=alert.customer, grade=grade("C"), by=personas.salesperson)
        with pytest.raises(ValidationError):
            snooze_alert(alert=alert, by=personas.salesperson, until=TODAY + timedelta(days=5), reason="x")

    alert.refresh_from_db()
    assert (alert.is_open, alert.close_reason) == (False, CloseReason.GRADE_CHANGED)


# --- The page and the API, per role ------------------------------------------------------------


def _snooze_data(days=3):
    return {"until": (TODAY + timedelta(days=days)).isoformat(), "reason": "Buyer on leave"}


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("salesperson", 302),
        ("manager", 302),
        ("admin", 302),
        ("teammate", 404),
        ("other_salesperson", 404),
        ("other_manager", 404),
    ],
)
def test_only_who_sees_the_alert_may_snooze_it_on_the_page(client_as, alert, role, status):
    with time_machine.travel(NOW, tick=False):
        response = client_as(role).post(reverse("funnel:alert-snooze", args=[alert.pk]), _snooze_data())

    alert.refresh_from_db()
    assert response.status_code == status
    assert (alert.snoozed_until is not None) == (status == 302)


@pytest.mark.parametrize(
    ("role", "status"), [("salesperson", 200), ("teammate", 404), ("other_manager", 404)]
)
def test_only_who_sees_the_alert_may_snooze_it_through_the_api(client_as, alert, role, status):
    with time_machine.travel(NOW, tick=False):
        response = client_as(role).post(
            reverse("alert-snooze", args=[alert.pk]), _snooze_data(), content_type="application/json"
        )

    assert response.status_code == status
    if status == 200:
        assert (response.json()["is_snoozed"], response.json()["snooze_reason"]) == (True, "Buyer on leave")


def test_a_bad_snooze_says_why_on_the_page_and_in_the_api(client_as, alert):
    with time_machine.travel(NOW, tick=False):
        page = client_as("salesperson").post(
            reverse("funnel:alert-snooze", args=[alert.pk]), _snooze_data(days=120), follow=True
        )
        api = client_as("salesperson").post(
            reverse("alert-snooze", args=[alert.pk]),
            {"until": "tomorrow", "reason": ""},
            content_type="application/json",
        )

    assert "An alert can wait 90 days at most." in page.content.decode()
    assert api.status_code == 400 and set(api.json()) >= {"until", "reason"}


def test_the_page_lists_to_act_on_and_snoozed_apart_with_the_funnels_count(personas, client_as, alert):
    other = customer_at("D", personas.salesperson, days_ago=20, now=NOW)
    client = client_as("manager")
    with time_machine.travel(NOW, tick=False):
        scan_stagnation(on=TODAY, notify=False)
        snooze_alert(
            alert=alert, by=personas.manager, until=TODAY + timedelta(days=2), reason="Budget in July"
        )
        to_act_on = client.get(reverse("funnel:alert-list"))
        snoozed = client.get(reverse("funnel:alert-list"), {"state": "snoozed"})
        every = client.get(reverse("funnel:alert-list"), {"state": "all"})

    assert [a.customer_id for a in to_act_on.context["alerts"]] == [other.pk]
    assert [a.customer_id for a in snoozed.context["alerts"]] == [alert.customer_id]
    assert {a.customer_id for a in every.context["alerts"]} == _stuck(personas.manager)
    assert to_act_on.context["counts"] == {"stuck": 2, "snoozed": 1, "to_act_on": 1}
    assert "Budget in July" in snoozed.content.decode()
    html = to_act_on.content.decode()
    assert reverse("activities:log-activity", args=[other.pk]) in html
    assert reverse("funnel:customer-reassign", args=[other.pk]) in html


def test_a_salesperson_gets_no_reassign_action(client_as, alert):
    with time_machine.travel(NOW, tick=False):
        html = client_as("salesperson").get(reverse("funnel:alert-list")).content.decode()

    assert reverse("activities:log-activity", args=[alert.customer_id]) in html
    assert reverse("funnel:customer-reassign", args=[alert.customer_id]) not in html
    assert reverse("funnel:alert-snooze", args=[alert.pk]) in html

"""The private calendar feed: exactly the user's plan items and follow-ups (a manager's
team on request), a URL that a regeneration kills, 404 for any wrong key, and the same
few queries whatever the data."""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from activities import calendar_feed
from activities.models import DailyPlan, PlanItem, PlanItemKind, Purpose
from crm.models import Customer, User
from crm.tests.factories import CustomerFactory, bulk_customers
from funnel.tests.factories import grade

pytestmark = pytest.mark.django_db


def plan_item(owner, customer, day: date, **fields) -> PlanItem:
    """A plan item on any day (the service only plans today and ahead; the feed also
    shows the past two weeks)."""
    plan, _created = DailyPlan.objects.get_or_create(owner=owner, date=day)
    fields.setdefault("purpose", Purpose.SERVICE)
    return PlanItem.objects.create(plan=plan, customer=customer, **fields)


def follow_up(customer: Customer, day: date) -> Customer:
    Customer.objects.filter(pk=customer.pk).update(next_follow_up_on=day)
    return customer


def ics_url(feed) -> str:
    return reverse(
        "activities:calendar-ics", kwargs={"feed_id": feed.pk, "token": calendar_feed.feed_url_token(feed)}
    )


def fetch(client, feed, **params):
    """The feed as a phone's calendar fetches it (no session), parsed."""
    response = client.get(ics_url(feed), params)
    assert response.status_code == 200, response.status_code
    return Calendar.from_ical(response.content)


def uids(calendar: Calendar) -> set[str]:
    return {str(event["uid"]).split("@")[0] for event in calendar.walk("VEVENT")}


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def world(personas, today):
    """Each East person (and West's salesperson) with a customer, a plan item today and a
    follow-up tomorrow."""
    rows = {}
    for role in ("salesperson", "teammate", "sub_salesperson", "other_salesperson"):
        person = getattr(personas, role)
        customer = CustomerFactory(owner=person, name=f"{role.title()} Harbor Point")
        rows[role] = {
            "customer": follow_up(customer, today + timedelta(days=1)),
            "item": plan_item(person, customer, today, starts_at=time(9, 30), ends_at=time(11)),
        }
    return rows


def expected(world, *roles) -> set[str]:
    return {f"planitem-{world[role]['item'].pk}" for role in roles} | {
        f"followup-{world[role]['customer'].pk}" for role in roles
    }


# --- What the feed holds -----------------------------------------------------------------------


def test_the_feed_holds_exactly_the_users_items_as_a_calendar_reads_them(client, personas, world, today):
    feed = calendar_feed.open_calendar_feed(by=personas.salesperson)

    response = client.get(ics_url(feed))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    calendar = Calendar.from_ical(response.content)
    # Not the teammate's, not the sub-team's, not another team's.
    assert uids(calendar) == expected(world, "salesperson")
    events = {str(event["uid"]).split("@")[0]: event for event in calendar.walk("VEVENT")}
    item, customer = world["salesperson"]["item"], world["salesperson"]["customer"]
    visit = events[f"planitem-{item.pk}"]
    assert str(visit["summary"]) == "Visit: Salesperson Harbor Point"
    zone = ZoneInfo(settings.TIME_ZONE)
    assert visit.decoded("dtstart") == timezone.datetime(
        today.year, today.month, today.day, 9, 30, tzinfo=zone
    )
    assert visit.decoded("dtend").time() == time(11)
    assert "Purpose: Service" in str(visit["description"])
    assert str(visit["url"]).endswith(reverse("crm:customer-detail", args=[customer.pk]))
    assert str(visit["uid"]) == f"planitem-{item.pk}@testserver"
    follow = events[f"followup-{customer.pk}"]
    assert str(follow["summary"]) == "Follow up: Salesperson Harbor Point"
    assert follow.decoded("dtstart") == today + timedelta(days=1)  # all day


def test_an_item_without_a_time_is_all_day_and_one_without_an_end_lasts_an_hour(client, personas, today):
    customer = CustomerFactory(owner=personas.salesperson)
    all_day = plan_item(personas.salesperson, customer, today, kind=PlanItemKind.CALL, note="Bring the quote")
    starts = plan_item(personas.salesperson, customer, today + timedelta(days=1), starts_at=time(14))
    feed = calendar_feed.open_calendar_feed(by=personas.salesperson)

    events = {str(e["uid"]).split("@")[0]: e for e in fetch(client, feed).walk("VEVENT")}

    call = events[f"planitem-{all_day.pk}"]
    assert str(call["summary"]).startswith("Call: ")
    assert call.decoded("dtstart") == today and call.decoded("dtend") == today + timedelta(days=1)
    assert "Bring the quote" in str(call["description"])
    slot = events[f"planitem-{starts.pk}"]
    assert slot.decoded("dtend") - slot.decoded("dtstart") == timedelta(hours=1)


def test_the_feed_covers_two_weeks_back_and_sixty_days_ahead(client, personas, today):
    customer = CustomerFactory(owner=personas.salesperson)
    days = {
        "too old": today - timedelta(days=15),
        "oldest": today - timedelta(days=14),
        "furthest": today + timedelta(days=60),
        "too far": today + timedelta(days=61),
    }
    items = {name: plan_item(personas.salesperson, customer, day) for name, day in days.items()}
    feed = calendar_feed.open_calendar_feed(by=personas.salesperson)

    shown = uids(fetch(client, feed))

    assert shown == {f"planitem-{items['oldest'].pk}", f"planitem-{items['furthest'].pk}"}


def test_items_on_customers_no_longer_visible_and_archived_follow_ups_are_left_out(client, personas, today):
    kept = CustomerFactory(owner=personas.salesperson)
    moved = CustomerFactory(owner=personas.salesperson)
    archived = follow_up(CustomerFactory(owner=personas.salesperson), today)
    item = plan_item(personas.salesperson, kept, today)
    plan_item(personas.salesperson, moved, today)
    Customer.objects.filter(pk=moved.pk).update(owner=personas.other_salesperson)
    Customer.objects.filter(pk=archived.pk).update(archived_at=timezone.now())
    feed = calendar_feed.open_calendar_feed(by=personas.salesperson)

    assert uids(fetch(client, feed)) == {f"planitem-{item.pk}"}


def test_a_manager_gets_the_team_tree_only_when_asked(client, personas, world):
    feed = calendar_feed.open_calendar_feed(by=personas.manager)
    assert uids(fetch(client, feed)) == set()

    feed = calendar_feed.set_include_team(by=personas.manager, include=True)
    calendar = fetch(client, feed)

    assert uids(calendar) == expected(world, "salesperson", "teammate", "sub_salesperson")
    summaries = {str(event["summary"]) for event in calendar.walk("VEVENT")}
    name = personas.teammate.display_name
    assert f"{name} · Visit: Teammate Harbor Point" in summaries
    assert f"{name} · Follow up: Teammate Harbor Point" in summaries


def test_only_managers_and_admins_include_a_team(personas, client_as):
    with pytest.raises(PermissionDenied):
        calendar_feed.set_include_team(by=personas.salesperson, include=True)

    response = client_as("salesperson").post(reverse("activities:calendar-feed-team"), {"include_team": "on"})

    assert response.status_code == 403
    assert not calendar_feed.open_calendar_feed(by=personas.salesperson).include_team


def test_the_feed_speaks_the_language_of_its_address(client, personas, world):
    feed = calendar_feed.open_calendar_feed(by=personas.salesperson)

    calendar = fetch(client, feed, lang="zh-hans")

    summaries = {str(event["summary"]) for event in calendar.walk("VEVENT")}
    assert not any(summary.startswith("Visit") for summary in summaries)


def test_a_feed_holds_at_most_the_cap(client, personas, today, monkeypatch):
    monkeypatch.setattr(calendar_feed, "MAX_EVENTS", 3)
    customers = bulk_customers(owner=personas.salesperson, count=5, grade=grade("D"))
    for customer in customers:
        plan_item(personas.salesperson, customer, today)
    feed = calendar_feed.open_calendar_feed(by=personas.salesperson)

    assert len(uids(fetch(client, feed))) == 3


# --- The address: secret, revocable -------------------------------------------------------------


def test_after_a_regeneration_the_old_address_is_dead_and_the_new_one_works(client, personas, client_as):
    feed = calendar_feed.open_calendar_feed(by=personas.salesperson)
    old = ics_url(feed)

    response = client_as("salesperson").post(reverse("activities:calendar-feed-regenerate"))

    assert response.status_code == 302
    feed.refresh_from_db()
    assert client.get(old).status_code == 404
    assert client.get(ics_url(feed)).status_code == 200


def test_opening_the_feed_twice_keeps_one_address(personas):
    first = calendar_feed.open_calendar_feed(by=personas.salesperson)
    second = calendar_feed.open_calendar_feed(by=personas.salesperson)

    assert first.pk == second.pk
    assert calendar_feed.feed_url_token(first) == calendar_feed.feed_url_token(second)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda feed, token: (feed.pk, token[:-1] + ("0" if token[-1] != "0" else "1")),
        lambda feed, token: (feed.pk, "not-a-token"),
        lambda feed, token: (feed.pk + 1000, token),
        lambda feed, token: (2**70, token),
    ],
    ids=["tampered token", "garbage token", "unknown feed", "huge id"],
)
def test_a_wrong_key_answers_404(client, personas, tamper):
    feed = calendar_feed.open_calendar_feed(by=personas.salesperson)
    feed_id, token = tamper(feed, calendar_feed.feed_url_token(feed))

    response = client.get(reverse("activities:calendar-ics", kwargs={"feed_id": feed_id, "token": token}))

    assert response.status_code == 404


def test_another_users_token_does_not_open_a_feed(client, personas):
    mine = calendar_feed.open_calendar_feed(by=personas.salesperson)
    theirs = calendar_feed.open_calendar_feed(by=personas.other_salesperson)

    url = reverse(
        "activities:calendar-ics", kwargs={"feed_id": mine.pk, "token": calendar_feed.feed_url_token(theirs)}
    )

    assert client.get(url).status_code == 404


def test_a_deactivated_users_feed_answers_404(client, personas):
    feed = calendar_feed.open_calendar_feed(by=personas.salesperson)
    User.objects.filter(pk=personas.salesperson.pk).update(is_active=False)

    assert client.get(ics_url(feed)).status_code == 404


# --- The page and the API ---------------------------------------------------------------------


def test_the_page_shows_the_address_in_the_pages_language(personas, client_as):
    client = client_as("salesperson")

    response = client.get(reverse("activities:calendar-feed"))

    feed = calendar_feed.open_calendar_feed(by=personas.salesperson)
    assert response.status_code == 200
    assert f"http://testserver{ics_url(feed)}?lang=en" in response.content.decode()
    assert f"webcal://testserver{ics_url(feed)}?lang=en" in response.content.decode()
    # Managers get the team switch; salespeople do not.
    assert 'name="include_team"' not in response.content.decode()
    assert (
        'name="include_team"'
        in client_as("manager").get(reverse("activities:calendar-feed")).content.decode()
    )


def test_the_api_gives_the_address_and_regenerates_it(client, personas, client_as):
    api = client_as("salesperson")

    first = api.get(reverse("calendar-feed")).json()
    second = api.post(reverse("calendar-feed-regenerate")).json()

    assert set(first) == {"url", "include_team", "created_at"}
    assert first["url"] != second["url"]
    assert client.get(first["url"]).status_code == 404
    assert client.get(second["url"]).status_code == 200
    assert (
        api.patch(
            reverse("calendar-feed"), {"include_team": True}, content_type="application/json"
        ).status_code
        == 403
    )
    manager = client_as("manager").patch(
        reverse("calendar-feed"), {"include_team": True}, content_type="application/json"
    )
    assert manager.json()["include_team"] is True


# --- Queries ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role, expected_queries", [("salesperson", 3), ("manager", 4)])
def test_the_feed_runs_the_same_queries_at_two_sizes(
    client, personas, today, django_assert_num_queries, role, expected_queries
):
    person = personas.salesperson
    feed = calendar_feed.open_calendar_feed(by=getattr(personas, role))
    if role == "manager":
        feed = calendar_feed.set_include_team(by=personas.manager, include=True)
    count = 0
    for total in (5, 100):
        customers = bulk_customers(owner=person, count=total - count, start=count, grade=grade("D"))
        Customer.objects.filter(pk__in=[c.pk for c in customers]).update(next_follow_up_on=today)
        for customer in customers:
            plan_item(person, customer, today)
        count = total
        # 1 the feed and its owner, (manager: 2 the team tree), then the plan items with their
        # plans, owners and customers, then the follow-ups with their owners.
        with django_assert_num_queries(expected_queries):
            calendar = fetch(client, feed)
        assert len(calendar.walk("VEVENT")) == 2 * total

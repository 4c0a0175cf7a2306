"""The private calendar feed (iCalendar, ``.ics``): a user's plan items and follow-ups in
their phone's own calendar, and for managers who ask for it their team's.

The feed's URL carries an HMAC of its owner and ``CalendarFeed.nonce`` (not the nonce
itself): the URL can be shown again at any time, a database dump alone does not reveal
it, and a new nonce (``regenerate_calendar_feed``) kills every URL handed out before.
"""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from crm.links import url_for_pk
from crm.models import Customer, User

from .models import CalendarFeed, PlanItem, PlanItemKind, Purpose

HMAC_SALT = "activities.calendar-feed"
# The window a feed covers around today: recent days stay visible, the plan ahead shows.
DAYS_BACK = 14
DAYS_AHEAD = 60
# At most this many events in one feed (a manager's whole tree over 75 days can be large).
MAX_EVENTS = 2_000
# The largest key a 64-bit database column holds (a larger id in a URL is unknown, not a 500).
MAX_ID = 2**63 - 1
# A plan item with a start but no end blocks this long in the calendar.
DEFAULT_SLOT = timedelta(hours=1)


# --- The URL's token ----------------------------------------------------------------------------


def feed_url_token(feed: CalendarFeed) -> str:
    """The secret part of the feed's URL: an HMAC of the owner and the current nonce."""
    return salted_hmac(HMAC_SALT, f"{feed.owner_id}:{feed.nonce}", algorithm="sha256").hexdigest()


def feed_for_token(feed_id: int, token: str) -> CalendarFeed | None:
    """The feed whose URL this is, with its owner; ``None`` for an unknown feed, a wrong
    token (an old URL after a regeneration) or a deactivated owner. One query."""
    if not 0 < feed_id <= MAX_ID:
        return None
    feed = CalendarFeed.objects.select_related("owner").filter(pk=feed_id, owner__is_active=True).first()
    if feed is None or not constant_time_compare(feed_url_token(feed), token):
        return None
    return feed


def feed_url(request, feed: CalendarFeed) -> str:
    """The feed's absolute address, in the language of the page that shows it (a calendar
    app sends no language of its own; the feed view reads ``lang``)."""
    path = reverse("activities:calendar-ics", kwargs={"feed_id": feed.pk, "token": feed_url_token(feed)})
    return f"{request.build_absolute_uri(path)}?lang={translation.get_language()}"


# --- Writes -----------------------------------------------------------------------------------


def open_calendar_feed(*, by: User) -> CalendarFeed:
    """``by``'s feed, created with a random nonce the first time. Any signed-in user, for
    themselves; idempotent (the one-to-one owner settles two first calls at once)."""
    feed = CalendarFeed.objects.filter(owner=by).first()
    if feed is not None:
        return feed
    try:
        with transaction.atomic():
            return CalendarFeed.objects.create(owner=by, nonce=secrets.token_urlsafe(32))
    except IntegrityError:
        return CalendarFeed.objects.get(owner=by)


@transaction.atomic
def regenerate_calendar_feed(*, by: User) -> CalendarFeed:
    """A new nonce for ``by``'s feed: every URL of it handed out before answers 404 from
    now on. Any signed-in user, for themselves; creates the feed if there is none."""
    feed = open_calendar_feed(by=by)
    feed.nonce = secrets.token_urlsafe(32)
    feed.created_at = timezone.now()
    feed.save(update_fields=["nonce", "created_at"])
    return feed


@transaction.atomic
def set_include_team(*, by: User, include: bool) -> CalendarFeed:
    """Managers and admins: also show the plan items and follow-ups of the people in
    their team tree. The URL stays the same."""
    if not by.is_manager_or_admin:
        raise PermissionDenied(_("Only managers include their team's items in their calendar."))
    feed = open_calendar_feed(by=by)
    feed.include_team = include
    feed.save(update_fields=["include_team"])
    return feed


# --- The feed ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedWindow:
    first: date
    last: date

    @classmethod
    def around(cls, today: date) -> "FeedWindow":
        return cls(today - timedelta(days=DAYS_BACK), today + timedelta(days=DAYS_AHEAD))


def _shows_team(feed: CalendarFeed) -> bool:
    return feed.include_team and feed.owner.is_manager_or_admin


def feed_plan_items(feed: CalendarFeed, window: FeedWindow, limit: int = MAX_EVENTS) -> list[PlanItem]:
    """The plan items the feed shows: its owner's (with ``include_team``, also their team
    tree's) on days in ``window``, on customers the owner may see. One query (a
    manager's team tree costs one more, once)."""
    owner = feed.owner
    people = User.objects.visible_to(owner).values("pk") if _shows_team(feed) else [owner.pk]
    return list(
        PlanItem.objects.filter(
            plan__owner__in=people,
            plan__date__range=(window.first, window.last),
            customer__in=Customer.objects.visible_to(owner).values("pk"),
        )
        .select_related("plan__owner", "customer")
        .order_by("plan__date", "starts_at", "pk")[:limit]
    )


def feed_follow_ups(feed: CalendarFeed, window: FeedWindow, limit: int = MAX_EVENTS) -> list[Customer]:
    """The live customers with a next follow-up in ``window`` that the feed shows: owned
    by its owner (with ``include_team``, by anyone in their team tree). One query."""
    customers = Customer.objects.visible_to(feed.owner).live()
    scope = Q(owner__isnull=False) if _shows_team(feed) else Q(owner=feed.owner)
    return list(
        customers.filter(scope, next_follow_up_on__range=(window.first, window.last))
        .select_related("owner")
        .order_by("next_follow_up_on", "pk")[:limit]
    )


def build_ics(feed: CalendarFeed, today: date, *, base_url: str, now: datetime | None = None) -> bytes:
    """The feed as an iCalendar document: each plan item an event in its time slot (in
    the company's time zone) or all day, each follow-up an all-day event, with stable
    UIDs (``planitem-<id>@host``, ``followup-<customer id>@host``: a moved follow-up
    moves in the calendar instead of doubling). Items of other people are prefixed with
    their name. At most ``MAX_EVENTS`` events; a constant number of queries.

    ``base_url`` (scheme and host, no trailing slash) makes the customers' links."""
    now = now or timezone.now()
    window = FeedWindow.around(today)
    zone = ZoneInfo(settings.TIME_ZONE)
    host = base_url.split("://", 1)[-1].split("/", 1)[0]
    customer_url = url_for_pk("crm:customer-detail")
    labels = _Labels()

    calendar = Calendar()
    calendar.add("prodid", "-//Funnel CRM//Calendar feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("Funnel CRM · %(name)s") % {"name": feed.owner.display_name})
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    calendar.add("x-published-ttl", "PT1H")
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})

    items = feed_plan_items(feed, window, limit=MAX_EVENTS)
    follow_ups = feed_follow_ups(feed, window, limit=MAX_EVENTS - len(items))  # none read when full
    for item in items:
        event = _event(
            f"planitem-{item.pk}@{host}",
            now,
            labels.summary(feed, item.plan.owner, labels.kind(item.kind), item.customer.name),
            f"{base_url}{customer_url(item.customer_id)}",
        )
        if item.starts_at:
            starts = datetime.combine(item.plan.date, item.starts_at, tzinfo=zone)
            ends = (
                datetime.combine(item.plan.date, item.ends_at, tzinfo=zone)
                if item.ends_at
                else starts + DEFAULT_SLOT
            )
            event.add("dtstart", starts)
            event.add("dtend", ends)
        else:
            _all_day(event, item.plan.date)
        event.add("description", labels.plan_item_description(item))
        if item.area:
            event.add("location", item.area)
        calendar.add_component(event)
    for customer in follow_ups:
        event = _event(
            f"followup-{customer.pk}@{host}",
            now,
            labels.summary(feed, customer.owner, labels.follow_up, customer.name),
            f"{base_url}{customer_url(customer.pk)}",
        )
        _all_day(event, customer.next_follow_up_on)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _event(uid: str, now: datetime, summary: str, url: str) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("summary", summary)
    event.add("url", url)
    return event


def _all_day(event: Event, day: date) -> None:
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("transp", "TRANSPARENT")


class _Labels:
    """The feed's words, translated once per feed instead of once per event."""

    def __init__(self):
        self.kinds = {value: str(label) for value, label in PlanItemKind.choices}
        self.purposes = {value: str(label) for value, label in Purpose.choices}
        self.follow_up = _("Follow up")
        self.what = _("%(what)s: %(customer)s")
        self.whose = _("%(person)s · %(event)s")
        self.purpose_line = _("Purpose: %(purpose)s")

    def kind(self, kind: str) -> str:
        return self.kinds.get(kind, kind)

    def summary(self, feed: CalendarFeed, person: User, what: str, customer: str) -> str:
        text = self.what % {"what": what, "customer": customer}
        if person is not None and person.pk != feed.owner_id:
            text = self.whose % {"person": person.display_name, "event": text}
        return text

    def plan_item_description(self, item: PlanItem) -> str:
        lines = [self.purpose_line % {"purpose": self.purposes.get(item.purpose, item.purpose)}]
        if item.note:
            lines.append(item.note)
        return "\n".join(lines)

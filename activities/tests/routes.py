"""Role expectations for the activities routes (see ``config/tests/route_matrix.py``).

The world (added to ``crm.tests.routes.build_world``'s customer of ``salesperson``):
an activity on that customer, a submitted and a draft plan, a submitted and a draft
report, a market report, all by ``salesperson``, and a notification for them. Only the
owner, the East manager (team tree) and the admin see them; everyone else gets 404.
Moving a plan or a report is the owner's (submit) or the reviewer's (approve, return,
sign off): the other one of the two gets 403. Mutating routes rebuild the world per
role, so each build takes fresh dates (one plan and one report per person and day).
"""

import itertools
from datetime import timedelta

from django.utils import timezone

from activities import calendar_feed, services, visits
from activities.models import MarketReportKind, Purpose
from activities.tests.factories import (
    ensure_default_catalog,
    log_call,
    objection,
    photo_upload,
    submitted_plan,
)
from config.tests.route_matrix import (
    API,
    API_MANAGERS,
    API_OWNED,
    PAGE,
    PAGE_MANAGERS,
    PAGE_OWNED,
    PUBLIC,
    Route,
    expect,
)
from crm.services import notify

_builds = itertools.count()

EVERYONE_REDIRECTED = dict.fromkeys(PUBLIC, 302)
# A plain POST on the salesperson's own plan or report: the owner goes on (302), their
# manager and the admin see it but may not change it (403), everyone else: 404.
PAGE_OWNER_POST = expect(404, 302, salesperson=302, manager=403, admin=403)
# A review on the salesperson's submitted plan or report: the reviewers go on (302),
# the owner may not review their own (403).
PAGE_REVIEW_POST = expect(404, 302, salesperson=403, manager=302, admin=302)
API_OWNER_POST = expect(404, 401, salesperson=200, manager=403, admin=403)
API_REVIEW_POST = expect(404, 401, salesperson=403, manager=200, admin=200)
# Notifications are personal: even the admin gets 404 for someone else's.
PAGE_OWN_NOTIFICATION = expect(404, 302, salesperson=302)
API_OWN_NOTIFICATION = expect(404, 401, salesperson=200)


def build_world(world) -> None:
    ensure_default_catalog()
    salesperson = world.personas.salesperson
    customer = world.customer
    n = next(_builds)
    today = timezone.localdate()
    world.activity = log_call(customer, by=salesperson, objection=objection(3), outcome="Met the buyer")
    world.plan = submitted_plan(salesperson, customer, day=today + timedelta(days=1 + 2 * n))
    world.draft_plan = services.open_plan(by=salesperson, day=today + timedelta(days=2 + 2 * n))
    world.plan_item = services.add_plan_item(
        plan=world.draft_plan, by=salesperson, customer=customer, purpose=Purpose.SERVICE
    )
    world.report = services.submit_report(
        report=services.open_report(by=salesperson, day=today - timedelta(days=1 + 2 * n)), by=salesperson
    )
    world.draft_report = services.open_report(by=salesperson, day=today - timedelta(days=2 + 2 * n))
    world.market_report = services.file_market_report(
        by=salesperson,
        kind=MarketReportKind.COMPLAINT,
        customer=customer,
        title="Late delivery",
        body="Two pallets arrived a week late.",
    )
    world.notification = notify(recipients=[salesperson], kind="test", title="Hello")[0]
    world.calendar_feed = calendar_feed.open_calendar_feed(by=salesperson)
    if not hasattr(world, "visit"):  # a visit (no location) by ``salesperson`` at their customer
        world.visit, _created = visits.check_in(by=salesperson, customer=customer, fix=None, status="denied")
    world.visit_photo = visits.attach_photo(by=salesperson, visit=world.visit, upload=photo_upload())
    # Their manager went along (陪同拜访): the visit's one companion.
    visits.add_companion(by=salesperson, visit=world.visit, user=world.personas.manager)


def _pk(name):
    return lambda w: {"pk": getattr(w, name).pk}


def _today(w):
    return {"date": timezone.localdate().isoformat()}


def _comment(w):
    return {"comment": "Add the visit to Harbor Point first."}


def _plan_add(w):
    """A day far ahead: no plan of the world's is there (each role gets a fresh world)."""
    return {"customer": w.customer.pk, "day": (timezone.localdate() + timedelta(days=300)).isoformat()}


def _companion(w):
    return {"pk": w.visit.pk, "user_id": w.personas.manager.pk}


def _coaching_note(w):
    return {"coaching_note": "Ask for the buyer."}


def _calendar_ics(w):
    return {"feed_id": w.calendar_feed.pk, "token": calendar_feed.feed_url_token(w.calendar_feed)}


ROUTES = [
    # --- Pages -----------------------------------------------------------------------
    Route("activities:activity-list", PAGE),
    # GET the form; logging per role and visibility: test_log_activity.py.
    Route("activities:log-activity", PAGE_OWNED, kwargs=lambda w: {"pk": w.customer.pk}),
    Route("activities:plans", PAGE),
    Route("activities:plan-open", EVERYONE_REDIRECTED, method="post", mutates=True, data=_today),
    Route("activities:plan-detail", PAGE_OWNED, kwargs=_pk("plan")),
    Route(
        "activities:plan-item-add",
        PAGE_OWNER_POST,
        method="post",
        mutates=True,
        kwargs=_pk("draft_plan"),
        data=lambda w: {"customer": w.customer.pk, "kind": "visit", "purpose": "service"},
    ),
    # The picker's rows are the owner's; one click adds visible customers to one's own plan
    # (an invisible one is refused with a message: a redirect all the same).
    Route(
        "activities:plan-picker",
        expect(404, 302, salesperson=200, manager=403, admin=403),
        kwargs=_pk("draft_plan"),
        query="?q=cu",
    ),
    Route("activities:plan-add-customers", EVERYONE_REDIRECTED, method="post", mutates=True, data=_plan_add),
    Route(
        "activities:plan-item-delete", PAGE_OWNER_POST, method="post", mutates=True, kwargs=_pk("plan_item")
    ),
    Route(
        "activities:plan-item-done",
        PAGE_OWNER_POST,
        method="post",
        mutates=True,
        kwargs=_pk("plan_item"),
        data=lambda w: {"done": "1"},
    ),
    Route("activities:plan-submit", PAGE_OWNER_POST, method="post", mutates=True, kwargs=_pk("draft_plan")),
    Route("activities:plan-approve", PAGE_REVIEW_POST, method="post", mutates=True, kwargs=_pk("plan")),
    Route(
        "activities:plan-return",
        PAGE_REVIEW_POST,
        method="post",
        mutates=True,
        kwargs=_pk("plan"),
        data=_comment,
    ),
    Route("activities:report-open", EVERYONE_REDIRECTED, method="post", mutates=True, data=_today),
    # GET; saving the owner's fields: test_plans_and_reports.py.
    Route("activities:report-detail", PAGE_OWNED, kwargs=_pk("report")),
    Route(
        "activities:report-submit", PAGE_OWNER_POST, method="post", mutates=True, kwargs=_pk("draft_report")
    ),
    Route("activities:report-sign-off", PAGE_REVIEW_POST, method="post", mutates=True, kwargs=_pk("report")),
    Route(
        "activities:report-return",
        PAGE_REVIEW_POST,
        method="post",
        mutates=True,
        kwargs=_pk("report"),
        data=_comment,
    ),
    Route("activities:approvals", PAGE_MANAGERS),
    Route("activities:market-report-list", PAGE),
    Route("activities:market-report-create", PAGE),
    Route("activities:market-report-detail", PAGE_OWNED, kwargs=_pk("market_report")),
    Route("activities:notifications", PAGE),
    Route(
        "activities:notification-read",
        PAGE_OWN_NOTIFICATION,
        method="post",
        mutates=True,
        kwargs=_pk("notification"),
    ),
    Route("activities:notifications-read-all", EVERYONE_REDIRECTED, method="post", mutates=True),
    # --- API -------------------------------------------------------------------------
    Route("my-day", API),
    Route("activity-list", API),
    Route("activity-detail", API_OWNED, kwargs=_pk("activity")),
    Route("objection-list", API),
    Route("objection-detail", API, kwargs=lambda w: {"pk": objection(1).pk}),
    Route("dailyplan-list", API),
    Route("dailyplan-detail", API_OWNED, kwargs=_pk("plan")),
    Route(
        "dailyplan-add-item",
        expect(404, 401, salesperson=201, manager=403, admin=403),
        method="post",
        mutates=True,
        kwargs=_pk("draft_plan"),
        data=lambda w: {"customer": w.customer.pk, "kind": "call", "purpose": "order"},
    ),
    Route(
        "dailyplan-add-customers",
        expect(400, 401, salesperson=201, manager=201, admin=201),
        method="post",
        mutates=True,
        data=lambda w: {"customers": [w.customer.pk], "date": _plan_add(w)["day"]},
    ),
    Route(
        "dailyplan-remove-item",
        expect(404, 401, salesperson=204, manager=403, admin=403),
        method="delete",
        mutates=True,
        kwargs=lambda w: {"pk": w.draft_plan.pk, "item_pk": w.plan_item.pk},
    ),
    Route("dailyplan-submit", API_OWNER_POST, method="post", mutates=True, kwargs=_pk("draft_plan")),
    Route("dailyplan-approve", API_REVIEW_POST, method="post", mutates=True, kwargs=_pk("plan")),
    Route(
        "dailyplan-return", API_REVIEW_POST, method="post", mutates=True, kwargs=_pk("plan"), data=_comment
    ),
    Route("dailyreport-list", API),
    Route("dailyreport-detail", API_OWNED, kwargs=_pk("report")),
    Route("dailyreport-submit", API_OWNER_POST, method="post", mutates=True, kwargs=_pk("draft_report")),
    Route("dailyreport-sign-off", API_REVIEW_POST, method="post", mutates=True, kwargs=_pk("report")),
    Route(
        "dailyreport-return",
        API_REVIEW_POST,
        method="post",
        mutates=True,
        kwargs=_pk("report"),
        data=_comment,
    ),
    Route("marketreport-list", API),
    Route("marketreport-detail", API_OWNED, kwargs=_pk("market_report")),
    Route("notification-list", API),
    Route("notification-detail", API_OWN_NOTIFICATION, kwargs=_pk("notification")),
    Route(
        "notification-mark-read",
        API_OWN_NOTIFICATION,
        method="post",
        mutates=True,
        kwargs=_pk("notification"),
    ),
    Route("notification-mark-all-read", API, method="post", mutates=True),
    # The calendar feed: each user's own page and address; including the team is for managers.
    # The .ics is public by its token (a phone's calendar has no session): 200 for everyone.
    Route("activities:calendar-feed", PAGE),
    Route("activities:calendar-feed-regenerate", EVERYONE_REDIRECTED, method="post", mutates=True),
    Route(
        "activities:calendar-feed-team",
        expect(403, 302, manager=302, other_manager=302, admin=302),
        method="post",
        mutates=True,
        data=lambda w: {"include_team": "on"},
    ),
    Route("activities:calendar-ics", PUBLIC, kwargs=_calendar_ics),
    Route("calendar-feed", API),
    Route("calendar-feed-regenerate", API, method="post", mutates=True),
    # Visits: the team's day is the managers' (salespeople: 403, page and API alike). A
    # check-in at an invisible customer is a 400 on ``customer``, like logging an activity;
    # only the visitor checks out or adds a photo (the matrix posts JSON: 415, photos are multipart).
    Route("activities:team-day", PAGE_MANAGERS),
    Route("visit-list", API),
    Route("visit-detail", API_OWNED, kwargs=_pk("visit")),
    Route(
        "visit-check-in",
        expect(400, 401, salesperson=201, manager=201, admin=201),
        method="post",
        mutates=True,
        data=lambda w: {"customer": w.customer.pk, "location_status": "denied"},
    ),
    Route("visit-check-out", API_OWNER_POST, method="post", mutates=True, kwargs=_pk("visit")),
    Route(
        "visit-photos",
        expect(404, 401, salesperson=415, manager=403, admin=403),
        method="post",
        kwargs=_pk("visit"),
    ),
    Route("visit-team-day", API_MANAGERS),
    Route(
        "visit-customer-location",
        expect(400, 401, salesperson=200, manager=200, admin=200),
        method="post",
        mutates=True,
        data=lambda w: {"customer": w.customer.pk, "latitude": 31.23, "longitude": 121.47},
    ),
    # Visit pages: the check-in form, the visit and its photo are seen by whoever sees the
    # customer; only the visitor checks out or adds a photo (their manager and the admin:
    # 403); the owner or a manager (or the admin) corrects the customer's location.
    Route("activities:visit-check-in", PAGE_OWNED, kwargs=lambda w: {"pk": w.customer.pk}),
    Route("activities:visit-detail", PAGE_OWNED, kwargs=_pk("visit")),
    Route("activities:visit-photo", PAGE_OWNED, kwargs=_pk("visit_photo")),
    Route(
        "activities:visit-check-out",
        PAGE_OWNER_POST,
        method="post",
        mutates=True,
        kwargs=_pk("visit"),
        data=lambda w: {"location_status": "denied", "outcome": "Agreed on a trial order."},
    ),
    Route(
        "activities:visit-photo-add",
        PAGE_OWNER_POST,
        method="post",
        mutates=True,
        kwargs=_pk("visit"),
        data=lambda w: {"photo": photo_upload()},
    ),
    # Accompanied visits: the visitor, their manager or the admin changes who went along (a
    # teammate is added; the manager, the world's companion, is removed); only a companion
    # (the manager) writes a coaching note — the visitor and the admin see the visit: 403.
    Route(
        "activities:visit-companion-add",
        PAGE_OWNER_POST | {"manager": 302, "admin": 302},
        method="post",
        mutates=True,
        kwargs=_pk("visit"),
        data=lambda w: {"user": w.personas.teammate.pk},
    ),
    Route(
        "activities:visit-companion-remove",
        PAGE_OWNER_POST | {"manager": 302, "admin": 302},
        method="post",
        mutates=True,
        kwargs=_companion,
    ),
    Route(
        "activities:visit-coaching-note",
        expect(404, 302, salesperson=403, manager=302, admin=403),
        method="post",
        mutates=True,
        kwargs=_pk("visit"),
        data=_coaching_note,
    ),
    Route(
        "visit-companions",
        expect(404, 401, salesperson=201, manager=201, admin=201),
        method="post",
        mutates=True,
        kwargs=_pk("visit"),
        data=lambda w: {"user": w.personas.teammate.pk},
    ),
    Route(
        "visit-companion-remove",
        expect(404, 401, salesperson=204, manager=204, admin=204),
        method="delete",
        mutates=True,
        kwargs=_companion,
    ),
    Route(
        "visit-coaching-note",
        expect(404, 401, salesperson=403, manager=200, admin=403),
        method="post",
        mutates=True,
        kwargs=_pk("visit"),
        data=_coaching_note,
    ),
    Route(
        "activities:customer-location",
        expect(404, 302, salesperson=302, manager=302, admin=302),
        method="post",
        mutates=True,
        kwargs=lambda w: {"pk": w.customer.pk},
        data=lambda w: {"latitude": "31.230416", "longitude": "121.473701"},
    ),
]

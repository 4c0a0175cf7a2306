"""Role expectations for the reports routes (see ``config/tests/route_matrix.py``).

The world adds a month target of ``salesperson`` and a team target of East, an
activity target and a weekly rollup row of ``salesperson``.
"""

from datetime import date
from decimal import Decimal

from config.tests.route_matrix import API, API_MANAGERS, API_OWNED, PAGE, PAGE_MANAGERS, Route, expect
from funnel.tests.factories import grade
from reports.models import ActionItem, ActivityTarget, Meeting, Target, WeeklyRollup
from reports.periods import last_complete_week, today

# Exports: salespeople are refused unless the admin allows it (crm's export policy).
PAGE_EXPORT = expect(403, 302, manager=200, other_manager=200, admin=200)
# Calibrating a grade: admins only (redirected back to the report).
PAGE_CALIBRATE = expect(403, 302, admin=302)
# Adjusting the salesperson's forecast: their manager and admins (back to the page);
# salespeople may not; another team's manager cannot see them.
FORECAST_ADJUST = expect(403, 302, manager=302, admin=302, other_manager=404)
# Splitting East's team target: its manager and admins; another team's manager cannot see it.
PAGE_SPLIT = expect(403, 302, manager=200, admin=200, other_manager=404)
# East's morning meeting: East's tree reads it, its manager and admins hold it, West gets 404.
PAGE_MEETING = expect(200, 302, other_salesperson=404, other_manager=404)
MEETING_WRITE = expect(403, 302, manager=302, admin=302, other_salesperson=404, other_manager=404)
MEETING_EXPORT = expect(403, 302, manager=200, admin=200, other_salesperson=404, other_manager=404)
API_MEETING = expect(200, 401, other_salesperson=404, other_manager=404)
API_MEETING_WRITE = expect(403, 401, manager=200, admin=200, other_salesperson=404, other_manager=404)
# The salesperson's action item: they and the meeting's holders close it; teammates may not.
ACTION_ITEM_DONE = expect(
    403, 302, salesperson=302, manager=302, admin=302, other_salesperson=404, other_manager=404
)


def build_world(world) -> None:
    salesperson = world.personas.salesperson
    # The browser tests build the world more than once in a session: get the same rows back.
    world.target, _ = Target.objects.get_or_create(
        owner=salesperson,
        period_kind="month",
        period_start=date(2026, 1, 1),
        defaults={"sales_amount": Decimal(100000)},
    )
    world.team_target, _ = Target.objects.get_or_create(
        team=salesperson.team,
        period_kind="quarter",
        period_start=date(2026, 1, 1),
        defaults={"sales_amount": Decimal(300000)},
    )
    world.activity_target, _ = ActivityTarget.objects.get_or_create(
        owner=salesperson, cadence="day", defaults={"calls": 20, "visits": 2}
    )
    world.meeting, _ = Meeting.objects.get_or_create(
        team=salesperson.team, kind="morning", date=today(), defaults={"held_by": salesperson.team.manager}
    )
    world.action_item, _ = ActionItem.objects.get_or_create(
        meeting=world.meeting, owner=salesperson, text="Call back Acme", due_on=today()
    )
    world.rollup, _ = WeeklyRollup.objects.get_or_create(
        salesperson=salesperson,
        week_start=last_complete_week(today()),
        defaults={"team": salesperson.team, "calls": 12},
    )


ROUTES = [
    # --- Pages -----------------------------------------------------------------------
    Route("reports:index", PAGE),
    Route("reports:funnel", PAGE),
    Route("reports:funnel-export", PAGE_EXPORT),
    Route("reports:backward-plan", PAGE, query="?target_kind=orders&target=10&period=quarter"),
    Route("reports:backward-plan-export", PAGE_EXPORT, query="?target_kind=orders&target=10"),
    Route("reports:conversion", PAGE),
    Route("reports:conversion-export", PAGE_EXPORT),
    Route(
        "reports:calibrate",
        PAGE_CALIBRATE,
        method="post",
        mutates=True,
        kwargs=lambda w: {"pk": grade("C").pk},
        data=lambda w: {"probability": "35"},
    ),
    Route("reports:quota", PAGE),
    Route("reports:quota-export", PAGE_EXPORT),
    Route("reports:forecast", PAGE, query="?period=2&category=commit"),
    Route("reports:forecast-export", PAGE_EXPORT),
    Route("reports:forecast-accuracy", PAGE),
    Route("reports:forecast-accuracy-export", PAGE_EXPORT),
    Route(
        "reports:forecast-adjust",
        FORECAST_ADJUST,
        method="post",
        mutates=True,
        data=lambda w: {
            "owner": w.personas.salesperson.pk,
            "period": "0",
            "amount": "1000",
            "note": "Tender late",
        },
    ),
    Route("reports:activity", PAGE),
    Route("reports:activity-export", PAGE_EXPORT),
    Route("reports:weekly", PAGE_MANAGERS),
    Route("reports:weekly-export", PAGE_MANAGERS),
    Route("reports:targets", PAGE),
    Route("reports:target-split", PAGE_SPLIT, kwargs=lambda w: {"pk": w.team_target.pk}),
    Route("reports:meetings", PAGE),
    Route("reports:meeting", PAGE_MEETING, kwargs=lambda w: {"pk": w.meeting.pk}),
    Route(
        "reports:meeting-notes",
        MEETING_WRITE,
        method="post",
        mutates=True,
        kwargs=lambda w: {"pk": w.meeting.pk},
        data=lambda w: {"notes": "Focus on C customers"},
    ),
    Route(
        "reports:meeting-attendance",
        MEETING_WRITE,
        method="post",
        mutates=True,
        kwargs=lambda w: {"pk": w.meeting.pk},
        data=lambda w: {f"status_{w.personas.salesperson.pk}": "present"},
    ),
    Route(
        "reports:meeting-action-items",
        MEETING_WRITE,
        method="post",
        mutates=True,
        kwargs=lambda w: {"pk": w.meeting.pk},
        data=lambda w: {"owner": w.personas.salesperson.pk, "text": "Visit Acme", "due_on": str(today())},
    ),
    Route("reports:meeting-export", MEETING_EXPORT, kwargs=lambda w: {"pk": w.meeting.pk}),
    Route(
        "reports:action-item-done",
        ACTION_ITEM_DONE,
        method="post",
        mutates=True,
        kwargs=lambda w: {"pk": w.action_item.pk},
    ),
    # --- API -------------------------------------------------------------------------
    Route("target-list", API),
    Route("target-detail", API_OWNED, kwargs=lambda w: {"pk": w.target.pk}),
    Route("activitytarget-list", API),
    Route("activitytarget-detail", API_OWNED, kwargs=lambda w: {"pk": w.activity_target.pk}),
    Route("weeklyrollup-list", API),
    Route("weeklyrollup-detail", API_OWNED, kwargs=lambda w: {"pk": w.rollup.pk}),
    Route("report-funnel", API),
    Route("report-diagnosis", API),
    Route("report-backward-plan", API, query="?target_orders=10"),
    Route("report-conversion", API),
    Route("report-quota", API),
    Route("report-activity-funnel", API),
    Route("report-forecast", API, query="?period=2&category=commit"),
    Route("report-forecast-accuracy", API),
    Route("report-weekly", API_MANAGERS),
    Route("meeting-list", API),
    Route("meeting-detail", API_MEETING, kwargs=lambda w: {"pk": w.meeting.pk}),
    Route(
        "meeting-attendance",
        API_MEETING_WRITE,
        method="post",
        mutates=True,
        kwargs=lambda w: {"pk": w.meeting.pk},
        data=lambda w: {"attendance": [{"user": w.personas.salesperson.pk, "status": "remote"}]},
    ),
    Route(
        "meeting-action-items",
        expect(403, 401, manager=201, admin=201, other_salesperson=404, other_manager=404),
        method="post",
        mutates=True,
        kwargs=lambda w: {"pk": w.meeting.pk},
        data=lambda w: {"owner": w.personas.salesperson.pk, "text": "Visit Acme", "due_on": str(today())},
    ),
    Route("actionitem-list", API),
    Route("actionitem-detail", API_MEETING, kwargs=lambda w: {"pk": w.action_item.pk}),
    Route(
        "actionitem-done",
        expect(403, 401, salesperson=200, manager=200, admin=200, other_salesperson=404, other_manager=404),
        method="post",
        mutates=True,
        kwargs=lambda w: {"pk": w.action_item.pk},
    ),
]

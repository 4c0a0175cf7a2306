"""Sales meetings (早会、晚会、周会): each kind assembled for its manager, the minutes
(attendance, notes, action items) and their rules, action items on the owner's "my
day" and at the next meeting of the kind until done, roles, Excel and API, and
constant query counts."""

import io
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities import services as activity_services
from activities.models import ActivityKind, MarketReportKind, Purpose
from crm.models import CrmSettings, Customer
from crm.tests.factories import CustomerFactory
from funnel.clock import previous_working_day
from funnel.models import FunnelSettings
from funnel.tests.factories import grade
from reports import meetings
from reports.models import ActionItem, Meeting, MeetingAttendance, MeetingKind, WeeklyRollup
from reports.periods import last_complete_week, today, week_start

from .helpers import activity

pytestmark = pytest.mark.django_db


@pytest.fixture
def east(personas):
    return personas.salesperson.team


def _open(personas, kind=MeetingKind.MORNING, day=None):
    meeting, _created = meetings.open_meeting(
        by=personas.manager, team=personas.salesperson.team, kind=kind, day=day or today()
    )
    return meeting


def _page(client, meeting):
    response = client.get(reverse("reports:meeting", args=[meeting.pk]))
    assert response.status_code == 200
    return response.content.decode()


# --- Services --------------------------------------------------------------------------------


def test_opening_a_meeting_twice_opens_the_same_one(personas, east):
    first, created = meetings.open_meeting(by=personas.manager, team=east, kind="morning", day=today())
    again, created_again = meetings.open_meeting(by=personas.manager, team=east, kind="morning", day=today())

    assert (created, created_again) == (True, False)
    assert first.pk == again.pk and Meeting.objects.count() == 1
    assert first.held_by == personas.manager


def test_a_weekly_meeting_is_filed_under_its_monday(personas, east):
    wednesday = week_start(today()) + timedelta(days=2)
    meeting, _created = meetings.open_meeting(by=personas.manager, team=east, kind="weekly", day=wednesday)
    assert meeting.date == week_start(today())


def test_only_the_teams_managers_open_its_meetings(personas, east):
    with pytest.raises(PermissionDenied):
        meetings.open_meeting(by=personas.salesperson, team=east, kind="morning", day=today())
    with pytest.raises(PermissionDenied):
        meetings.open_meeting(by=personas.other_manager, team=east, kind="morning", day=today())
    with pytest.raises(ValidationError) as error:
        meetings.open_meeting(by=personas.manager, team=east, kind="lunch", day=today())
    assert "kind" in error.value.message_dict


def test_attendance_is_upserted_per_person(personas):
    meeting = _open(personas)
    meetings.record_attendance(
        meeting=meeting, by=personas.manager, statuses={personas.salesperson.pk: "present"}
    )
    meetings.record_attendance(
        meeting=meeting, by=personas.manager, statuses={personas.salesperson.pk: "remote"}
    )

    assert list(MeetingAttendance.objects.values_list("user_id", "status")) == [
        (personas.salesperson.pk, "remote")
    ]


def test_bad_attendance_names_the_field_and_writes_nothing(personas):
    meeting = _open(personas)
    with pytest.raises(ValidationError) as error:
        meetings.record_attendance(
            meeting=meeting,
            by=personas.manager,
            statuses={personas.salesperson.pk: "present", personas.other_salesperson.pk: "present"},
        )
    assert "user" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        meetings.record_attendance(
            meeting=meeting, by=personas.manager, statuses={personas.teammate.pk: "asleep"}
        )
    assert "status" in error.value.message_dict
    assert not MeetingAttendance.objects.exists()


def test_an_action_item_needs_a_text_a_team_member_and_a_due_date_from_the_meeting(personas):
    meeting = _open(personas)
    with pytest.raises(ValidationError) as error:
        meetings.add_action_item(
            meeting=meeting,
            by=personas.manager,
            owner=personas.other_salesperson,
            text="  ",
            due_on=meeting.date - timedelta(days=1),
        )
    assert set(error.value.message_dict) == {"owner", "text", "due_on"}
    assert not ActionItem.objects.exists()


def test_a_double_submitted_action_item_is_one_row(personas):
    meeting = _open(personas)
    fields = {"owner": personas.salesperson, "text": "Call Acme's buyer", "due_on": today()}
    first = meetings.add_action_item(meeting=meeting, by=personas.manager, **fields)
    again = meetings.add_action_item(meeting=meeting, by=personas.manager, **fields)
    assert first.pk == again.pk and ActionItem.objects.count() == 1


def test_done_by_the_owner_or_a_manager_and_twice_keeps_the_first(personas):
    meeting = _open(personas)
    item = meetings.add_action_item(
        meeting=meeting, by=personas.manager, owner=personas.salesperson, text="Send quote", due_on=today()
    )
    with pytest.raises(PermissionDenied):
        meetings.complete_action_item(item=item, by=personas.teammate)
    meetings.complete_action_item(item=item, by=personas.salesperson)
    first_done = item.done_at
    meetings.complete_action_item(item=item, by=personas.manager)
    item.refresh_from_db()
    assert item.done_at == first_done and item.done_by == personas.salesperson


# --- Each kind of meeting, as its manager ---------------------------------------------------------


def test_the_morning_meeting_shows_yesterdays_reports_and_todays_plans(personas, client_as):
    salesperson = personas.salesperson
    customer = CustomerFactory(owner=salesperson, name="Acme Morning", grade=grade("C"))
    report = activity_services.open_report(by=salesperson, day=previous_working_day(today()))
    activity_services.submit_report(report=report, by=salesperson)
    plan = activity_services.open_plan(by=salesperson, day=today())
    activity_services.add_plan_item(plan=plan, by=salesperson, customer=customer, purpose=Purpose.SERVICE)

    html = _page(client_as("manager"), _open(personas))

    assert 'data-testid="section-morning"' in html
    assert "Acme Morning" in html
    assert "Submitted" in html  # yesterday's report
    assert "No report" in html  # the teammate filed none


def test_mondays_morning_meeting_reviews_fridays_reports(personas, client_as):
    friday = today() - timedelta(days=today().isoweekday() + 2)
    monday = friday + timedelta(days=3)
    report = activity_services.open_report(by=personas.salesperson, day=friday)
    activity_services.submit_report(report=report, by=personas.salesperson)

    sections = meetings.morning_sections(
        personas.manager, _open(personas, day=monday), [personas.salesperson]
    )

    assert sections["yesterday"] == friday
    assert sections["rows"][0]["report"] == report


def test_the_evening_meeting_shows_the_days_work_plan_and_escalations(personas, client_as):
    salesperson = personas.salesperson
    done = CustomerFactory(owner=salesperson, name="Visited Ltd", grade=grade("C"))
    missed = CustomerFactory(owner=salesperson, name="Missed Ltd", grade=grade("D"))
    plan = activity_services.open_plan(by=salesperson, day=today())
    for customer in (done, missed):
        activity_services.add_plan_item(plan=plan, by=salesperson, customer=customer, purpose=Purpose.SERVICE)
    item = plan.items.get(customer=done)
    activity_services.set_plan_item_done(item=item, by=salesperson, done=True)
    for _ in range(3):
        activity(owner=salesperson, customer=done, kind=ActivityKind.CALL)
    activity_services.file_market_report(
        by=salesperson,
        kind=MarketReportKind.COMPLAINT,
        title="Late delivery",
        body="Two weeks late",
        customer=done,
    )

    html = _page(client_as("manager"), _open(personas, kind=MeetingKind.EVENING))

    assert 'data-testid="section-evening"' in html
    assert "Missed Ltd" in html  # not done
    assert "Late delivery" in html
    assert '<td class="num">3</td>' in html  # the salesperson's calls


def test_the_weekly_meeting_shows_the_weekly_report_movement_stuck_and_targets(personas, client_as):
    salesperson = personas.salesperson
    WeeklyRollup.objects.create(
        salesperson=salesperson,
        team=salesperson.team,
        week_start=last_complete_week(today()),
        orders=4,
        visits=8,
    )
    stuck = CustomerFactory(
        owner=salesperson, name="Stuck Corp", grade=grade("B"), expected_value=Decimal(1000)
    )
    Customer.objects.filter(pk=stuck.pk).update(stagnant_from=timezone.now() - timedelta(days=3))

    html = _page(client_as("manager"), _open(personas, kind=MeetingKind.WEEKLY))

    assert 'data-testid="section-weekly"' in html
    assert "Stuck Corp" in html
    assert "50.0" in html  # last week's transaction rate: 4 orders / 8 visits
    assert 'data-testid="target-row"' in html
    assert 'data-testid="movement"' in html


# --- Acceptance: an action item on the owner's "my day" and at the next meeting --------------------


def test_a_morning_action_item_follows_its_owner_until_done(personas, client_as):
    manager, salesperson = client_as("manager"), client_as("salesperson")
    monday = _open(personas, day=today())
    response = manager.post(
        reverse("reports:meeting-action-items", args=[monday.pk]),
        {"owner": personas.salesperson.pk, "text": "Bring the C customers' quotes", "due_on": str(today())},
    )
    assert response.status_code == 302
    item = ActionItem.objects.get()

    # On the owner's "my day", with its "done" button, and not on the teammate's.
    home = salesperson.get(reverse("home")).content.decode()
    assert "Bring the C customers&#x27; quotes" in home
    assert reverse("reports:action-item-done", args=[item.pk]) in home
    assert "Bring the C customers" not in client_as("teammate").get(reverse("home")).content.decode()

    # At the next morning meeting, not at the evening one.
    tomorrow = _open(personas, day=today() + timedelta(days=1))
    assert "Bring the C customers" in _page(manager, tomorrow)
    assert "Bring the C customers" not in _page(manager, _open(personas, kind=MeetingKind.EVENING))

    # Done from "my day": gone from there and from the following morning meetings.
    response = salesperson.post(reverse("reports:action-item-done", args=[item.pk]), {"next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "Bring the C customers" not in salesperson.get(reverse("home")).content.decode()
    assert "Bring the C customers" not in _page(manager, _open(personas, day=today() + timedelta(days=2)))


def test_done_from_my_day_with_htmx_answers_the_closed_row(personas, client_as):
    item = meetings.add_action_item(
        meeting=_open(personas), by=personas.manager, owner=personas.salesperson, text="Tidy", due_on=today()
    )
    response = client_as("salesperson").post(
        reverse("reports:action-item-done", args=[item.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and b'data-testid="action-item-closed"' in response.content


# --- Pages: roles and forms ----------------------------------------------------------------


def test_the_team_reads_the_minutes_only_and_other_teams_get_404(personas, client_as):
    meeting = _open(personas)
    meetings.save_notes(meeting=meeting, by=personas.manager, notes="Push the B customers")
    html = _page(client_as("salesperson"), meeting)
    assert "Push the B customers" in html
    assert "Save attendance" not in html and 'data-testid="section-morning"' not in html
    assert _page(client_as("sub_salesperson"), meeting)  # East North attends East's meetings
    for role in ("other_salesperson", "other_manager"):
        assert client_as(role).get(reverse("reports:meeting", args=[meeting.pk])).status_code == 404
    response = client_as("salesperson").post(
        reverse("reports:meeting-notes", args=[meeting.pk]), {"notes": "x"}
    )
    assert response.status_code == 403
    assert reverse("reports:meeting", args=[meeting.pk]) in (
        client_as("salesperson").get(reverse("reports:meetings")).content.decode()
    )


def test_opening_from_the_list_twice_is_one_meeting(personas, client_as, east):
    manager = client_as("manager")
    data = {"team": east.pk, "kind": "evening", "date": str(today())}
    first = manager.post(reverse("reports:meetings"), data)
    second = manager.post(reverse("reports:meetings"), data)
    assert first["Location"] == second["Location"] and Meeting.objects.count() == 1
    refused = manager.post(reverse("reports:meetings"), {**data, "team": personas.other_salesperson.team.pk})
    assert refused.status_code == 400 and b"is-invalid" in refused.content


def test_bad_action_item_input_is_shown_on_the_fields(personas, client_as):
    meeting = _open(personas)
    response = client_as("manager").post(
        reverse("reports:meeting-action-items", args=[meeting.pk]),
        {
            "owner": personas.salesperson.pk,
            "text": "Late one",
            "due_on": str(meeting.date - timedelta(days=3)),
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "The due date cannot be before the meeting." in response.content.decode()
    assert not ActionItem.objects.exists()


def test_attendance_from_the_page(personas, client_as):
    meeting = _open(personas)
    manager = client_as("manager")
    data = {f"status_{personas.salesperson.pk}": "remote", f"status_{personas.teammate.pk}": "absent"}
    assert manager.post(reverse("reports:meeting-attendance", args=[meeting.pk]), data).status_code == 302
    assert dict(MeetingAttendance.objects.values_list("user_id", "status")) == {
        personas.salesperson.pk: "remote",
        personas.teammate.pk: "absent",
    }
    bad = manager.post(
        reverse("reports:meeting-attendance", args=[meeting.pk]),
        {f"status_{personas.other_salesperson.pk}": "x"},
    )
    assert bad.status_code == 400


# --- Excel ----------------------------------------------------------------------------------


def test_the_minutes_export_holds_attendance_notes_and_action_items(personas, client_as):
    meeting = _open(personas)
    meetings.save_notes(meeting=meeting, by=personas.manager, notes="Quotes first")
    meetings.record_attendance(
        meeting=meeting, by=personas.manager, statuses={personas.salesperson.pk: "remote"}
    )
    meetings.add_action_item(
        meeting=meeting, by=personas.manager, owner=personas.teammate, text="Visit Delta", due_on=today()
    )
    response = client_as("manager").get(reverse("reports:meeting-export", args=[meeting.pk]))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Section", "Person", "Detail", "Due on", "Done at")
    assert (rows[2][0], rows[2][2]) == ("Notes", "Quotes first")
    assert any(row[0] == "Attendance" and row[2] == "Remote (filed the report)" for row in rows)
    assert any(row[0] == "Action item" and row[2] == "Visit Delta" for row in rows)
    assert (
        client_as("salesperson").get(reverse("reports:meeting-export", args=[meeting.pk])).status_code == 403
    )


# --- API --------------------------------------------------------------------------------------


def test_the_api_opens_records_and_closes(personas, client_as, east):
    manager = client_as("manager")
    body = {"team": east.pk, "kind": "morning", "date": str(today())}
    first = manager.post("/api/meetings/", body, content_type="application/json")
    again = manager.post("/api/meetings/", body, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    pk = first.json()["id"]

    bad = manager.post(
        f"/api/meetings/{pk}/action-items/",
        {"owner": personas.other_salesperson.pk, "text": "x", "due_on": str(today())},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "owner" in bad.json()
    made = manager.post(
        f"/api/meetings/{pk}/action-items/",
        {"owner": personas.salesperson.pk, "text": "Call back", "due_on": str(today())},
        content_type="application/json",
    )
    assert made.status_code == 201
    item_id = made.json()["id"]
    assert (
        manager.patch(f"/api/meetings/{pk}/", {"notes": "Short"}, content_type="application/json").json()[
            "notes"
        ]
        == "Short"
    )

    salesperson = client_as("salesperson")
    mine = salesperson.get("/api/action-items/", {"open": "true", "owner": personas.salesperson.pk}).json()
    assert [row["id"] for row in mine["results"]] == [item_id]
    assert salesperson.post(f"/api/action-items/{item_id}/done/").json()["done_at"]
    assert salesperson.get("/api/action-items/", {"open": "true"}).json()["results"] == []
    assert client_as("other_salesperson").get(f"/api/meetings/{pk}/").status_code == 404
    assert (
        salesperson.patch(f"/api/meetings/{pk}/", {"notes": "x"}, content_type="application/json").status_code
        == 403
    )


# --- Constant queries ---------------------------------------------------------------------------


def _grow(personas, meeting, count: int) -> None:
    """``count`` more customers, plan items, activities and action items for the team."""
    for person in (personas.salesperson, personas.teammate):
        customers = [
            CustomerFactory(
                owner=person, grade=grade("C"), name=f"{person.username} {Customer.objects.count()}"
            )
            for _ in range(count)
        ]
        plan = activity_services.open_plan(by=person, day=today())
        for customer in customers:
            activity_services.add_plan_item(plan=plan, by=person, customer=customer, purpose=Purpose.SERVICE)
            activity(owner=person, customer=customer, kind=ActivityKind.CALL)
        ActionItem.objects.bulk_create(
            ActionItem(meeting=meeting, owner=person, text=f"Item {n}", due_on=today()) for n in range(count)
        )


# A manager holds the meeting: the export setting is not read for them.
# The weekly one reads the weekly report, stuck or slipping commits included (1).
QUERIES = {MeetingKind.MORNING: 20, MeetingKind.EVENING: 24, MeetingKind.WEEKLY: 35}


@pytest.mark.parametrize("kind", [MeetingKind.MORNING, MeetingKind.EVENING, MeetingKind.WEEKLY])
def test_the_meeting_page_keeps_its_queries(personas, client_as, kind):
    manager = client_as("manager")
    manager.get(reverse("home"))  # a fresh session records its start once
    CrmSettings.load(), FunnelSettings.load()  # each created on its first read
    meeting = _open(personas, kind=kind)
    counts = []
    for count in (2, 12):
        _grow(personas, meeting, count)
        with CaptureQueriesContext(connection) as queries:
            _page(manager, meeting)
        counts.append(len(queries))
    # Every kind: session, user, the team tree (the viewer's teams, their managed tree),
    # the meeting, the minutes (team subtree, people, attendance, items raised, carried
    # over), [the sections], the form's owners (subtree, people), the export setting, the
    # bell, and saving the session. Sections — morning: reviewees, plans, reports for
    # yesterday and for today (with plan items); evening: the activity funnel (subtree,
    # people, activities, orders), the team's day (people, visits), today's approvals
    # (people, plans, items, reports) and escalations; weekly: the funnel dashboard and
    # the weekly report (their own pinned counts, reports/tests/test_query_counts.py).
    assert counts == [QUERIES[kind]] * 2, counts


def test_the_my_day_block_keeps_its_queries(personas):
    meeting = _open(personas)
    counts = []
    for count in (2, 60):  # past MY_DAY_ROWS: "more"
        _grow(personas, meeting, count)
        with CaptureQueriesContext(connection) as queries:
            (block,) = meetings.my_day_block(personas.salesperson)
        counts.append(len(queries))
    # One query: the owner's open items with their meeting and team.
    assert counts == [1, 1]
    assert block["more"] and len(block["items"]) == 50

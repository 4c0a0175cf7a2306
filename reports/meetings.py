"""Sales meetings (销售会议: 早会、晚会、周会): who may see and hold them, the writes (open a
meeting, attendance, notes, action items) and the reads that assemble each kind of
meeting from what the other selectors already know — never re-computed here.

Who: a team's meetings are held by the people who manage the team (its manager tree,
admins); the members of the team's tree read the minutes (attendance, notes, action
items) but not the assembled sections, which show the team's customers. A meeting of a
team the viewer is not part of answers 404.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activities import selectors as activity_selectors
from crm.links import url_for_pk
from crm.models import Role, Team, User
from funnel.clock import previous_working_day

from . import selectors
from .models import ActionItem, AttendanceStatus, Meeting, MeetingAttendance, MeetingKind
from .periods import Period, last_complete_week, week_start
from .permissions import can_run_meeting

ACTION_TEXT_MAX = 300

# --- Who sees which meetings ---------------------------------------------------------------


def meeting_team_ids(user: User) -> frozenset[int]:
    """Teams whose meetings ``user`` sees: those they hold (their managed tree; admins
    all) plus their own team and the teams above it, whose meetings they attend. One
    query on the (small) team table, besides the cached managed tree."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_admin:
        return user.visible_team_ids
    parents = dict(Team.objects.values_list("id", "parent_id"))
    attended: set[int] = set()
    team_id = user.team_id
    while team_id is not None and team_id not in attended:
        attended.add(team_id)
        team_id = parents.get(team_id)
    return user.visible_team_ids | attended


def meetings_visible_to(user: User) -> QuerySet[Meeting]:
    return Meeting.objects.filter(team_id__in=meeting_team_ids(user)).select_related("team", "held_by")


def action_items_visible_to(user: User) -> QuerySet[ActionItem]:
    """Action items of the meetings ``user`` sees, and their own wherever raised."""
    return ActionItem.objects.filter(
        Q(meeting__team_id__in=meeting_team_ids(user)) | Q(owner_id=user.pk)
    ).select_related("meeting__team", "owner", "done_by")


def meeting_people(meeting: Meeting, viewer: User) -> QuerySet[User]:
    """Who attends: the active salespeople of the meeting's team tree (two queries)."""
    return selectors.scope_people(selectors.team_scope(viewer, meeting.team)).filter(role=Role.SALESPERSON)


# --- Writes -----------------------------------------------------------------------------------


def _ensure_may_run(by: User, meeting_or_team) -> None:
    team = meeting_or_team.team if isinstance(meeting_or_team, Meeting) else meeting_or_team
    if not can_run_meeting(by, team):
        raise PermissionDenied(_("Only the team's managers hold its meetings."))


def meeting_date(kind: str, day: date) -> date:
    """The date a meeting is filed under: the day, or the week's Monday for a weekly one."""
    return week_start(day) if kind == MeetingKind.WEEKLY else day


@transaction.atomic
def open_meeting(*, by: User, team: Team, kind: str, day: date) -> tuple[Meeting, bool]:
    """Open ``team``'s meeting of ``kind`` on ``day`` (the team's managers, admins).
    Idempotent on (team, kind, date): a double submit returns the same meeting
    (``created`` False); the unique constraint settles a race."""
    _ensure_may_run(by, team)
    if kind not in MeetingKind.values:
        raise ValidationError({"kind": _("Choose a morning, evening or weekly meeting.")})
    return Meeting.objects.get_or_create(
        team=team, kind=kind, date=meeting_date(kind, day), defaults={"held_by": by}
    )


@transaction.atomic
def save_notes(*, meeting: Meeting, by: User, notes: str) -> Meeting:
    """The meeting's notes (its managers); the last save wins."""
    _ensure_may_run(by, meeting)
    meeting.notes = notes.strip()
    meeting.save(update_fields=["notes", "updated_at"])
    return meeting


@transaction.atomic
def record_attendance(*, meeting: Meeting, by: User, statuses: Mapping[int, str]) -> None:
    """Present / remote / absent per person (``{user_id: status}``), upserted on
    (meeting, person): recording it again changes the row, never adds one. Nothing is
    written when one entry is bad (a person outside the team, an unknown status)."""
    _ensure_may_run(by, meeting)
    people = set(meeting_people(meeting, by).values_list("pk", flat=True))
    for user_id, status in statuses.items():
        if user_id not in people:
            raise ValidationError({"user": _("Choose someone of the meeting's team.")})
        if status not in AttendanceStatus.values:
            raise ValidationError({"status": _("Choose present, remote or absent.")})
    for user_id, status in statuses.items():
        MeetingAttendance.objects.update_or_create(
            meeting=meeting, user_id=user_id, defaults={"status": status}
        )


@transaction.atomic
def add_action_item(
    *, meeting: Meeting, by: User, owner: User | None, text: str, due_on: date | None
) -> ActionItem:
    """An action item of the meeting for ``owner`` (a member of the team) by ``due_on``
    (not before the meeting). The meeting's row is locked, so a double submit of the
    same open item returns the first one instead of adding a second."""
    _ensure_may_run(by, meeting)
    text = (text or "").strip()
    errors = {}
    if not text:
        errors["text"] = _("Say what is to be done.")
    elif len(text) > ACTION_TEXT_MAX:
        errors["text"] = _("At most %(n)s characters.") % {"n": ACTION_TEXT_MAX}
    if owner is None or not meeting_people(meeting, by).filter(pk=owner.pk).exists():
        errors["owner"] = _("Choose someone of the meeting's team.")
    if due_on is None:
        errors["due_on"] = _("Give the date it is due.")
    elif due_on < meeting.date:
        errors["due_on"] = _("The due date cannot be before the meeting.")
    if errors:
        raise ValidationError(errors)
    Meeting.objects.select_for_update().filter(pk=meeting.pk).first()
    item, _created = ActionItem.objects.get_or_create(
        meeting=meeting, owner=owner, text=text, due_on=due_on, done_at=None, defaults={"created_by": by}
    )
    return item


def may_complete(user: User, item: ActionItem) -> bool:
    return item.owner_id == user.pk or can_run_meeting(user, item.meeting.team)


@transaction.atomic
def complete_action_item(*, item: ActionItem, by: User) -> ActionItem:
    """Mark an action item done (its owner, or the team's managers). A conditional
    UPDATE: done twice keeps the first time and person."""
    if not may_complete(by, item):
        raise PermissionDenied(_("Only the owner or the team's managers close this action item."))
    ActionItem.objects.filter(pk=item.pk, done_at__isnull=True).update(done_at=timezone.now(), done_by=by)
    item.refresh_from_db(fields=["done_at", "done_by"])
    return item


# --- Reads --------------------------------------------------------------------------------


def open_action_items_for(user: User) -> QuerySet[ActionItem]:
    """``user``'s open action items, soonest due first (the partial index on owner)."""
    return (
        ActionItem.objects.filter(owner=user, done_at__isnull=True)
        .select_related("meeting__team")
        .order_by("due_on", "pk")
    )


def carried_over(meeting: Meeting) -> QuerySet[ActionItem]:
    """Open action items of the team's earlier meetings of the same kind: reviewed at
    every meeting of that kind until done."""
    return (
        ActionItem.objects.filter(
            meeting__team_id=meeting.team_id,
            meeting__kind=meeting.kind,
            meeting__date__lt=meeting.date,
            done_at__isnull=True,
        )
        .select_related("owner", "meeting")
        .order_by("due_on", "pk")
    )


@dataclass
class Minutes:
    """What the team reads of a meeting: each person with their attendance (``None``
    unrecorded), the action items raised here and the open ones carried over."""

    people: list[User]
    attendance: dict[int, str]
    raised: list[ActionItem]
    carried: list[ActionItem]

    @property
    def rows(self) -> list[tuple[User, str | None, str]]:
        """(person, status, its label) in the order of ``people``."""
        labels = dict(AttendanceStatus.choices)
        return [
            (person, status, str(labels.get(status, "")))
            for person, status in ((person, self.attendance.get(person.pk)) for person in self.people)
        ]


def minutes(meeting: Meeting, viewer: User) -> Minutes:
    """Five queries: the team tree, people, attendance, items raised, items carried over."""
    return Minutes(
        people=list(meeting_people(meeting, viewer)),
        attendance=dict(meeting.attendance.values_list("user_id", "status")),
        raised=list(meeting.action_items.select_related("owner", "done_by").order_by("due_on", "pk")),
        carried=list(carried_over(meeting)),
    )


def _day_period(day: date) -> Period:
    """One day as a period, for the selectors that sum a period's activities."""
    return Period("day", day, day + timedelta(days=1))


def _by_person(rows, people_ids: set[int]) -> dict[int, object]:
    return {row.person.pk: row for row in rows if row.person.pk in people_ids}


def morning_sections(viewer: User, meeting: Meeting, people: list[User]) -> dict:
    """The last working day's daily report (Friday's on a Monday) and today's plan of each
    person, from the approvals selector (three queries a day)."""
    ids = {person.pk for person in people}
    yesterday = previous_working_day(meeting.date)
    reports = _by_person(activity_selectors.approvals(viewer, yesterday), ids)
    plans = _by_person(activity_selectors.approvals(viewer, meeting.date), ids)
    return {
        "yesterday": yesterday,
        "rows": [
            {
                "person": person,
                "report": reports[person.pk].report if person.pk in reports else None,
                "plan": plans[person.pk].plan if person.pk in plans else None,
            }
            for person in people
        ],
    }


def evening_sections(viewer: User, meeting: Meeting, people: list[User]) -> dict:
    """Today's activities per person (the activity funnel of one day), check-ins (the
    team's day), plan items done and not done (approvals) and the day's escalations."""
    ids = {person.pk for person in people}
    scope = selectors.team_scope(viewer, meeting.team)
    funnel = {
        row.person.pk: row
        for row in selectors.activity_funnel(scope, _day_period(meeting.date), selectors.ZERO).rows
    }
    team_day = activity_selectors.team_day(viewer, meeting.date)
    check_ins = {person.pk: person for person in team_day.people}
    plans = _by_person(activity_selectors.approvals(viewer, meeting.date), ids)
    start, end = activity_selectors.day_bounds(meeting.date)
    escalations = list(
        activity_selectors.market_reports_visible_to(viewer)
        .filter(owner_id__in=ids, created_at__gte=start, created_at__lt=end)
        .order_by("created_at", "pk")[: selectors.LIST_LIMIT * 3]
    )
    rows = []
    for person in people:
        plan = plans[person.pk].plan if person.pk in plans else None
        items = list(plan.items.all()) if plan else []
        rows.append(
            {
                "person": person,
                "activity": funnel.get(person.pk),
                "check_ins": check_ins.get(person.pk),
                "plan": plan,
                "done": [item for item in items if item.done],
                "not_done": [item for item in items if not item.done],
            }
        )
    return {"rows": rows, "escalations": escalations}


def weekly_sections(viewer: User, meeting: Meeting) -> dict:
    """Last week's weekly manager report and, as of now, the funnel's movement this
    week, the stuck customers and the progress against targets (the funnel dashboard)."""
    scope = selectors.team_scope(viewer, meeting.team)
    dashboard = selectors.funnel_dashboard(scope)
    return {
        "report": selectors.weekly_report(scope, last_complete_week(meeting.date)),
        "movement": dashboard.movement,
        "stuck": dashboard.stuck,
        "stuck_count": dashboard.stuck_count,
        "periods": dashboard.periods,
    }


def meeting_page(viewer: User, meeting: Meeting) -> dict:
    """The minutes, and for those who hold the meeting the sections of its kind."""
    notes = minutes(meeting, viewer)
    context = {"meeting": meeting, "minutes": notes, "may_run": can_run_meeting(viewer, meeting.team)}
    if context["may_run"]:
        if meeting.kind == MeetingKind.MORNING:
            context["morning"] = morning_sections(viewer, meeting, notes.people)
        elif meeting.kind == MeetingKind.EVENING:
            context["evening"] = evening_sections(viewer, meeting, notes.people)
        else:
            context["weekly"] = weekly_sections(viewer, meeting)
    return context


def my_day_block(user: User) -> list[dict]:
    """The owner's open action items as a "my day" block (one query, at most
    ``MY_DAY_ROWS`` rows), each with its "done" URL and days overdue."""
    rows = list(open_action_items_for(user)[: activity_selectors.MY_DAY_ROWS + 1])
    items, more = rows[: activity_selectors.MY_DAY_ROWS], len(rows) > activity_selectors.MY_DAY_ROWS
    done_url = url_for_pk("reports:action-item-done")
    today = timezone.localdate()
    for item in items:
        item.done_url = done_url(item.pk)
        item.days_overdue = (today - item.due_on).days
    return [
        {
            "key": "action_items",
            "title": gettext_lazy("Action items from meetings"),
            "template": "reports/_my_day_action_items.html",
            "items": items,
            "more": more,
        }
    ]


def minutes_table(meeting: Meeting, viewer: User) -> tuple[list, list]:
    """The minutes as one table (the Excel export): the meeting, its notes, each
    person's attendance, the action items raised and those carried over."""
    notes = minutes(meeting, viewer)
    headers = [_("Section"), _("Person"), _("Detail"), _("Due on"), _("Done at")]
    rows = [
        [
            str(meeting.get_kind_display()),
            str(meeting.team),
            meeting.held_by.display_name if meeting.held_by else "",
            meeting.date,
            "",
        ],
        [_("Notes"), "", meeting.notes, "", ""],
    ]
    rows += [[_("Attendance"), person.display_name, label, "", ""] for person, _status, label in notes.rows]
    rows += [
        [_("Action item"), item.owner.display_name, item.text, item.due_on, item.done_at]
        for item in notes.raised
    ]
    rows += [
        [_("Carried over"), item.owner.display_name, item.text, item.due_on, ""] for item in notes.carried
    ]
    return headers, rows

"""Sales meeting pages (早会、晚会、周会): the team's meetings, one meeting's page (assembled
sections and minutes), its writes and the minutes as Excel. Thin: ``reports.meetings``
reads and writes. A meeting outside the viewer's teams is a 404; a member of the team
who may not hold it gets 403 on every write.

htmx forms swap the minutes in place (``HX-Request``): errors answer 422 there and 400
to a plain form post, which otherwise redirects back to the meeting.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from crm import services as crm_services
from crm.exporting import table_response
from crm.forms import apply_service_errors
from crm.permissions import can_export
from crm.selectors import teams_visible_to

from . import meetings
from .forms import ActionItemForm, MeetingNotesForm, MeetingOpenForm
from .models import AttendanceStatus, MeetingKind
from .periods import today
from .permissions import can_run_meeting

LIST_ROWS = 100


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _held_teams(user):
    """Teams whose meetings ``user`` holds (their managed tree; admins: all)."""
    return teams_visible_to(user).filter(pk__in=user.visible_team_ids)


class MeetingListView(View):
    """``/reports/meetings/?team=``: the meetings of the viewer's teams, newest first;
    those who hold meetings open one (an existing one opens again, never twice)."""

    def _render(self, request, form=None, status=200):
        user = request.user
        rows = meetings.meetings_visible_to(user)
        team = request.GET.get("team")
        if team:
            rows = rows.filter(team_id=int(team) if team.isdigit() else 0)
        held = _held_teams(user)
        if form is None and user.is_manager_or_admin:
            form = MeetingOpenForm(
                teams=held,
                initial={
                    "date": today(),
                    "kind": MeetingKind.MORNING,
                    "team": held.filter(manager=user).first(),
                },
            )
        return render(
            request,
            "reports/meetings.html",
            {
                "meetings": list(rows.order_by("-date", "kind", "team__name")[:LIST_ROWS]),
                "form": form,
            },
            status=status,
        )

    def get(self, request):
        return self._render(request)

    def post(self, request):
        if not request.user.is_manager_or_admin:
            raise PermissionDenied
        form = MeetingOpenForm(request.POST, teams=_held_teams(request.user))
        if form.is_valid():
            try:
                meeting, _created = meetings.open_meeting(
                    by=request.user,
                    team=form.cleaned_data["team"],
                    kind=form.cleaned_data["kind"],
                    day=form.cleaned_data["date"],
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                return redirect("reports:meeting", pk=meeting.pk)
        return self._render(request, form=form, status=400)


def _meeting(request, pk, *, write: bool = False):
    meeting = get_object_or_404(meetings.meetings_visible_to(request.user), pk=pk)
    if write and not can_run_meeting(request.user, meeting.team):
        raise PermissionDenied
    return meeting


def _render_meeting(request, meeting, *, notes_form=None, item_form=None, errors=None, status=200):
    context = meetings.meeting_page(request.user, meeting)
    if context["may_run"]:
        people = meetings.meeting_people(meeting, request.user)
        context.update(
            notes_form=notes_form or MeetingNotesForm(initial={"notes": meeting.notes}),
            item_form=item_form or ActionItemForm(people=people, initial={"due_on": meeting.date}),
            statuses=AttendanceStatus.choices,
        )
    context["attendance_errors"] = errors or []
    context["may_export"] = can_export(request.user)
    return render(request, "reports/meeting.html", context, status=status)


def _done(request, meeting, message: str):
    """After a write: the minutes again for htmx, else back to the page."""
    if _is_htmx(request):
        return _render_meeting(request, meeting)
    messages.success(request, message)
    return redirect("reports:meeting", pk=meeting.pk)


def _refused(request) -> int:
    return 422 if _is_htmx(request) else 400


class MeetingView(View):
    def get(self, request, pk):
        return _render_meeting(request, _meeting(request, pk))


class MeetingNotesView(View):
    def post(self, request, pk):
        meeting = _meeting(request, pk, write=True)
        form = MeetingNotesForm(request.POST)
        if not form.is_valid():
            return _render_meeting(request, meeting, notes_form=form, status=_refused(request))
        meetings.save_notes(meeting=meeting, by=request.user, notes=form.cleaned_data["notes"])
        return _done(request, meeting, _("Notes saved."))


class MeetingAttendanceView(View):
    """One ``status_<user id>`` field per person of the meeting (unset ones are skipped)."""

    def post(self, request, pk):
        meeting = _meeting(request, pk, write=True)
        statuses = {}
        for key, value in request.POST.items():
            if key.startswith("status_") and value:
                user_id = key.removeprefix("status_")
                statuses[int(user_id) if user_id.isdigit() else 0] = value
        try:
            meetings.record_attendance(meeting=meeting, by=request.user, statuses=statuses)
        except ValidationError as error:
            return _render_meeting(request, meeting, errors=error.messages, status=_refused(request))
        return _done(request, meeting, _("Attendance saved."))


class ActionItemAddView(View):
    def post(self, request, pk):
        meeting = _meeting(request, pk, write=True)
        form = ActionItemForm(request.POST, people=meetings.meeting_people(meeting, request.user))
        if form.is_valid():
            try:
                meetings.add_action_item(meeting=meeting, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                return _done(request, meeting, _("Action item added."))
        return _render_meeting(request, meeting, item_form=form, status=_refused(request))


class ActionItemDoneView(View):
    """Mark an action item done (its owner or the team's managers), from "my day" or the
    meeting. htmx: an empty answer removes the row; else back to ``next``."""

    def post(self, request, pk):
        item = get_object_or_404(meetings.action_items_visible_to(request.user), pk=pk)
        meetings.complete_action_item(item=item, by=request.user)
        if _is_htmx(request):
            return render(request, "reports/_action_item_done.html", {"item": item})
        messages.success(request, _("Action item done."))
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            target = reverse("reports:meeting", args=[item.meeting_id])
        return redirect(target)


class MeetingExportView(View):
    """The minutes as Excel: attendance and action items (the team's export policy)."""

    def get(self, request, pk):
        meeting = _meeting(request, pk)
        crm_services.ensure_may_export(request.user)
        headers, rows = meetings.minutes_table(meeting, request.user)
        crm_services.record_export(
            user=request.user,
            kind="report:meeting",
            file_format="xlsx",
            row_count=len(rows),
            filters={"meeting": meeting.pk},
        )
        return table_response(
            headers=headers,
            rows=rows,
            file_format="xlsx",
            filename=f"meeting-{meeting.kind}-{meeting.date.isoformat()}",
        )

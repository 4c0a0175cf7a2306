"""Report pages: the funnel dashboard, backward plan, conversion & cycle, quota vs
target, activity funnel & efficiency, the weekly manager report, targets.

Every page resolves a ``Scope`` from the viewer (404 outside what they may see) and
every table exports to Excel through the same selector, under the export policy.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from core.models import Grade
from core.replicas import ReplicaReadsMixin
from crm import services as crm_services
from crm.exporting import table_response
from crm.forms import apply_service_errors
from crm.models import Lifecycle, Team, User
from crm.permissions import can_export
from crm.selectors import teams_visible_to, users_visible_to
from funnel.clock import start_of_day

from . import permissions, selectors, services
from .columns import export_table, page_table
from .forms import (
    ActivityTargetForm,
    BackwardPlanForm,
    CommissionForm,
    PeriodForm,
    TargetForm,
    WeeklyReportForm,
)
from .periods import (
    PeriodKind,
    last_complete_week,
    period_for,
    today,
    week_bounds,
    week_start,
)
from .planning import orders_for_amount
from .selectors import ScopeKind
from .selectors.activity import ACTIVITY_COLUMNS
from .selectors.backward_plan import BACKWARD_PLAN_COLUMNS
from .selectors.conversion import CONVERSION_COLUMNS
from .selectors.dashboard import FUNNEL_COLUMNS
from .selectors.targets import QUOTA_COLUMNS, TEAM_QUOTA_COLUMNS
from .selectors.weekly import WEEKLY_COLUMNS

STATUS_LABELS = {
    "met": gettext_lazy("Met"),
    "exceeded": gettext_lazy("Exceeded"),
    "short": gettext_lazy("Short"),
    "none": gettext_lazy("No target"),
}


def _scope(request):
    return selectors.resolve_scope(
        request.user,
        owner=request.GET.get("owner"),
        team=request.GET.get("team"),
        scope=request.GET.get("scope"),
    )


def _pct(value):
    return None if value is None else f"{value:.1f}"


class ReportView(ReplicaReadsMixin, View):
    """A report page that is also its own Excel export (``as_view(export=True)``); both read
    from the replica when there is one."""

    template_name = ""
    export_kind = ""
    export = False

    def context(self, request) -> dict:
        raise NotImplementedError

    def table(self, context) -> tuple[list, list]:
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        if self.export:
            file_format = request.GET.get("file_format", "xlsx")
            if file_format not in {"csv", "xlsx"}:
                raise Http404
            crm_services.ensure_may_export(request.user)
            context = self.context(request)
            headers, rows = self.table(context)
            filters = {key: value for key, value in request.GET.items() if key != "file_format"}
            crm_services.record_export(
                user=request.user,
                kind=f"report:{self.export_kind}",
                file_format=file_format,
                row_count=len(rows),
                filters=filters,
            )
            return table_response(
                headers=headers, rows=rows, file_format=file_format, filename=f"report-{self.export_kind}"
            )
        context = self.context(request)
        query = request.GET.copy()
        query.pop("file_format", None)
        context["export_url"] = reverse(f"reports:{self.export_kind}-export") + "?" + query.urlencode()
        context["may_export"] = can_export(request.user)
        return render(request, self.template_name, context)


def _scope_choices(request, scope, people: list[User] | None = None) -> dict:
    """The scope picker: the people whose numbers the viewer's reports cover (those of
    their whole scope) and the teams they may pick, as (value, label, selected) options
    made here once: an admin's picker lists every salesperson, and comparing each with
    the scope in the template cost milliseconds. ``people``: that whole scope's people
    when the caller already has them (the dashboard's per-person rows), else read here."""
    if request.user.is_salesperson:
        return {"scope": scope, "pick_people": [], "pick_teams": []}
    owner_pk = scope.owner.pk if scope.owner else None
    team_pk = scope.team.pk if scope.team else None
    if people is None:
        rows = selectors.scope_people(selectors.resolve_scope(request.user)).values_list(
            "pk", "first_name", "last_name", "username"
        )
    else:
        rows = [(person.pk, person.first_name, person.last_name, person.username) for person in people]
    teams = teams_visible_to(request.user)
    if not request.user.is_admin:  # a manager picks among the teams they manage (admins: all)
        teams = teams.filter(pk__in=request.user.visible_team_ids)
    teams = teams.values_list("pk", "name")
    return {
        "scope": scope,
        "pick_people": [
            (pk, User.name_from(first, last, username), pk == owner_pk) for pk, first, last, username in rows
        ],
        "pick_teams": [(pk, name, pk == team_pk) for pk, name in teams],
    }


class IndexView(View):
    def get(self, request):
        return render(request, "reports/index.html", {})


# --- Funnel dashboard --------------------------------------------------------------------


class FunnelDashboardView(ReportView):
    template_name = "reports/funnel.html"
    export_kind = "funnel"

    def context(self, request):
        scope = _scope(request)
        dashboard = selectors.funnel_dashboard(scope)
        # A manager's own tree or the company (what they see unasked): its people are the picker's.
        whole = None
        if scope.kind in (ScopeKind.MINE, ScopeKind.COMPANY):
            whole = [entry.person for entry in dashboard.people]
        return {
            **vars(dashboard),
            "dashboard": dashboard,
            "funnel_table": page_table(FUNNEL_COLUMNS, dashboard.rows),
            **_scope_choices(request, scope, people=whole),
            "chart": selectors.chart_data(dashboard),
            "status_labels": STATUS_LABELS,
            "lifecycle_stages": Lifecycle.choices,
        }

    def table(self, context):
        # One sheet under the grade table's headers: the grades, the open pipeline, then
        # each period's actual and target, each person's pipeline, the customers per
        # lifecycle stage and the diagnosis.
        dashboard = context["dashboard"]
        headers, rows = export_table(FUNNEL_COLUMNS, dashboard.rows, STATUS_LABELS)
        rows.append(
            [
                _("Open pipeline (quota)"),
                "",
                dashboard.open_count,
                "",
                dashboard.quota,
                dashboard.stuck_count,
            ]
        )
        for row in dashboard.periods:
            rows.append(
                [
                    row.period.label,
                    _("Actual"),
                    row.actual,
                    _("Target"),
                    row.target,
                    str(STATUS_LABELS[row.status]),
                ]
            )
        for entry in dashboard.people:
            rows.append([entry.person.display_name, "", entry.open, "", entry.weighted, entry.stuck])
        for stage, label in Lifecycle.choices:
            rows.append([_("Lifecycle"), str(label), dashboard.stages[stage], "", "", ""])
        for text in dashboard.diagnosis.lines:
            rows.append([_("Diagnosis"), text, "", "", "", ""])
        return headers, rows


# --- Backward plan --------------------------------------------------------------------------


class BackwardPlanView(ReportView):
    template_name = "reports/backward_plan.html"
    export_kind = "backward-plan"

    def context(self, request):
        scope = _scope(request)
        form = BackwardPlanForm(
            request.GET or None, initial={"period": PeriodKind.QUARTER, "target_kind": "orders"}
        )
        context = {
            "form": form,
            **_scope_choices(request, scope),
            "average_order": selectors.average_order(scope),
        }
        if form.is_valid():
            data = form.cleaned_data
            period = form.period_value()
            if data["target_kind"] == "amount":
                average = data.get("average_order") or context["average_order"]
                if not average:
                    form.add_error("average_order", _("No orders yet to average: give the average order."))
                    return context
                target_orders = orders_for_amount(data["target"], average)
                context["used_average"] = average
            else:
                target_orders = int(data["target"])
            context["report"] = selectors.backward_plan_report(scope, period, target_orders)
        return context

    def table(self, context):
        # One sheet under the plan's headers: the grades, then the weeks and the summary.
        report = context.get("report")
        headers, rows = export_table(BACKWARD_PLAN_COLUMNS, report.plan if report else [], STATUS_LABELS)
        if report is None:
            return headers, rows
        for week in report.weekly:
            rows.append(
                [
                    str(week.week.week_start),
                    _("Remaining target"),
                    week.plan.remaining_target,
                    _("Planned additions"),
                    week.plan.planned_additions,
                    None if week.plan.completion is None else float(week.plan.completion * 100),
                    (_("Rates assumed: %(grades)s") % {"grades": ", ".join(week.week.assumed)})
                    if week.week.assumed
                    else "",
                ]
            )
        # The period summary: only the weeks' measured rates are averaged.
        for average in report.average_rates:
            rows.append(
                [
                    f"{average.code} →",
                    _("Average conversion (%)"),
                    None if average.average is None else average.average * 100,
                    _("Weeks measured"),
                    average.measured_weeks,
                    _("Weeks without data"),
                    ", ".join(str(day) for day in average.weeks_without_data),
                ]
            )
        return headers, rows


# --- Conversion and cycle --------------------------------------------------------------------


class ConversionView(ReportView):
    template_name = "reports/conversion.html"
    export_kind = "conversion"

    def context(self, request):
        scope = _scope(request)
        form = PeriodForm(request.GET or None)
        period = (
            form.period_value()
            if request.GET.get("period") or request.GET.get("on")
            else period_for(PeriodKind.YEAR, today())
        )
        report = selectors.conversion_report(scope, period)
        return {
            "form": form,
            **_scope_choices(request, scope),
            "period": report.period,
            "stages": report.stages,
            "bottleneck": report.bottleneck,
            "calibration": report.calibration,
            "may_calibrate": permissions.can_calibrate(request.user),
            "margin": selectors.CALIBRATION_MARGIN,
            "min_sample": selectors.CALIBRATION_MIN_SAMPLE,
        }

    def table(self, context):
        return export_table(CONVERSION_COLUMNS, context["stages"], STATUS_LABELS)


class CalibrateView(View):
    """Admins: apply the suggested probability of one grade (recorded in its history)."""

    def post(self, request, pk):
        if not permissions.can_calibrate(request.user):
            raise PermissionDenied
        grade = get_object_or_404(Grade, pk=pk)
        try:
            probability = Decimal(request.POST.get("probability", ""))
        except ArithmeticError:
            probability = None
        if probability is None:
            messages.error(request, _("Give the probability to apply."))
        else:
            try:
                services.apply_suggested_probability(grade=grade, probability=probability, by=request.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(
                    request,
                    _("The probability of %(grade)s is now %(value)s %%.")
                    % {"grade": grade.code, "value": probability},
                )
        return redirect("reports:conversion")


# --- Quota vs actual vs target ------------------------------------------------------------------


class QuotaView(ReportView):
    template_name = "reports/quota.html"
    export_kind = "quota"

    def context(self, request):
        scope = _scope(request)
        form = PeriodForm(request.GET or None)
        report = selectors.quota_report(scope, form.period_value())
        return {
            "form": form,
            **_scope_choices(request, scope),
            "period": report.period,
            "report": report,
            "teams": report.teams,
            "people_table": page_table(QUOTA_COLUMNS, report.rows),
            "teams_table": page_table(TEAM_QUOTA_COLUMNS, report.teams),
            "status_labels": STATUS_LABELS,
        }

    def table(self, context):
        # One sheet: the people, then their teams under the same headers.
        report = context["report"]
        return export_table(QUOTA_COLUMNS, [*report.rows, *report.teams], STATUS_LABELS)


# --- Activity funnel & efficiency -----------------------------------------------------------------


class ActivityReportView(ReportView):
    template_name = "reports/activity.html"
    export_kind = "activity"

    def context(self, request):
        scope = _scope(request)
        form = CommissionForm(request.GET or None)
        period = form.period_value()
        data = form.cleaned_data if form.is_valid() else {}
        rate = data.get("commission")
        rate = Decimal(5) if rate is None else rate
        if data.get("span") == "day":
            start, end = start_of_day(today()), start_of_day(today() + timedelta(days=1))
        else:
            start, end = week_bounds(today())
        funnel = selectors.activity_funnel(scope, period, rate / 100)
        return {
            "form": form,
            **_scope_choices(request, scope),
            "period": period,
            "funnel": funnel,
            "funnel_table": page_table(ACTIVITY_COLUMNS, funnel.rows, total=funnel.total),
            "negotiations": selectors.negotiation_report(scope, period),
            "by_grade": selectors.activity_by_grade(scope, start, end),
            "span": data.get("span") or "week",
            "commission_percent": rate,
        }

    def table(self, context):
        funnel = context["funnel"]
        return export_table(ACTIVITY_COLUMNS, [*funnel.rows, funnel.total], STATUS_LABELS)


# --- Weekly manager report ---------------------------------------------------------------------------


class WeeklyReportView(ReportView):
    template_name = "reports/weekly.html"
    export_kind = "weekly"

    def _team_and_week(self, request):
        user = request.user
        if not user.is_manager_or_admin:
            raise PermissionDenied
        # Every team in one query; the viewer's tree is taken from them (``know_teams``),
        # so the page spends no second query on it.
        every_team = list(Team.objects.order_by("name"))
        user.know_teams(every_team)
        teams = [team for team in every_team if team.pk in user.visible_team_ids]
        team_id = request.GET.get("team") or request.POST.get("team")
        if team_id:
            team = next((t for t in teams if str(t.pk) == str(team_id)), None)
            if team is None:
                raise Http404
        else:
            managed = [t for t in teams if t.manager_id == user.pk]
            team = (managed or teams or [None])[0]
        try:
            monday = week_start(date.fromisoformat(request.GET.get("week") or request.POST.get("week") or ""))
        except ValueError:
            monday = last_complete_week(today())
        return teams, team, monday

    def context(self, request):
        teams, team, monday = self._team_and_week(request)
        context = {
            "teams": teams,
            "team": team,
            "week": monday,
            "previous_week": monday - timedelta(days=7),
            "next_week": monday + timedelta(days=7),
            "status_labels": STATUS_LABELS,
        }
        if team is None:
            return context
        # ``teams``: the viewer's whole team tree, so it holds the subtree of ``team``.
        report = selectors.weekly_report(selectors.team_scope(request.user, team, teams), monday)
        saved = report.manager_report
        context.update(
            report=report,
            form=WeeklyReportForm(
                initial={
                    "next_week_plan": saved.next_week_plan if saved else "",
                    "competitor_news": saved.competitor_news if saved else "",
                }
            ),
        )
        return context

    def post(self, request):
        _teams, team, monday = self._team_and_week(request)
        if team is None:
            raise Http404
        form = WeeklyReportForm(request.POST)
        if form.is_valid():
            services.save_weekly_report(by=request.user, team=team, week=monday, **form.cleaned_data)
            messages.success(request, _("Next week's plan saved."))
        return redirect(
            reverse("reports:weekly") + "?" + urlencode({"team": team.pk, "week": monday.isoformat()})
        )

    def table(self, context):
        report = context.get("report")
        rows = [*report.rollups, report.totals] if report else []
        return export_table(WEEKLY_COLUMNS, rows, STATUS_LABELS)


# --- Targets -------------------------------------------------------------------------------------------


class TargetListView(View):
    """Targets the viewer may see; managers and admins set them (and activity targets)."""

    template_name = "reports/targets.html"

    def _render(self, request, form=None, activity_form=None, status=200):
        user = request.user
        may_set = user.is_manager_or_admin
        return render(
            request,
            self.template_name,
            {
                "targets": selectors.targets_visible_to(user).order_by(
                    "-period_start", "period_kind", "team", "owner"
                )[:200],
                "activity_targets": selectors.activity_targets_visible_to(user).order_by(
                    "owner__username", "cadence"
                ),
                "may_set": may_set,
                "form": form or (TargetForm(user=user) if may_set else None),
                "activity_form": activity_form or (ActivityTargetForm(user=user) if may_set else None),
                "progress": selectors.activity_progress(user, today()),
            },
            status=status,
        )

    def get(self, request):
        return self._render(request)

    def post(self, request):
        if not request.user.is_manager_or_admin:
            raise PermissionDenied
        if request.POST.get("form") == "activity":
            form = ActivityTargetForm(request.POST, user=request.user)
            if form.is_valid():
                try:
                    services.save_activity_target(by=request.user, **form.cleaned_data)
                except ValidationError as error:
                    apply_service_errors(form, error)
                else:
                    messages.success(request, _("Activity target saved."))
                    return redirect("reports:targets")
            return self._render(request, activity_form=form, status=400)
        form = TargetForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.save_target(by=request.user, **form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Target saved."))
                return redirect("reports:targets")
        return self._render(request, form=form, status=400)


class TargetSplitView(View):
    """Split a team target across its salespeople: evenly, or by hand (must add up)."""

    template_name = "reports/target_split.html"

    def _target(self, request, pk):
        if not request.user.is_manager_or_admin:
            raise PermissionDenied
        target = get_object_or_404(
            selectors.targets_visible_to(request.user).filter(team__isnull=False), pk=pk
        )
        members = list(
            users_visible_to(request.user).filter(team=target.team, is_active=True, role="salesperson")
        )
        return target, members

    def get(self, request, pk):
        target, members = self._target(request, pk)
        return render(request, self.template_name, {"target": target, "members": members, "errors": []})

    def post(self, request, pk):
        target, members = self._target(request, pk)
        shares = None
        if request.POST.get("mode") == "manual":
            shares = {}
            try:
                for member in members:
                    shares[member.pk] = {
                        field: Decimal(request.POST.get(f"{field}_{member.pk}") or 0)
                        for field in services.TARGET_FIELDS
                    }
            except ArithmeticError:
                return render(
                    request,
                    self.template_name,
                    {"target": target, "members": members, "errors": [_("Enter numbers only.")]},
                    status=400,
                )
        try:
            services.split_team_target(target=target, by=request.user, shares=shares)
        except ValidationError as error:
            return render(
                request,
                self.template_name,
                {"target": target, "members": members, "errors": error.messages, "posted": request.POST},
                status=400,
            )
        messages.success(
            request, _("The team target was split across %(n)s salespeople.") % {"n": len(members)}
        )
        return redirect("reports:targets")

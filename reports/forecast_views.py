"""The forecast pages (预测): the forecast of a salesperson, a team or the company with its
drill-down, week-by-week history, slips and stuck commits; a manager's adjustment; and
the forecast accuracy. Thin: ``selectors.forecast`` reads, ``services.adjust_forecast``
writes; the scope comes from ``resolve_scope`` (404 outside what the viewer may see)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View

from crm.models import Team, User

from . import services
from .columns import export_table, page_table
from .forms import FORECAST_PERIODS, ForecastAdjustmentForm, ForecastForm
from .periods import today
from .selectors import ScopeKind, resolve_scope
from .selectors.forecast import (
    ACCURACY_COLUMNS,
    DRILL_COLUMNS,
    FORECAST_COLUMNS,
    accuracy_periods,
    commit_alerts,
    forecast_accuracy,
    forecast_lines,
    forecast_moves,
    forecast_periods,
    forecast_report,
    forecast_weeks,
)
from .views import STATUS_LABELS, ReportView, _scope, _scope_choices


def _drill_links(report, scope) -> list[dict]:
    """Each total row's numbers with the link listing the customers behind it."""
    base = scope.as_params()
    rows = []
    for index, row in enumerate(report.totals):
        links = {
            category: reverse("reports:forecast")
            + "?"
            + urlencode({**base, "period": index, "category": category})
            for category in ("closed", "commit", "best_case", "pipeline")
        }
        period_link = reverse("reports:forecast") + "?" + urlencode({**base, "period": index})
        rows.append({"row": row, "links": links, "period_link": period_link})
    return rows


class ForecastView(ReportView):
    """The forecast of the scope for this and next month and quarter; per salesperson and
    team for the chosen period; the customers behind a number; the weeks, the slips."""

    template_name = "reports/forecast.html"
    export_kind = "forecast"

    def context(self, request):
        scope = _scope(request)
        form = ForecastForm(request.GET or None)
        period_index, category = form.values()
        report = forecast_report(scope, period_index=period_index)
        manages = request.user.is_manager_or_admin
        # The whole company's 200 salespeople make a long table and a long list of moves:
        # it shows its teams; picking a team (the scope picker) shows its people and moves.
        whole_company = scope.kind == ScopeKind.COMPANY
        return {
            "form": form,
            **_scope_choices(request, scope),
            "keep": {"period": period_index},
            "report": report,
            "period_label": dict(FORECAST_PERIODS)[str(period_index)],
            "period_index": period_index,
            "totals": _drill_links(report, scope),
            "people_table": None if whole_company else page_table(FORECAST_COLUMNS, report.people),
            "teams_table": page_table(FORECAST_COLUMNS, report.teams) if manages else None,
            "category": category,
            "lines_table": page_table(DRILL_COLUMNS, forecast_lines(scope, report.period, category))
            if category
            else None,
            "weeks": forecast_weeks(scope, report.period),
            "moves": [] if whole_company else forecast_moves(scope, report.period),
            "whole_company": whole_company,
            # An adjustment is of one person or one team: the scope picked must be one.
            "may_adjust": manages and scope.kind in (ScopeKind.OWNER, ScopeKind.TEAM),
            "adjust_form": ForecastAdjustmentForm(
                initial={
                    **scope.as_params(),  # the scope's person or team (nothing else)
                    "period": period_index,
                    "amount": report.totals[period_index].figures.commit,
                }
            ),
            "status_labels": STATUS_LABELS,
        }

    def table(self, context):
        # One sheet: the scope's periods, then the chosen period's people and teams.
        report = context["report"]
        return export_table(FORECAST_COLUMNS, [*report.totals, *report.people, *report.teams], STATUS_LABELS)


class ForecastAdjustView(View):
    """A manager adjusts a salesperson's or team's commit (kept beside the original)."""

    def post(self, request):
        if not request.user.is_manager_or_admin:
            raise PermissionDenied
        form = ForecastAdjustmentForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
            return redirect("reports:forecast")
        data = form.cleaned_data
        owner = team = None
        if data["owner"] is not None:
            owner = get_object_or_404(User.objects.visible_to(request.user), pk=data["owner"])
        else:
            if not (request.user.is_admin or data["team"] in request.user.visible_team_ids):
                raise Http404
            team = get_object_or_404(Team, pk=data["team"])
        period = forecast_periods(today())[data["period"]]
        try:
            services.adjust_forecast(
                by=request.user,
                owner=owner,
                team=team,
                period=period,
                amount=data["amount"],
                note=data["note"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The forecast adjustment is saved beside the commit."))
        query = urlencode({"owner": owner.pk} if owner else {"team": team.pk})
        return redirect(reverse("reports:forecast") + f"?{query}&period={data['period']}")


class ForecastAccuracyView(ReportView):
    """Whose commit to trust: each salesperson's forecast accuracy and bias over the last
    months, beside the accuracy of the plain weighted value."""

    template_name = "reports/forecast_accuracy.html"
    export_kind = "forecast-accuracy"

    def context(self, request):
        scope = _scope(request)
        rows = forecast_accuracy(scope)
        periods = accuracy_periods(today())
        return {
            **_scope_choices(request, scope),
            "periods": periods,
            "rows": rows,
            "accuracy_table": page_table(ACCURACY_COLUMNS, rows),
        }

    def table(self, context):
        return export_table(ACCURACY_COLUMNS, context["rows"], STATUS_LABELS)


def commit_alerts_panel(request) -> dict | None:
    """The stuck or slipping commits of a manager's team tree (an admin's: the company)
    on the funnel's alerts page; hidden for salespeople and when there are none.
    One query: the open commits with their moves."""
    if not request.user.is_manager_or_admin:
        return None
    alerts = commit_alerts(resolve_scope(request.user))
    return {"alerts": alerts} if alerts else None

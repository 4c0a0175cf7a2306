"""API adapters of the reports: targets, activity targets, weekly rollups and the report
endpoints. Every one resolves the caller's scope with ``selectors.resolve_scope``: a
salesperson naming another owner gets 404, lists hold only what the caller may see."""

from datetime import timedelta
from decimal import Decimal

import django_filters
from django.core.exceptions import PermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.filters import IdFilter, IdFilterSet
from reports import selectors, services
from reports.diagnosis import finding_text
from reports.models import ActivityTarget, Target, WeeklyRollup
from reports.periods import PeriodKind, last_complete_week, period_for, today, week_start
from reports.permissions import can_set_target
from reports.planning import orders_for_amount

from .serializers import (
    ActivityFunnelQuerySerializer,
    ActivityTargetSerializer,
    BackwardPlanQuerySerializer,
    ReportQuerySerializer,
    TargetSerializer,
    WeeklyQuerySerializer,
    WeeklyRollupSerializer,
)

SCOPE_PARAMETERS = [
    OpenApiParameter("owner", int, description="A salesperson's id (within what you may see; else 404)."),
    OpenApiParameter("team", int, description="A team's id (a team of your tree; else 404)."),
    OpenApiParameter("period", str, enum=[kind for kind, _label in PeriodKind.choices]),
    OpenApiParameter("on", str, description="ISO date inside the period (default today)."),
]


class SavedThroughServiceMixin:
    """Create and update through one service that takes the whole target (it checks the
    caller's rights and upserts): an update sends the row's current ``service_fields``
    under what the request changed."""

    service = None  # staticmethod(services.save_…)
    service_fields: tuple[str, ...] = ()

    def perform_create(self, serializer):
        serializer.instance = self.service(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        current = {field: getattr(serializer.instance, field) for field in self.service_fields}
        serializer.instance = self.service(by=self.request.user, **{**current, **serializer.validated_data})


class TargetViewSet(SavedThroughServiceMixin, viewsets.ModelViewSet):
    """Targets of people and teams the caller may see; managers (their tree) and admins write."""

    serializer_class = TargetSerializer
    queryset = Target.objects.none()  # the schema's model; requests use get_queryset
    filterset_fields = ["owner", "team", "period_kind", "period_start"]
    ordering_fields = ["period_start"]
    search_fields = []
    service = staticmethod(services.save_target)
    service_fields = ("owner", "team", "period_kind", "period_start")

    def get_queryset(self):
        return selectors.targets_visible_to(self.request.user).order_by("-period_start", "pk")

    def perform_destroy(self, instance):
        if not can_set_target(self.request.user, owner=instance.owner, team=instance.team):
            raise PermissionDenied
        instance.delete()


class ActivityTargetViewSet(SavedThroughServiceMixin, viewsets.ModelViewSet):
    serializer_class = ActivityTargetSerializer
    queryset = ActivityTarget.objects.none()
    filterset_fields = ["owner", "cadence"]
    ordering_fields = ["owner"]
    search_fields = []
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    service = staticmethod(services.save_activity_target)
    service_fields = ("owner", "cadence", "calls", "visits", "new_customers")

    def get_queryset(self):
        return selectors.activity_targets_visible_to(self.request.user).order_by("owner_id", "cadence")


class RollupFilter(IdFilterSet):
    owner = IdFilter(field_name="salesperson")
    team = IdFilter(field_name="team")
    week_from = django_filters.DateFilter(field_name="week_start", lookup_expr="gte")
    week_to = django_filters.DateFilter(field_name="week_start", lookup_expr="lte")

    class Meta:
        model = WeeklyRollup
        fields = ["salesperson", "week_start"]


class WeeklyRollupViewSet(viewsets.ReadOnlyModelViewSet):
    """Weekly rollup rows of the salespeople the caller may see."""

    serializer_class = WeeklyRollupSerializer
    queryset = WeeklyRollup.objects.none()
    filterset_class = RollupFilter
    ordering_fields = ["week_start"]
    search_fields = []

    def get_queryset(self):
        return selectors.rollups_visible_to(self.request.user).order_by("-week_start", "salesperson_id")


class ReportAPIView(APIView):
    query_serializer = ReportQuerySerializer

    def params(self, request) -> dict:
        serializer = self.query_serializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def scope(self, request, params):
        return selectors.resolve_scope(
            request.user, owner=params.get("owner"), team=params.get("team"), scope=params.get("scope")
        )

    @staticmethod
    def period(params, default=PeriodKind.MONTH):
        return period_for(params.get("period") or default, params.get("on") or today())


def _scope_json(scope) -> dict:
    return {
        "kind": scope.kind,
        "owner": scope.owner.pk if scope.owner else None,
        "team": scope.team.pk if scope.team else None,
    }


def _period_json(period) -> dict:
    return {"kind": period.kind, "start": period.start, "end": period.end, "label": period.label}


def _findings(findings) -> list:
    return [
        {"code": f.code, "params": {k: str(v) for k, v in f.params.items()}, "text": finding_text(f)}
        for f in findings
    ]


class FunnelReportView(ReportAPIView):
    """``GET /api/reports/funnel/``: counts and weighted value per grade, movement this
    week, stuck count, quota vs actual vs target, and the diagnosis."""

    @extend_schema(tags=["reports"], responses=OpenApiTypes.OBJECT, parameters=SCOPE_PARAMETERS[:2])
    def get(self, request):
        params = self.params(request)
        data = selectors.funnel_dashboard(self.scope(request, params))
        return Response(
            {
                "scope": _scope_json(data["scope"]),
                "grades": [
                    {
                        "code": r["grade"].code,
                        "kind": r["grade"].kind,
                        "count": r["count"],
                        "expected": r["expected"],
                        "weighted": r["weighted"],
                        "stuck": r["stuck"],
                    }
                    for r in data["rows"]
                ],
                "quota": data["quota"],
                "open_count": data["open_count"],
                "movement": data["movement"],
                "stuck_count": data["stuck_count"],
                "periods": [
                    {
                        "period": _period_json(r["period"]),
                        "actual": r["actual"],
                        "target": r["target"],
                        "percentage": r["percentage"],
                        "status": r["status"],
                    }
                    for r in data["periods"]
                ],
                "people": [
                    {"id": p["person"].pk, "open": p["open"], "weighted": p["weighted"], "stuck": p["stuck"]}
                    for p in data["people"]
                ],
                # The company's people summed by team, as the page shows them (empty below it).
                "teams": [
                    {
                        "id": t["team"].pk if t["team"] else None,
                        "name": t["team"].name if t["team"] else None,
                        "people": t["people"],
                        "open": t["open"],
                        "weighted": t["weighted"],
                        "stuck": t["stuck"],
                    }
                    for t in data["teams"]
                ],
                "findings": _findings(data["findings"]),
            }
        )


class DiagnosisReportView(ReportAPIView):
    """``GET /api/reports/diagnosis/``: the funnel shape diagnosis with its inputs."""

    @extend_schema(tags=["reports"], responses=OpenApiTypes.OBJECT, parameters=SCOPE_PARAMETERS[:2])
    def get(self, request):
        params = self.params(request)
        data = selectors.funnel_dashboard(self.scope(request, params))
        return Response(
            {
                "scope": _scope_json(data["scope"]),
                "layers": [
                    {
                        "code": s.code,
                        "count": s.count,
                        "ideal_share": s.ideal_share,
                        "actual_share": s.actual_share,
                        "ratio": s.ratio,
                    }
                    for s in data["shape"]
                ],
                "rates": [
                    {"code": r.grade.code, "rate": r.rate, "measured": r.is_measured} for r in data["rates"]
                ],
                "recent_orders": data["recent_orders"],
                "findings": _findings(data["findings"]),
            }
        )


class BackwardPlanReportView(ReportAPIView):
    """``GET /api/reports/backward-plan/?target_orders=10&period=quarter`` (or
    ``target_amount`` and optionally ``average_order``)."""

    query_serializer = BackwardPlanQuerySerializer

    @extend_schema(
        tags=["reports"],
        responses=OpenApiTypes.OBJECT,
        parameters=SCOPE_PARAMETERS
        + [
            OpenApiParameter("target_orders", int),
            OpenApiParameter("target_amount", Decimal),
            OpenApiParameter("average_order", Decimal),
        ],
    )
    def get(self, request):
        params = self.params(request)
        scope = self.scope(request, params)
        target = params.get("target_orders")
        if not target:
            average = params.get("average_order") or selectors.average_order(scope)
            if not average:
                raise ValidationError({"average_order": "No orders yet to average: give average_order."})
            target = orders_for_amount(params["target_amount"], average)
        report = selectors.backward_plan_report(scope, self.period(params, PeriodKind.QUARTER), target)
        return Response(
            {
                "scope": _scope_json(scope),
                "period": _period_json(report["period"]),
                "target_orders": target,
                "weeks_left": report["weeks_left"],
                "plan": [
                    {
                        "code": i["row"].code,
                        "rate": i["row"].rate,
                        "measured": i["rate"].is_measured,
                        "needed": i["row"].needed,
                        "current": i["row"].current,
                        "shortfall": i["row"].shortfall,
                        "weekly_additions": i["row"].weekly_additions,
                    }
                    for i in report["plan"]
                ],
                "weeks": [
                    {
                        "week_start": w.week_start,
                        "weeks_left": p.weeks_left,
                        "remaining_target": p.remaining_target,
                        "planned_additions": p.planned_additions,
                        "actual_additions": p.actual_additions,
                        "orders": w.orders_in_week,
                        "completion": p.completion,
                    }
                    for w, p in report["weekly"]
                ],
                "average_rates": report["average_rates"],
                "orders_so_far": report["orders_so_far"],
            }
        )


class ConversionReportView(ReportAPIView):
    """``GET /api/reports/conversion/``: stage conversion, days in grade, bottleneck, calibration."""

    @extend_schema(tags=["reports"], responses=OpenApiTypes.OBJECT, parameters=SCOPE_PARAMETERS)
    def get(self, request):
        params = self.params(request)
        scope = self.scope(request, params)
        report = selectors.conversion_report(scope, self.period(params, PeriodKind.YEAR))
        return Response(
            {
                "scope": _scope_json(scope),
                "period": _period_json(report["period"]),
                "stages": [
                    {
                        "code": s["grade"].code,
                        "entered": s["entered"],
                        "advanced": s["advanced"],
                        "rate": s["rate"],
                        "mean_days": s["mean_days"],
                        "median_days": s["median_days"],
                    }
                    for s in report["stages"]
                ],
                "bottleneck": report["bottleneck"].code if report["bottleneck"] else None,
                "calibration": [
                    {
                        "code": c["grade"].code,
                        "sample": c["sample"],
                        "won": c["won"],
                        "observed": c["observed"],
                        "configured": c["configured"],
                        "suggested": c["suggested"],
                    }
                    for c in report["calibration"]
                ],
            }
        )


class QuotaReportView(ReportAPIView):
    """``GET /api/reports/quota/``: per salesperson and team, actual vs target and quota."""

    @extend_schema(tags=["reports"], responses=OpenApiTypes.OBJECT, parameters=SCOPE_PARAMETERS)
    def get(self, request):
        params = self.params(request)
        scope = self.scope(request, params)
        report = selectors.quota_report(scope, self.period(params))
        return Response(
            {
                "scope": _scope_json(scope),
                "period": _period_json(report["period"]),
                "people": [
                    {
                        "id": r["person"].pk,
                        "username": r["person"].username,
                        "orders": r["orders"],
                        "actual": r["actual"],
                        "target": r["target"],
                        "percentage": r["percentage"],
                        "status": r["status"],
                        "quota": r["quota"],
                    }
                    for r in report["rows"]
                ],
                "teams": [
                    {
                        "id": r["team"].pk,
                        "name": r["team"].name,
                        "actual": r["actual"],
                        "target": r["target"],
                        "percentage": r["percentage"],
                        "status": r["status"],
                        "quota": r["quota"],
                    }
                    for r in report["teams"]
                ],
            }
        )


class ActivityFunnelReportView(ReportAPIView):
    """``GET /api/reports/activity-funnel/?commission=5``: dials → … → amount, per dial, efficiency."""

    query_serializer = ActivityFunnelQuerySerializer

    @extend_schema(
        tags=["reports"],
        responses=OpenApiTypes.OBJECT,
        parameters=SCOPE_PARAMETERS + [OpenApiParameter("commission", Decimal)],
    )
    def get(self, request):
        params = self.params(request)
        scope = self.scope(request, params)
        commission = params["commission"]
        period = self.period(params)
        funnel = selectors.activity_funnel(scope, period, commission / 100)
        negotiations = selectors.negotiation_report(scope, period)

        def row_json(row):
            return {key: value for key, value in row.items() if key != "person"}

        return Response(
            {
                "scope": _scope_json(scope),
                "period": _period_json(period),
                "commission_rate": commission,
                "people": [{"id": r["person"].pk, **row_json(r)} for r in funnel["rows"]],
                "total": row_json(funnel["total"]),
                **negotiations,
            }
        )


class WeeklyReportAPIView(ReportAPIView):
    """``GET /api/reports/weekly/?team=&week=``: the weekly manager report (managers, admins)."""

    query_serializer = WeeklyQuerySerializer

    @extend_schema(
        tags=["reports"],
        responses=OpenApiTypes.OBJECT,
        parameters=SCOPE_PARAMETERS[:2] + [OpenApiParameter("week", str)],
    )
    def get(self, request):
        if not (request.user.is_manager or request.user.is_admin):
            raise PermissionDenied
        params = self.params(request)
        scope = self.scope(request, params)
        monday = week_start(params["week"]) if params.get("week") else last_complete_week(today())
        report = selectors.weekly_report(scope, monday)
        saved = report["manager_report"]
        return Response(
            {
                "scope": _scope_json(scope),
                "week_start": monday,
                "week_end": monday + timedelta(days=6),
                "totals": report["totals"],
                "effective_visit_rate": report["effective_visit_rate"],
                "transaction_rate": report["transaction_rate"],
                "average_sales": report["average_sales"],
                "month_actual": report["month_actual"],
                "month_target": report["month_target"],
                "month_percentage": report["month_percentage"],
                "month_status": report["month_status"],
                "people": WeeklyRollupSerializer(report["rollups"], many=True).data,
                "stuck": [c.pk for c in report["stuck"]],
                "overdue": [c.pk for c in report["overdue"]],
                "complaints": [{"id": m.pk, "title": m.title} for m in report["complaints"]],
                "competitor_news": [
                    {"activity": a.pk, "customer": a.customer_id, "text": a.competitor_news}
                    for a in report["competitor_news"]
                ],
                "late_reports": [{"owner": r.owner_id, "date": r.date} for r in report["late_reports"]],
                "next_week_plan": saved.next_week_plan if saved else "",
            }
        )

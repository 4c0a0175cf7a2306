"""API adapters of the reports: targets, activity targets, weekly rollups and the report
endpoints. Every one resolves the caller's scope with ``selectors.resolve_scope``: a
salesperson naming another owner gets 404, lists hold only what the caller may see."""

from decimal import Decimal

import django_filters
from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.replicas import ReplicaReadsMixin
from crm.filters import IdFilter, IdFilterSet
from crm.models import User
from reports import meetings, selectors, services
from reports.models import ActionItem, ActivityTarget, Meeting, Target, WeeklyRollup
from reports.periods import PeriodKind, last_complete_week, period_for, today, week_start
from reports.permissions import can_set_target
from reports.planning import orders_for_amount
from reports.selectors import forecast

from .serializers import (
    CALL_FUNNEL_LABELS,
    WEEKLY_LABELS,
    ActionItemSerializer,
    ActivityFunnelQuerySerializer,
    ActivityFunnelReportSerializer,
    ActivityTargetSerializer,
    AttendanceInputSerializer,
    BackwardPlanQuerySerializer,
    BackwardPlanSerializer,
    ConversionReportSerializer,
    DiagnosisReportSerializer,
    ForecastAccuracySerializer,
    ForecastQuerySerializer,
    ForecastReportSerializer,
    FunnelReportSerializer,
    MeetingSerializer,
    QuotaReportSerializer,
    ReportQuerySerializer,
    TargetSerializer,
    WeeklyQuerySerializer,
    WeeklyReportSerializer,
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


class ReportAPIView(ReplicaReadsMixin, APIView):
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


def _labels(terms: dict) -> dict:
    return {key: str(term) for key, term in terms.items()}


class FunnelReportView(ReportAPIView):
    """``GET /api/reports/funnel/``: counts and weighted value per grade, movement this
    week, stuck count, quota vs actual vs target, and the diagnosis."""

    @extend_schema(tags=["reports"], responses=FunnelReportSerializer, parameters=SCOPE_PARAMETERS[:2])
    def get(self, request):
        params = self.params(request)
        return Response(FunnelReportSerializer(selectors.funnel_dashboard(self.scope(request, params))).data)


class DiagnosisReportView(ReportAPIView):
    """``GET /api/reports/diagnosis/``: the funnel shape diagnosis — verdict, advice, the
    numbers it rests on, each grade's share against its share at the current rates, and
    which rates are measured or assumed."""

    @extend_schema(tags=["reports"], responses=DiagnosisReportSerializer, parameters=SCOPE_PARAMETERS[:2])
    def get(self, request):
        params = self.params(request)
        data = selectors.funnel_dashboard(self.scope(request, params))
        return Response(DiagnosisReportSerializer(data).data)


class BackwardPlanReportView(ReportAPIView):
    """``GET /api/reports/backward-plan/?target_orders=10&period=quarter`` (or
    ``target_amount`` and optionally ``average_order``)."""

    query_serializer = BackwardPlanQuerySerializer

    @extend_schema(
        tags=["reports"],
        responses=BackwardPlanSerializer,
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
        return Response(BackwardPlanSerializer(report).data)


class ConversionReportView(ReportAPIView):
    """``GET /api/reports/conversion/``: stage conversion, days in grade, bottleneck, calibration."""

    @extend_schema(tags=["reports"], responses=ConversionReportSerializer, parameters=SCOPE_PARAMETERS)
    def get(self, request):
        params = self.params(request)
        scope = self.scope(request, params)
        report = selectors.conversion_report(scope, self.period(params, PeriodKind.YEAR))
        return Response(ConversionReportSerializer({"scope": scope, **vars(report)}).data)


class QuotaReportView(ReportAPIView):
    """``GET /api/reports/quota/``: per salesperson and team, actual vs target and quota."""

    @extend_schema(tags=["reports"], responses=QuotaReportSerializer, parameters=SCOPE_PARAMETERS)
    def get(self, request):
        params = self.params(request)
        scope = self.scope(request, params)
        report = selectors.quota_report(scope, self.period(params))
        return Response(QuotaReportSerializer({"scope": scope, **vars(report)}).data)


class ForecastReportView(ReportAPIView):
    """``GET /api/reports/forecast/?period=0&category=commit``: closed, commit, best case,
    pipeline and weighted value of this and next month and quarter, against the target,
    with the adjustments beside; per salesperson and team; the customers behind a number."""

    query_serializer = ForecastQuerySerializer

    @extend_schema(tags=["reports"], responses=ForecastReportSerializer, parameters=[ForecastQuerySerializer])
    def get(self, request):
        params = self.params(request)
        scope = self.scope(request, params)
        report = forecast.forecast_report(scope, period_index=params.get("period", 0))
        category = params.get("category")
        customers = forecast.forecast_lines(scope, report.period, category) if category else []
        return Response(
            ForecastReportSerializer({"scope": scope, **vars(report), "customers": customers}).data
        )


class ForecastAccuracyView(ReportAPIView):
    """``GET /api/reports/forecast-accuracy/``: each salesperson's commit and weighted-value
    accuracy and bias over the last four complete months."""

    @extend_schema(tags=["reports"], responses=ForecastAccuracySerializer, parameters=SCOPE_PARAMETERS[:2])
    def get(self, request):
        params = self.params(request)
        scope = self.scope(request, params)
        rows = forecast.forecast_accuracy(scope)
        periods = forecast.accuracy_periods(today())
        return Response(ForecastAccuracySerializer({"scope": scope, "periods": periods, "people": rows}).data)


class ActivityFunnelReportView(ReportAPIView):
    """``GET /api/reports/activity-funnel/?commission=5``: dials → … → amount, per dial, efficiency."""

    query_serializer = ActivityFunnelQuerySerializer

    @extend_schema(
        tags=["reports"],
        responses=ActivityFunnelReportSerializer,
        parameters=[
            *SCOPE_PARAMETERS,
            OpenApiParameter("commission", Decimal, description=CALL_FUNNEL_LABELS["commission_rate"]),
        ],
    )
    def get(self, request):
        params = self.params(request)
        scope = self.scope(request, params)
        commission = params["commission"]
        period = self.period(params)
        funnel = selectors.activity_funnel(scope, period, commission / 100)
        return Response(
            ActivityFunnelReportSerializer(
                {
                    "scope": scope,
                    "period": period,
                    "commission_rate": commission,
                    "rows": funnel.rows,
                    "total": funnel.total,
                    "labels": _labels(CALL_FUNNEL_LABELS),
                    **selectors.negotiation_report(scope, period),
                }
            ).data
        )


class WeeklyReportAPIView(ReportAPIView):
    """``GET /api/reports/weekly/?team=&week=``: the weekly manager report (managers, admins)."""

    query_serializer = WeeklyQuerySerializer

    @extend_schema(
        tags=["reports"],
        responses=WeeklyReportSerializer,
        parameters=SCOPE_PARAMETERS[:2] + [OpenApiParameter("week", str)],
    )
    def get(self, request):
        if not request.user.is_manager_or_admin:
            raise PermissionDenied
        params = self.params(request)
        scope = self.scope(request, params)
        monday = week_start(params["week"]) if params.get("week") else last_complete_week(today())
        report = selectors.weekly_report(scope, monday)
        saved = report.manager_report
        return Response(
            WeeklyReportSerializer(
                {
                    **vars(report),
                    "scope": scope,
                    "stuck": [customer.pk for customer in report.stuck],
                    "overdue": [customer.pk for customer in report.overdue],
                    "effective_visit_rate": report.effective_visit_rate,
                    "transaction_rate": report.transaction_rate,
                    "next_week_plan": saved.next_week_plan if saved else "",
                    "labels": _labels(WEEKLY_LABELS),
                }
            ).data
        )


# --- Sales meetings --------------------------------------------------------------------------


class MeetingFilter(IdFilterSet):
    team = IdFilter(field_name="team")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = Meeting
        fields = ["kind", "date"]


class MeetingViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Sales meetings of the caller's teams, with their minutes (the members of a team read
    them; its managers and admins write). ``POST`` ``{team, kind, date}`` opens a meeting
    (201), or answers the existing one (200); ``PATCH`` ``{notes}``; ``attendance/`` and
    ``action-items/`` record the minutes."""

    serializer_class = MeetingSerializer
    queryset = Meeting.objects.none()
    filterset_class = MeetingFilter
    ordering_fields = ["date"]
    search_fields = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            meetings.meetings_visible_to(self.request.user)
            .prefetch_related("attendance", "action_items__meeting")
            .order_by("-date", "kind", "pk")
        )

    def _output(self, meeting, code):
        meeting = self.get_queryset().get(pk=meeting.pk)
        return Response(self.get_serializer(meeting).data, status=code)

    @extend_schema(
        responses={
            201: MeetingSerializer,
            200: OpenApiResponse(MeetingSerializer, description="Already open."),
        }
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        meeting, created = meetings.open_meeting(
            by=request.user, team=data["team"], kind=data["kind"], day=data["date"]
        )
        return self._output(meeting, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def update(self, request, *args, **kwargs):
        meeting = self.get_object()
        serializer = self.get_serializer(meeting, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        notes = serializer.validated_data.get("notes", meeting.notes)
        meetings.save_notes(meeting=meeting, by=request.user, notes=notes)
        return self._output(meeting, status.HTTP_200_OK)

    @extend_schema(request=AttendanceInputSerializer, responses=MeetingSerializer)
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk=None):
        meeting = self.get_object()
        serializer = AttendanceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        statuses = {row["user"]: row["status"] for row in serializer.validated_data["attendance"]}
        meetings.record_attendance(meeting=meeting, by=request.user, statuses=statuses)
        return self._output(meeting, status.HTTP_200_OK)

    @extend_schema(request=ActionItemSerializer, responses={201: ActionItemSerializer})
    @action(detail=True, methods=["post"], url_path="action-items", url_name="action-items")
    def action_items(self, request, pk=None):
        meeting = self.get_object()
        serializer = ActionItemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        item = meetings.add_action_item(
            meeting=meeting,
            by=request.user,
            owner=User.objects.filter(pk=data["owner_id"]).first(),
            text=data["text"],
            due_on=data["due_on"],
        )
        return Response(ActionItemSerializer(item).data, status=status.HTTP_201_CREATED)


class ActionItemFilter(IdFilterSet):
    owner = IdFilter(field_name="owner")
    meeting = IdFilter(field_name="meeting")
    open = django_filters.BooleanFilter(field_name="done_at", lookup_expr="isnull", label="Open (not done)")

    class Meta:
        model = ActionItem
        fields = ["due_on"]


class ActionItemViewSet(viewsets.ReadOnlyModelViewSet):
    """Action items of the caller's teams' meetings and their own; ``done/`` closes one
    (its owner or the team's managers; done twice keeps the first)."""

    serializer_class = ActionItemSerializer
    queryset = ActionItem.objects.none()
    filterset_class = ActionItemFilter
    ordering_fields = ["due_on"]
    search_fields = []

    def get_queryset(self):
        return meetings.action_items_visible_to(self.request.user).order_by("due_on", "pk")

    @extend_schema(request=None, responses=ActionItemSerializer)
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        item = meetings.complete_action_item(item=self.get_object(), by=request.user)
        return Response(ActionItemSerializer(item).data)

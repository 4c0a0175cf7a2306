"""API adapters of the daily routine: querysets come from the selectors, writes go
through the services (their ``PermissionDenied`` answers 403, ``ValidationError`` 400)."""

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from activities import selectors, services
from activities.filters import ActivityFilter, DailyPlanFilter, DailyReportFilter, MarketReportFilter
from activities.models import PlanItem
from crm import services as crm_services

from .idempotency import IDEMPOTENCY_KEY_PARAMETER, client_key
from .serializers import (
    ActivitySerializer,
    DailyPlanSerializer,
    DailyReportSerializer,
    MarketReportSerializer,
    MarkReadSerializer,
    MyDaySerializer,
    NotificationSerializer,
    ObjectionSerializer,
    PlanAddCustomersSerializer,
    PlanAddResultSerializer,
    PlanItemSerializer,
    ReviewSerializer,
)


class ActivityViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Activities of the customers the caller may see; logging one goes through
    ``log_activity`` (a customer the caller cannot see answers 400, nothing is written)."""

    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    search_fields = ["customer__name", "outcome"]
    ordering_fields = ["started_at"]

    def get_queryset(self):
        return selectors.activities_visible_to(self.request.user).order_by("-started_at", "-pk")

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: ActivitySerializer,
            200: OpenApiResponse(ActivitySerializer, description="A resend: the first activity."),
        },
    )
    def create(self, request, *args, **kwargs):
        """Log an activity; with an idempotency key, a resend answers 200 with the first row
        (even if its body would no longer pass, say the customer was archived since)."""
        key = client_key(request)
        if key is not None:
            resent = self.get_queryset().filter(owner=request.user, client_key=key).first()
            if resent is not None:
                return Response(self.get_serializer(resent).data, status=status.HTTP_200_OK)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {**serializer.validated_data, "client_key": key}
        activity = services.log_activity(by=request.user, **data)
        return Response(
            self.get_serializer(activity).data,
            status=status.HTTP_200_OK if activity.resent else status.HTTP_201_CREATED,
        )


class ObjectionViewSet(viewsets.ReadOnlyModelViewSet):
    """The objection catalog with suggested answers (admins edit it in the admin)."""

    serializer_class = ObjectionSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return selectors.active_objections()


class _ReviewedViewSet(viewsets.GenericViewSet):
    """Shared shape of plans and reports: list / retrieve what the caller may see, and
    POST actions that call one state-machine service each."""

    def _move(self, request, service, *, comment: bool):
        row = self.get_object()
        kwargs = {self.row_name: row, "by": request.user}
        if comment:
            serializer = ReviewSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            kwargs["comment"] = serializer.validated_data["comment"]
        service(**kwargs)
        return self._output(row)

    def _output(self, row, status_code=status.HTTP_200_OK):
        row = self.get_queryset().get(pk=row.pk)
        return Response(self.get_serializer(row).data, status=status_code)


class DailyPlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ReviewedViewSet):
    """Daily plans: the caller's own, their team's (managers), all (admins).

    ``POST`` ``{date, items: [...]}`` opens the caller's plan for the day (or the
    existing one) and adds the items; ``submit/`` (owner), ``approve/`` and ``return/``
    (the owner's manager or an admin; a comment is required to return)."""

    serializer_class = DailyPlanSerializer
    filterset_class = DailyPlanFilter
    ordering_fields = ["date"]
    search_fields = []
    row_name = "plan"

    def get_queryset(self):
        return (
            selectors.plans_visible_to(self.request.user)
            .prefetch_related("events", "items__customer")
            .order_by("-date", "owner_id")
        )

    @transaction.atomic
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = services.open_plan(by=request.user, day=serializer.validated_data["date"])
        for item in serializer.validated_data.get("items", []):
            services.add_plan_item(plan=plan, by=request.user, **item)
        return self._output(plan, status.HTTP_201_CREATED)

    @extend_schema(request=PlanItemSerializer, responses=DailyPlanSerializer)
    @action(detail=True, methods=["post"], url_path="items", url_name="add-item")
    def add_item(self, request, pk=None):
        plan = self.get_object()
        serializer = PlanItemSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        services.add_plan_item(plan=plan, by=request.user, **serializer.validated_data)
        return self._output(plan, status.HTTP_201_CREATED)

    @extend_schema(
        request=PlanAddCustomersSerializer,
        responses={
            201: PlanAddResultSerializer,
            200: OpenApiResponse(
                PlanAddResultSerializer, description="Every customer was on the plan already."
            ),
        },
    )
    @action(detail=False, methods=["post"], url_path="add-customers", url_name="add-customers")
    def add_customers(self, request):
        """Put customers on the caller's plan of a day (the next working day by default), each
        with the purpose its grade suggests; customers already on it are skipped (idempotent),
        a submitted or approved plan is refused (400)."""
        serializer = PlanAddCustomersSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.add_customers_to_plan(
            by=request.user,
            customer_ids=data["customers"],
            day=data.get("date") or selectors.next_plan_day(),
            kind=data["kind"],
        )
        return Response(
            PlanAddResultSerializer(result, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if result.added else status.HTTP_200_OK,
        )

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"items/(?P<item_pk>\d+)", url_name="remove-item")
    def remove_item(self, request, pk=None, item_pk=None):
        plan = self.get_object()
        item = get_object_or_404(PlanItem, pk=item_pk, plan=plan)
        services.remove_plan_item(item=item, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=DailyPlanSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._move(request, services.submit_plan, comment=False)

    @extend_schema(request=ReviewSerializer, responses=DailyPlanSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._move(request, services.approve_plan, comment=True)

    @extend_schema(request=ReviewSerializer, responses=DailyPlanSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_plan(self, request, pk=None):
        return self._move(request, services.return_plan, comment=True)


class DailyReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ReviewedViewSet):
    """Daily reports, visible like plans. ``POST`` ``{date}`` opens the caller's report
    (filled in from the day's records); ``PATCH`` fills it in (owner, draft or returned);
    ``submit/`` (owner; late after the cut-off), ``sign-off/`` and ``return/`` (manager)."""

    serializer_class = DailyReportSerializer
    filterset_class = DailyReportFilter
    ordering_fields = ["date"]
    search_fields = []
    row_name = "report"

    def get_queryset(self):
        return (
            selectors.reports_visible_to(self.request.user)
            .prefetch_related("events")
            .order_by("-date", "owner_id")
        )

    @transaction.atomic
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = services.open_report(by=request.user, day=serializer.validated_data["date"])
        fields = {key: value for key, value in serializer.validated_data.items() if key != "date"}
        if fields:
            services.update_report(report=report, by=request.user, **fields)
        return self._output(report, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        report = self.get_object()
        serializer = self.get_serializer(report, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.update_report(report=report, by=request.user, **serializer.validated_data)
        return self._output(report)

    @extend_schema(request=None, responses=DailyReportSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._move(request, services.submit_report, comment=False)

    @extend_schema(request=ReviewSerializer, responses=DailyReportSerializer)
    @action(detail=True, methods=["post"], url_path="sign-off", url_name="sign-off")
    def sign_off(self, request, pk=None):
        return self._move(request, services.sign_off_report, comment=True)

    @extend_schema(request=ReviewSerializer, responses=DailyReportSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_report(self, request, pk=None):
        return self._move(request, services.return_report, comment=True)


class MarketReportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Market-situation reports and complaints: filing one notifies the manager at once
    (in-app and by e-mail)."""

    serializer_class = MarketReportSerializer
    filterset_class = MarketReportFilter
    ordering_fields = ["created_at"]
    search_fields = ["title", "body"]

    def get_queryset(self):
        return selectors.market_reports_visible_to(self.request.user).order_by("-created_at", "-pk")

    def perform_create(self, serializer):
        serializer.instance = services.file_market_report(by=self.request.user, **serializer.validated_data)


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """The caller's own notifications, newest first (``?unread=1`` for unread only)."""

    serializer_class = NotificationSerializer
    filter_backends = []

    def get_queryset(self):
        queryset = selectors.notifications_of(self.request.user)
        if self.request.query_params.get("unread") == "1":
            queryset = queryset.filter(read_at__isnull=True)
        return queryset

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"], url_path="mark-read", url_name="mark-read")
    def mark_read(self, request, pk=None):
        notification = self.get_object()
        crm_services.mark_notifications_read(user=request.user, ids=[notification.pk])
        notification.refresh_from_db()
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=MarkReadSerializer, responses={200: None})
    @action(detail=False, methods=["post"], url_path="mark-all-read", url_name="mark-all-read")
    def mark_all_read(self, request):
        serializer = MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        count = crm_services.mark_notifications_read(
            user=request.user, ids=serializer.validated_data.get("ids")
        )
        return Response({"marked": count})


class MyDayView(APIView):
    """``GET /api/my-day/``: the caller's start page as data — today's plan and report,
    follow-ups due (overdue first), cadence-due customers (priority first) and, for
    managers and admins, how many plans and reports wait for their review."""

    @extend_schema(responses=MyDaySerializer, tags=["my-day"])
    def get(self, request):
        day = selectors.my_day(request.user)
        return Response(MyDaySerializer(day, context={"request": request}).data)

"""API adapters of the funnel: grades, grade history, orders and the change-grade action;
funnel management — alerts, handover tasks, the pool, conflicts, reassign / claim /
release actions on customers and the balance report."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response
from rest_framework.views import APIView

from core.models import Grade
from crm.selectors import customers_visible_to, orders_visible_to, teams_visible_to
from funnel import selectors, services
from funnel.filters import AlertFilter, ConflictFilter, HandoverTaskFilter, PoolFilter
from funnel.models import Reassignment
from funnel.services import ReassignConflict

from .serializers import (
    BulkReassignResultSerializer,
    BulkReassignSerializer,
    ChangeGradeSerializer,
    ConflictCreateSerializer,
    ConflictSerializer,
    CustomerGradeSerializer,
    GradeChangeSerializer,
    GradeSerializer,
    HandoverTaskSerializer,
    OrderSerializer,
    PoolCustomerSerializer,
    ReassignmentSerializer,
    ReassignSerializer,
    ReleaseSerializer,
    SettleSerializer,
    SnoozeAlertSerializer,
    StagnationAlertSerializer,
    WonConcentrationSerializer,
)


class IsAdminOrReadOnly(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or request.user.is_admin


class GradeViewSet(viewsets.ModelViewSet):
    """The funnel's grades: everyone reads, admins configure (deleting a grade in use is refused)."""

    serializer_class = GradeSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdminOrReadOnly]
    queryset = Grade.objects.order_by("order")
    pagination_class = None
    filter_backends = []

    def perform_create(self, serializer):
        serializer.instance = services.save_grade(
            grade=Grade(**serializer.validated_data), by=self.request.user
        )

    def perform_update(self, serializer):
        grade = serializer.instance
        for field, value in serializer.validated_data.items():
            setattr(grade, field, value)
        serializer.instance = services.save_grade(grade=grade, by=self.request.user)

    def destroy(self, request, *args, **kwargs):
        grade = self.get_object()
        if grade.customers.exists():
            return Response(
                {"detail": "Customers are at this grade; move them first."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        services.delete_grade(grade=grade, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GradeChangeViewSet(viewsets.ReadOnlyModelViewSet):
    """Every grade move of the customers the caller may see (append-only history)."""

    serializer_class = GradeChangeSerializer
    filterset_fields = ["customer", "to_grade", "from_grade", "owner"]
    ordering_fields = ["changed_at"]
    search_fields = []

    def get_queryset(self):
        return selectors.grade_changes_visible_to(self.request.user).order_by("-changed_at", "-pk")


class OrderViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Orders of visible customers. Creating one records it and (by the company setting)
    moves the customer to won."""

    serializer_class = OrderSerializer
    filterset_fields = ["customer", "owner"]
    ordering_fields = ["signed_on", "amount"]
    search_fields = ["customer__name", "note"]

    def get_queryset(self):
        return orders_visible_to(self.request.user).order_by("-signed_on", "-pk")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        customer = data.pop("customer")
        serializer.instance = services.record_order(customer=customer, by=self.request.user, **data)


class ChangeGradeView(APIView):
    """``POST /api/customers/{id}/change-grade/`` ``{grade, note, expected_grade?}``: 409
    (``StaleWrite``, nothing written) when the grade is no longer the one the caller saw."""

    @extend_schema(
        request=ChangeGradeSerializer,
        tags=["customers"],
        responses={
            200: CustomerGradeSerializer,
            409: OpenApiResponse(description="Someone else changed the customer's grade meanwhile; reload"),
        },
    )
    def post(self, request, pk):
        customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
        serializer = ChangeGradeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        expected = data.pop("expected_grade", customer.grade_id)
        services.change_grade(customer=customer, by=request.user, expected_grade_id=expected, **data)
        customer = customers_visible_to(request.user).select_related("grade").get(pk=pk)
        return Response(CustomerGradeSerializer(customer).data)


# --- Funnel management -------------------------------------------------------------------------


def _conflict_response(error: ReassignConflict) -> Response:
    return Response({"detail": error.message}, status=status.HTTP_409_CONFLICT)


# In the schema of every route that answers ``_conflict_response`` (config.openapi adds the body).
CONFLICT = OpenApiResponse(description="Someone else changed the customer's owner meanwhile; reload")


class StagnationAlertViewSet(viewsets.ReadOnlyModelViewSet):
    """``/api/alerts/``: open stagnation alerts of the customers the caller may see (all
    of them, snoozed included, unless ``?state=to_act_on`` or ``snoozed``);
    ``POST …/{id}/snooze/`` ``{until, reason}`` snoozes one."""

    serializer_class = StagnationAlertSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = AlertFilter
    ordering_fields = ["stagnant_from", "grade_entered_at"]

    def get_queryset(self):
        return selectors.alerts_visible_to(self.request.user)

    @extend_schema(request=SnoozeAlertSerializer, responses=StagnationAlertSerializer)
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        serializer = SnoozeAlertSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = services.snooze_alert(alert=self.get_object(), by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(alert).data)


class HandoverTaskViewSet(viewsets.ReadOnlyModelViewSet):
    """``/api/handover-tasks/``: the caller's (salesperson), the team's (manager) or all
    (admin) handover tasks; ``POST …/{id}/done/`` ticks one."""

    serializer_class = HandoverTaskSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = HandoverTaskFilter
    ordering_fields = ["due_on", "created_at"]

    def get_queryset(self):
        return selectors.handover_tasks_visible_to(self.request.user).order_by("due_on", "pk")

    @extend_schema(request=None, responses=HandoverTaskSerializer)
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        task = services.tick_handover_task(task=self.get_object(), by=request.user)
        return Response(self.get_serializer(task).data)


class PoolViewSet(viewsets.ReadOnlyModelViewSet):
    """``/api/pool/``: the public pool (limited fields), for every signed-in user;
    claim with ``POST /api/customers/{id}/claim/``."""

    serializer_class = PoolCustomerSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = PoolFilter

    def get_queryset(self):
        queryset = selectors.pool_customers(self.request.user)
        return queryset if self.request.query_params.get("ordering") else queryset.order_by("name", "pk")


class ConflictViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """``/api/conflicts/``: conflict claims of the caller (either side), of their team
    (managers) or all (admins). ``POST`` raises one; ``POST …/{id}/settle/`` settles it."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = ConflictFilter

    def get_queryset(self):
        return (
            selectors.conflicts_visible_to(self.request.user)
            .select_related("customer__owner", "claimant", "holder", "settled_by")
            .order_by("-created_at", "-pk")
        )

    def get_serializer_class(self):
        return ConflictCreateSerializer if self.action == "create" else ConflictSerializer

    @extend_schema(request=ConflictCreateSerializer, responses={201: ConflictSerializer})
    def create(self, request, *args, **kwargs):
        serializer = ConflictCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conflict = services.raise_conflict(by=request.user, **serializer.validated_data)
        conflict = self.get_queryset().get(pk=conflict.pk)
        return Response(
            ConflictSerializer(conflict, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=SettleSerializer, responses={200: ConflictSerializer})
    @action(detail=True, methods=["post"])
    def settle(self, request, pk=None):
        serializer = SettleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            conflict = services.settle_conflict(
                conflict=self.get_object(), by=request.user, **serializer.validated_data
            )
        except ReassignConflict as error:
            return _conflict_response(error)
        conflict = self.get_queryset().get(pk=conflict.pk)
        return Response(ConflictSerializer(conflict, context=self.get_serializer_context()).data)


def _visible_customer(request, pk):
    return get_object_or_404(customers_visible_to(request.user), pk=pk)


def _reassignment_output(record) -> dict:
    record = Reassignment.objects.prefetch_related("handover_tasks").get(pk=record.pk)
    return ReassignmentSerializer(record).data


class ReassignCustomerView(APIView):
    """``POST /api/customers/{id}/reassign/`` ``{owner, reason, force?, expected_owner?}``.

    Managers within their team tree, admins anywhere; a locked grade is refused (400)
    unless an admin forces it; an owner changed meanwhile answers 409."""

    @extend_schema(
        request=ReassignSerializer, responses={200: ReassignmentSerializer, 409: CONFLICT}, tags=["customers"]
    )
    def post(self, request, pk):
        customer = _visible_customer(request, pk)
        if not request.user.is_manager_or_admin:
            raise PermissionDenied(_("Only managers and admins reassign customers."))
        serializer = ReassignSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        expected = data.get("expected_owner", customer.owner_id)
        try:
            record = services.reassign_customer(
                customer=customer,
                new_owner=data["owner"],
                by=request.user,
                reason=data["reason"],
                force=data["force"],
                expected_owner_id=expected,
            )
        except ReassignConflict as error:
            return _conflict_response(error)
        return Response(_reassignment_output(record))


class BulkReassignView(APIView):
    """``POST /api/customers/bulk-reassign/`` ``{customers: [ids], owner, reason, force?}``:
    the allowed ones move, the refused ones are listed with their reason."""

    @extend_schema(
        request=BulkReassignSerializer, responses={200: BulkReassignResultSerializer}, tags=["customers"]
    )
    def post(self, request):
        if not request.user.is_manager_or_admin:
            raise PermissionDenied(_("Only managers and admins reassign customers."))
        serializer = BulkReassignSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customers = list(customers_visible_to(request.user).filter(pk__in=data["customers"]))
        unknown = sorted(set(data["customers"]) - {customer.pk for customer in customers})
        if unknown:
            raise NotFound(_("No such customers: %(ids)s") % {"ids": ", ".join(map(str, unknown))})
        result = services.reassign(
            customers=customers,
            new_owner=data["owner"],
            by=request.user,
            reason=data["reason"],
            force=data["force"],
        )
        moved = (
            Reassignment.objects.filter(pk__in=[r.pk for r in result.moved])
            .prefetch_related("handover_tasks")
            .order_by("customer_id")
        )
        return Response(BulkReassignResultSerializer({"moved": moved, "refused": result.refused}).data)


class ClaimCustomerView(APIView):
    """``POST /api/customers/{id}/claim/``: take a pool customer (caps apply); 409 when
    someone else claimed it first."""

    @extend_schema(request=None, responses={200: ReassignmentSerializer, 409: CONFLICT}, tags=["customers"])
    def post(self, request, pk):
        customer = get_object_or_404(selectors.pool_customers(request.user), pk=pk)
        try:
            record = services.claim_customer(customer=customer, by=request.user)
        except ReassignConflict as error:
            return _conflict_response(error)
        return Response(_reassignment_output(record))


class ReleaseCustomerView(APIView):
    """``POST /api/customers/{id}/release/`` ``{reason}``: back to the public pool."""

    @extend_schema(
        request=ReleaseSerializer, responses={200: ReassignmentSerializer, 409: CONFLICT}, tags=["customers"]
    )
    def post(self, request, pk):
        customer = _visible_customer(request, pk)
        serializer = ReleaseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            record = services.release_customer(
                customer=customer, by=request.user, **serializer.validated_data
            )
        except ReassignConflict as error:
            return _conflict_response(error)
        return Response(_reassignment_output(record))


class BalanceReportView(APIView):
    """``GET /api/reports/balance/?team=``: per salesperson, count and weighted value per
    grade, won customers, and the balance warnings (managers and admins)."""

    @extend_schema(
        parameters=[OpenApiParameter("team", int, required=False)],
        tags=["reports"],
        responses=inline_serializer(
            "BalanceReport",
            {
                "team": serializers.IntegerField(allow_null=True),
                "grades": serializers.ListField(child=serializers.CharField()),
                "rows": serializers.ListField(child=serializers.DictField()),
                "warnings": serializers.ListField(child=serializers.DictField()),
                "team_won": serializers.IntegerField(),
                "concentration": WonConcentrationSerializer(allow_null=True),
            },
        ),
    )
    def get(self, request):
        if not request.user.is_manager_or_admin:
            raise PermissionDenied(_("The balance view is for managers and admins."))
        team = None
        team_id = request.query_params.get("team")
        if team_id:
            teams = teams_visible_to(request.user)
            if request.user.is_manager:
                teams = teams.filter(pk__in=request.user.visible_team_ids)
            team = get_object_or_404(teams, pk=team_id) if team_id.isdigit() else None
            if team is None:
                raise NotFound
        data = selectors.balance(request.user, team=team, today=timezone.localdate())
        return Response(
            {
                "team": team.pk if team else None,
                "grades": [grade.code for grade in data["grades"]],
                "rows": [
                    {
                        "user": row["person"].pk,
                        "name": row["person"].display_name,
                        "per_grade": {
                            grade.code: {"count": cell["count"], "weighted": str(cell["weighted"])}
                            for grade, cell in zip(data["grades"], row["cells"], strict=True)
                        },
                        "open_count": row["open_count"],
                        "open_weighted": str(row["open_weighted"]),
                        "won": row["won"],
                    }
                    for row in data["rows"]
                ],
                "warnings": [
                    {
                        "kind": warning["kind"],
                        "user": warning["person"].pk,
                        "text": warning["text"],
                        "customer": warning["customer"].pk if "customer" in warning else None,
                    }
                    for warning in data["warnings"]
                ],
                "team_won": data["team_won"],
                "concentration": (
                    WonConcentrationSerializer(data["concentration"]).data if data["concentration"] else None
                ),
            }
        )

"""API adapters of the funnel: grades, grade history, orders and the change-grade action."""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.serializers import CustomerSerializer
from crm.selectors import customers_visible_to, orders_visible_to
from funnel import selectors, services
from funnel.models import Grade

from .serializers import ChangeGradeSerializer, GradeChangeSerializer, GradeSerializer, OrderSerializer


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
        serializer.instance = services.save_grade(grade=Grade(**serializer.validated_data), by=self.request.user)

    def perform_update(self, serializer):
        grade = serializer.instance
        for field, value in serializer.validated_data.items():
            setattr(grade, field, value)
        serializer.instance = services.save_grade(grade=grade, by=self.request.user)

    def destroy(self, request, *args, **kwargs):
        grade = self.get_object()
        if grade.customers.exists():
            return Response({"detail": "Customers are at this grade; move them first."},
                            status=status.HTTP_400_BAD_REQUEST)
        return super().destroy(request, *args, **kwargs)


class GradeChangeViewSet(viewsets.ReadOnlyModelViewSet):
    """Every grade move of the customers the caller may see (append-only history)."""

    serializer_class = GradeChangeSerializer
    filterset_fields = ["customer", "to_grade", "from_grade", "owner"]
    ordering_fields = ["changed_at"]
    search_fields = []

    def get_queryset(self):
        return selectors.grade_changes_visible_to(self.request.user).order_by("-changed_at", "-pk")


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                   viewsets.GenericViewSet):
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
    """``POST /api/customers/{id}/change-grade/`` ``{grade, note}``."""

    @extend_schema(request=ChangeGradeSerializer, responses=CustomerSerializer, tags=["customers"])
    def post(self, request, pk):
        customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
        serializer = ChangeGradeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.change_grade(customer=customer, by=request.user, **serializer.validated_data)
        customer = customers_visible_to(request.user).get(pk=pk)
        return Response(CustomerSerializer(customer, context={"request": request}).data)

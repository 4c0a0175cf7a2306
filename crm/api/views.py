"""API adapters: querysets come from the selectors, writes go through the services."""

from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.response import Response

from crm import selectors, services
from crm.filters import CustomerFilter, FilterBackend
from crm.pagination import CappedCountPagination

from .serializers import (
    PREFETCHED_TAGS,
    BulkTierResultSerializer,
    BulkTierSerializer,
    ContactSerializer,
    CustomerSerializer,
    CustomerWriteSerializer,
    LifecycleChangeSerializer,
    ProbabilityOverrideSerializer,
    TeamSerializer,
    UserSerializer,
)


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """Colleagues the caller may see: self (salesperson), the team tree (manager), all (admin)."""

    serializer_class = UserSerializer
    search_fields = ["username", "first_name", "last_name"]
    filterset_fields = ["role", "team", "is_active"]
    ordering_fields = ["username", "last_name", "hire_date"]

    def get_queryset(self):
        return selectors.users_visible_to(self.request.user)


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    """Teams the caller belongs to or manages (with sub-teams); admins see all."""

    serializer_class = TeamSerializer
    search_fields = ["name"]
    ordering_fields = ["name"]

    def get_queryset(self):
        return selectors.teams_visible_to(self.request.user)


class LifecycleChangeViewSet(viewsets.ReadOnlyModelViewSet):
    """Every lifecycle move of the customers the caller may see (append-only history)."""

    serializer_class = LifecycleChangeSerializer
    filterset_fields = ["customer", "to_stage", "from_stage", "reason"]
    ordering_fields = ["changed_at"]
    search_fields = []

    def get_queryset(self):
        return selectors.lifecycle_changes_visible_to(self.request.user).order_by("-changed_at", "-pk")


class CustomerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Customers the caller may see. Filters as the customer list (``?search=``,
    ``grade``, ``tier``, ``lifecycle``, ``owner``, ``tag``, ``source``, ``stagnant``,
    ``archived``, ``ordering``). DELETE archives: nothing is hard-deleted."""

    filterset_class = CustomerFilter
    filter_backends = [DjangoFilterBackend]
    pagination_class = CappedCountPagination

    def get_queryset(self):
        queryset = selectors.customers_visible_to(self.request.user).prefetch_related(
            Prefetch("tags", to_attr=PREFETCHED_TAGS)
        )
        if self.action == "list" and not self.request.query_params.get("ordering"):
            queryset = queryset.order_by("name", "pk")
        return queryset

    def filter_queryset(self, queryset):
        # The filters (and their "archived customers stay out" default) shape the list;
        # one customer is reached by id, archived or not, to read or restore it.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_serializer_class(self):
        return (
            CustomerWriteSerializer
            if self.action in {"create", "update", "partial_update"}
            else CustomerSerializer
        )

    def _output(self, customer, status_code=status.HTTP_200_OK):
        customer = self.get_queryset().get(pk=customer.pk)
        serializer = CustomerSerializer(customer, context=self.get_serializer_context())
        return Response(serializer.data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        customer = services.create_customer(by=request.user, owner=data.pop("owner", request.user), **data)
        return self._output(customer, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        customer = self.get_object()
        serializer = self.get_serializer(customer, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        services.update_customer(customer=customer, by=request.user, **data)
        return self._output(customer)

    def destroy(self, request, *args, **kwargs):
        services.archive_customer(customer=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=CustomerSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        customer = services.restore_customer(customer=self.get_object(), by=request.user)
        return self._output(customer)

    @extend_schema(request=ProbabilityOverrideSerializer, responses=CustomerSerializer)
    @action(detail=True, methods=["post"], url_path="probability-override")
    def probability_override(self, request, pk=None):
        serializer = ProbabilityOverrideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = services.set_probability_override(
            customer=self.get_object(), by=request.user, **serializer.validated_data
        )
        return self._output(customer)

    @extend_schema(request=BulkTierSerializer, responses=BulkTierResultSerializer)
    @action(detail=False, methods=["post"], url_path="bulk-tier")
    def bulk_tier(self, request):
        """Set the tier of up to 1,000 customers at once. Ids the caller may not see (or
        archived customers) are skipped, never changed; the answer counts each."""
        serializer = BulkTierSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ids = set(serializer.validated_data["customers"])
        customers = selectors.customers_visible_to(request.user).filter(pk__in=ids)
        result = services.bulk_change_tier(
            customers=customers, tier=serializer.validated_data["tier"], by=request.user, requested=len(ids)
        )
        return Response(BulkTierResultSerializer(result).data)


class ContactViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Contacts of customers the caller may see (no delete: history is kept)."""

    serializer_class = ContactSerializer
    filter_backends = [FilterBackend, SearchFilter, OrderingFilter]
    filterset_fields = ["customer", "role"]
    search_fields = ["name", "phone_digits", "email_normalized"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        return selectors.contacts_visible_to(self.request.user).order_by("name", "pk")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        customer = data.pop("customer")
        serializer.instance = services.create_contact(customer=customer, by=self.request.user, **data)

    def perform_update(self, serializer):
        serializer.instance = services.update_contact(
            contact=serializer.instance, by=self.request.user, **serializer.validated_data
        )

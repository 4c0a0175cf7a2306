"""``/api/visits/``: visit check-in / check-out (外勤签到), photos, the customer's location
and the team's day. Rows come from the selectors (a visit is visible when its customer
is; anything else answers 404), writes go through ``activities.visits`` (its
``PermissionDenied`` answers 403, its ``ValidationError`` 400 on the field)."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from crm.pagination import CappedCountPagination

from .. import permissions, selectors, visits
from ..visits import Fix
from .filters import VisitFilter
from .idempotency import IDEMPOTENCY_KEY_PARAMETER, client_key
from .visit_serializers import (
    CheckInSerializer,
    CheckOutSerializer,
    CoachingNoteSerializer,
    CompanionInputSerializer,
    CustomerLocationInputSerializer,
    CustomerLocationSerializer,
    TeamDayQuerySerializer,
    TeamDaySerializer,
    VisitCompanionSerializer,
    VisitPhotoSerializer,
    VisitPhotoUploadSerializer,
    VisitSerializer,
)


def _fix(data: dict) -> Fix | None:
    return Fix.parse(data.get("latitude"), data.get("longitude"), data.get("accuracy"))


@extend_schema(tags=["visits"])
class VisitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Visit check-ins at the customers the caller may see, newest first (filters: owner,
    customer, date, far from the customer, check-in location).

    ``check-in/`` and ``{id}/check-out/`` store the server's time and the browser's
    position (or why there is none: a visit is never refused for a missing location);
    ``{id}/photos/`` adds a photo (the visitor only); ``team-day/`` is the managers' view
    of who checked in where on a day (salespeople: 403, as on the page);
    ``customer-location/`` sets or corrects where a customer is (its owner or a manager).
    """

    serializer_class = VisitSerializer
    filterset_class = VisitFilter
    pagination_class = CappedCountPagination
    ordering_fields = ["checked_in_at"]
    search_fields = ["customer__name"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.visits_visible_to(self.request.user).order_by("-checked_in_at", "-pk")

    def initial(self, request, *args, **kwargs):
        # Before authentication: the session's CSRF check reads the body.
        if self.action == "photos":
            visits.refuse_oversized_request(request.META.get("CONTENT_LENGTH"))
        super().initial(request, *args, **kwargs)

    def _visit_response(self, visit, status_code: int) -> Response:
        visit = self.get_queryset().filter(pk=visit.pk).first() or visit
        return Response(
            VisitSerializer(visit, context=self.get_serializer_context()).data, status=status_code
        )

    @extend_schema(
        request=CheckInSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: VisitSerializer,
            200: OpenApiResponse(VisitSerializer, description="A resend: the visit the key first made."),
        },
    )
    @action(detail=False, methods=["post"], url_path="check-in", url_name="check-in")
    def check_in(self, request):
        key = client_key(request)
        if key is not None:
            resent = self.get_queryset().filter(owner=request.user, client_key=key).first()
            if resent is not None:
                return Response(self.get_serializer(resent).data, status=status.HTTP_200_OK)
        serializer = CheckInSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        visit, created = visits.check_in(
            by=request.user,
            customer=data["customer"],
            fix=_fix(data),
            status=data.get("location_status", ""),
            purpose=data.get("purpose", ""),
            plan_item=data.get("plan_item"),
            set_location=data["set_location"],
            client_key=key,
            recorded_at=data.get("recorded_at"),
            companions=data.get("companions", []),
        )
        return self._visit_response(visit, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=CheckOutSerializer, responses=VisitSerializer)
    @action(detail=True, methods=["post"], url_path="check-out", url_name="check-out")
    def check_out(self, request, pk=None):
        visit = self.get_object()
        serializer = CheckOutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        visit = visits.check_out(
            by=request.user,
            visit=visit,
            fix=_fix(data),
            status=data.get("location_status", ""),
            outcome=data.get("outcome", ""),
        )
        return self._visit_response(visit, status.HTTP_200_OK)

    @extend_schema(
        request={"multipart/form-data": VisitPhotoUploadSerializer}, responses={201: VisitPhotoSerializer}
    )
    @action(
        detail=True, methods=["post"], url_path="photos", url_name="photos", parser_classes=[MultiPartParser]
    )
    def photos(self, request, pk=None):
        visit = self.get_object()
        if not permissions.is_owner(request.user, visit):
            # Said before the upload is read: nobody else may add one.
            raise PermissionDenied(_("Only the salesperson who made the visit may add photos to it."))
        serializer = VisitPhotoUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        photo = visits.attach_photo(by=request.user, visit=visit, upload=serializer.validated_data["photo"])
        return Response(VisitPhotoSerializer(photo).data, status=status.HTTP_201_CREATED)

    def _companion_response(self, companion, status_code: int) -> Response:
        companion = self.get_queryset().get(pk=companion.visit_id).companions.get(pk=companion.pk)
        return Response(
            VisitCompanionSerializer(companion, context=self.get_serializer_context()).data,
            status=status_code,
        )

    @extend_schema(request=CompanionInputSerializer, responses={201: VisitCompanionSerializer})
    @action(detail=True, methods=["post"], url_path="companions", url_name="companions")
    def companions(self, request, pk=None):
        """Someone went along (陪同拜访): the visitor, their manager or an admin adds them."""
        visit = self.get_object()
        serializer = CompanionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = serializer.validated_data["user"]
            companion = visits.add_companion(by=request.user, visit=visit, user=user)
        except DjangoValidationError as error:  # the service names its list; this body has one "user"
            raise ValidationError({"user": error.messages}) from None
        return self._companion_response(companion, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"companions/(?P<user_id>\d+)",
        url_name="companion-remove",
    )
    def companion_remove(self, request, pk=None, user_id=None):
        """Take a companion off the visit: the visitor, their manager, an admin or the companion."""
        visit = self.get_object()
        companion = get_object_or_404(visit.companions.select_related("user"), user_id=user_id)
        visits.remove_companion(by=request.user, visit=visit, user=companion.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=CoachingNoteSerializer, responses=VisitCompanionSerializer)
    @action(detail=True, methods=["post"], url_path="coaching-note", url_name="coaching-note")
    def coaching_note(self, request, pk=None):
        """The caller's own coaching note on a visit they went along on (companions only: 403)."""
        visit = self.get_object()
        serializer = CoachingNoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        companion = visits.write_coaching_note(
            by=request.user, visit=visit, note=serializer.validated_data["coaching_note"]
        )
        return self._companion_response(companion, status.HTTP_200_OK)

    @extend_schema(parameters=[TeamDayQuerySerializer], responses=TeamDaySerializer)
    @action(
        detail=False,
        methods=["get"],
        url_path="team-day",
        url_name="team-day",
        filter_backends=[],
        pagination_class=None,
    )
    def team_day(self, request):
        if not request.user.is_manager_or_admin:
            raise PermissionDenied(_("The team's day is for managers and admins."))
        query = TeamDayQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data.get("date") or timezone.localdate()
        result = selectors.team_day(request.user, day, owner_id=query.validated_data.get("owner"))
        if result.unknown_owner:
            raise ValidationError({"owner": [_("Choose someone of your team.")]})
        return Response(TeamDaySerializer(result).data)

    @extend_schema(request=CustomerLocationInputSerializer, responses=CustomerLocationSerializer)
    @action(detail=False, methods=["post"], url_path="customer-location", url_name="customer-location")
    def customer_location(self, request):
        serializer = CustomerLocationInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        location = visits.set_customer_location(
            by=request.user, customer=data["customer"], fix=Fix.parse(data["latitude"], data["longitude"])
        )
        return Response(CustomerLocationSerializer(location).data)

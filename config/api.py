"""The API router every app's viewsets are registered on, token login and error shape."""
from axes.helpers import get_cool_off
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter
from rest_framework.views import exception_handler as drf_exception_handler

from crm.api.views import ContactViewSet, CustomerViewSet, TeamViewSet, UserViewSet
from funnel.api.views import ChangeGradeView, GradeChangeViewSet, GradeViewSet, OrderViewSet


class ObtainTokenView(ObtainAuthToken):
    """``POST /api/auth/token/`` username + password → token (lockout applies)."""

    @extend_schema(tags=["auth"])
    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except exceptions.ValidationError:
            # Axes flags the DRF request it was given, which AxesMiddleware (looking at
            # the Django request) never sees: answer the lockout here, as JSON.
            if getattr(request, "axes_locked_out", False):
                cool_off = get_cool_off(request)
                raise exceptions.Throttled(
                    wait=cool_off.total_seconds() if cool_off else None,
                    detail=_("Too many failed log-in attempts; this login is blocked for a while."),
                ) from None
            raise


def exception_handler(exc, context):
    """DRF's handler, plus Django's ``ValidationError`` from services as a 400."""
    from django.core.exceptions import PermissionDenied
    from django.core.exceptions import ValidationError as DjangoValidationError

    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)


router = DefaultRouter()
router.register("users", UserViewSet, basename="user")
router.register("teams", TeamViewSet, basename="team")
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
router.register("orders", OrderViewSet, basename="order")
router.register("grades", GradeViewSet, basename="grade")
router.register("grade-changes", GradeChangeViewSet, basename="gradechange")

# Actions on customers that belong to higher apps (the funnel moves grades and owners).
extra_urlpatterns = [
    path("customers/<int:pk>/change-grade/", ChangeGradeView.as_view(), name="customer-change-grade"),
]

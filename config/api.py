"""The API router every app's viewsets are registered on, token login and error shape."""
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter
from rest_framework.views import exception_handler as drf_exception_handler

from crm.api.views import TeamViewSet, UserViewSet


class ObtainTokenView(ObtainAuthToken):
    """``POST /api/auth/token/`` username + password → token (lockout applies)."""

    @extend_schema(tags=["auth"])
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


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

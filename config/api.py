"""The API router every app's viewsets are registered on, token login and error shape."""
from axes.helpers import get_cool_off
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import exception_handler as drf_exception_handler

from activities.api.views import (
    ActivityViewSet,
    DailyPlanViewSet,
    DailyReportViewSet,
    MarketReportViewSet,
    MyDayView,
    NotificationViewSet,
    ObjectionViewSet,
)
from crm.api.views import ContactViewSet, CustomerViewSet, TeamViewSet, UserViewSet
from crm.audit import Action, Outcome, audit
from crm.importing.api import ImportBatchViewSet
from funnel.api import views as funnel_api
from funnel.api.views import ChangeGradeView, GradeChangeViewSet, GradeViewSet, OrderViewSet
from reports.api import views as report_api

from .mfa import user_requires_second_factor
from .middleware import record_access_denied


class ObtainTokenView(ObtainAuthToken):
    """``POST /api/auth/token/`` username + password → token (lockout applies).

    Password only: refused (403) to anyone who needs a second factor; they issue a
    token from their security page after signing in with it.
    """

    @extend_schema(tags=["auth"])
    def post(self, request, *args, **kwargs):
        try:
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
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
        user = serializer.validated_data["user"]
        if user_requires_second_factor(user):
            audit(actor=user, action=Action.TOKEN_ISSUED, outcome=Outcome.DENIED,
                  detail={"via": "api password"})
            raise exceptions.PermissionDenied(_(
                "This account uses two-factor authentication, so the API does not issue tokens for a "
                "password alone. Sign in to the web app and issue a token on your security page "
                "(/accounts/security/)."
            ))
        token, _created = Token.objects.get_or_create(user=user)
        audit(actor=user, action=Action.TOKEN_ISSUED, detail={"via": "api password"})
        return Response({"token": token.key})


def exception_handler(exc, context):
    """DRF's handler, plus Django's ``ValidationError`` from services as a 400; every 400
    is a field → messages object; refused object routes go to the security audit log."""
    from django.core.exceptions import PermissionDenied
    from django.core.exceptions import ValidationError as DjangoValidationError

    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, list):
        # A bare message (DRF's search filter refusing a NUL, say) gets the one 400 shape.
        exc = exceptions.ValidationError({"non_field_errors": exc.detail})
    if isinstance(exc, exceptions.NotFound | exceptions.PermissionDenied) and "request" in context:
        request = context["request"]
        record_access_denied(request, status=exc.status_code, kwargs=context.get("kwargs") or {},
                             view_name=request.resolver_match.view_name if request.resolver_match else "")
    return drf_exception_handler(exc, context)


router = DefaultRouter()
router.register("users", UserViewSet, basename="user")
router.register("teams", TeamViewSet, basename="team")
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
router.register("imports", ImportBatchViewSet, basename="import")
router.register("orders", OrderViewSet, basename="order")
router.register("grades", GradeViewSet, basename="grade")
router.register("grade-changes", GradeChangeViewSet, basename="gradechange")
router.register("alerts", funnel_api.StagnationAlertViewSet, basename="alert")
router.register("handover-tasks", funnel_api.HandoverTaskViewSet, basename="handovertask")
router.register("pool", funnel_api.PoolViewSet, basename="pool")
router.register("conflicts", funnel_api.ConflictViewSet, basename="conflict")
router.register("activities", ActivityViewSet, basename="activity")
router.register("objections", ObjectionViewSet, basename="objection")
router.register("daily-plans", DailyPlanViewSet, basename="dailyplan")
router.register("daily-reports", DailyReportViewSet, basename="dailyreport")
router.register("market-reports", MarketReportViewSet, basename="marketreport")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("targets", report_api.TargetViewSet, basename="target")
router.register("activity-targets", report_api.ActivityTargetViewSet, basename="activitytarget")
router.register("rollups/weekly", report_api.WeeklyRollupViewSet, basename="weeklyrollup")

# Actions on customers that belong to higher apps (the funnel moves grades and owners).
extra_urlpatterns = [
    path("customers/<int:pk>/change-grade/", ChangeGradeView.as_view(), name="customer-change-grade"),
    path("customers/<int:pk>/reassign/", funnel_api.ReassignCustomerView.as_view(), name="customer-reassign"),
    path("customers/bulk-reassign/", funnel_api.BulkReassignView.as_view(), name="customer-bulk-reassign"),
    path("customers/<int:pk>/claim/", funnel_api.ClaimCustomerView.as_view(), name="customer-claim"),
    path("customers/<int:pk>/release/", funnel_api.ReleaseCustomerView.as_view(), name="customer-release"),
    path("reports/balance/", funnel_api.BalanceReportView.as_view(), name="report-balance"),
    path("my-day/", MyDayView.as_view(), name="my-day"),
    path("reports/funnel/", report_api.FunnelReportView.as_view(), name="report-funnel"),
    path("reports/diagnosis/", report_api.DiagnosisReportView.as_view(), name="report-diagnosis"),
    path("reports/backward-plan/", report_api.BackwardPlanReportView.as_view(), name="report-backward-plan"),
    path("reports/conversion/", report_api.ConversionReportView.as_view(), name="report-conversion"),
    path("reports/quota/", report_api.QuotaReportView.as_view(), name="report-quota"),
    path("reports/activity-funnel/", report_api.ActivityFunnelReportView.as_view(),
         name="report-activity-funnel"),
    path("reports/weekly/", report_api.WeeklyReportAPIView.as_view(), name="report-weekly"),
]

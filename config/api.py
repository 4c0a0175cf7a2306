"""The API router every app's viewsets are registered on, token login and error shape."""

from axes.handlers.proxy import AxesProxyHandler
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from activities.api import calendar as calendar_api
from activities.api.views import (
    ActivityViewSet,
    DailyPlanViewSet,
    DailyReportViewSet,
    MarketReportViewSet,
    MyDayView,
    NotificationViewSet,
    ObjectionViewSet,
)
from activities.api.visit_views import VisitViewSet
from core.audit import Action, Outcome, audit
from crm.api.search import QuickSearchView
from crm.api.views import ContactViewSet, CustomerViewSet, LifecycleChangeViewSet, TeamViewSet, UserViewSet
from crm.importing.api import ImportBatchViewSet
from funnel.api import views as funnel_api
from funnel.api.views import ChangeGradeView, GradeChangeViewSet, GradeViewSet, OrderViewSet
from funnel.services import StaleWrite
from reports.api import views as report_api

from .mfa import user_requires_second_factor
from .middleware import record_access_denied
from .throttling import locked_until, retry_after_seconds
from .tokens import DEVICE_NAME_MAX, issue_token
from .tokens_api import ApiTokenViewSet, LogoutView


class TokenRequestSerializer(AuthTokenSerializer):
    name = serializers.CharField(
        max_length=DEVICE_NAME_MAX,
        required=False,
        allow_blank=True,
        help_text="The device or script the token is for (listed on the security page); "
        "default: the User-Agent.",
    )


class IssuedTokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    token = serializers.CharField(help_text="The key, shown only in this answer.")
    expiry = serializers.DateTimeField(help_text="Moves on with each use (sliding expiry).")


class ObtainTokenView(APIView):
    """``POST /api/auth/token/`` username + password → a new token for this device, with
    its expiry (every call issues another; lockout and throttling apply).

    Password only: refused (403) to anyone who needs a second factor; they issue a
    token from their security page after signing in with it.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)
    serializer_class = TokenRequestSerializer

    @extend_schema(
        tags=["auth"],
        request=TokenRequestSerializer,
        responses={
            200: IssuedTokenSerializer,
            429: OpenApiResponse(
                description="Too many failed log-ins: this username is locked for a while, or "
                "this address or the whole site is over its limit (Retry-After)."
            ),
        },
    )
    def post(self, request, *args, **kwargs):
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        try:
            serializer.is_valid(raise_exception=True)
        except exceptions.ValidationError:
            # Axes flags the DRF request it was given, which AxesMiddleware (looking at
            # the Django request) never sees: answer the lockout here, as JSON.
            if getattr(request, "axes_locked_out", False):
                until = locked_until(request, getattr(request, "axes_credentials", None))
                raise exceptions.Throttled(
                    wait=retry_after_seconds(until),
                    detail=_("Too many failed log-in attempts; this login is blocked for a while."),
                ) from None
            raise
        user = serializer.validated_data["user"]
        if user_requires_second_factor(user):
            audit(
                actor=user, action=Action.TOKEN_ISSUED, outcome=Outcome.DENIED, detail={"via": "api password"}
            )
            raise exceptions.PermissionDenied(
                _(
                    "This account uses two-factor authentication, so the API does not issue tokens for a "
                    "password alone. Sign in to the web app and issue a token on your security page "
                    "(/accounts/security/)."
                )
            )
        # The right password: earlier failures of this username are forgotten, as at the page.
        AxesProxyHandler.reset_attempts(username=user.get_username())
        name = serializer.validated_data.get("name") or request.META.get("HTTP_USER_AGENT", "")
        token, key = issue_token(user=user, name=name, via="api password")
        return Response(IssuedTokenSerializer({"id": token.pk, "token": key, "expiry": token.expiry}).data)


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = gettext_lazy("Someone else changed this meanwhile; reload and try again.")
    default_code = "conflict"


def exception_handler(exc, context):
    """DRF's handler, plus Django's ``ValidationError`` from services as a 400 and a lost
    race (``StaleWrite``: nothing was written) as a 409; every 400 is a field → messages
    object; refused object routes go to the security audit log."""
    from django.core.exceptions import PermissionDenied
    from django.core.exceptions import ValidationError as DjangoValidationError

    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, StaleWrite):
        exc = Conflict(exc.message)
    elif isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, list):
        # A bare message (DRF's search filter refusing a NUL, say) gets the one 400 shape.
        exc = exceptions.ValidationError({"non_field_errors": exc.detail})
    if isinstance(exc, exceptions.NotFound | exceptions.PermissionDenied) and "request" in context:
        request = context["request"]
        record_access_denied(
            request,
            status=exc.status_code,
            kwargs=context.get("kwargs") or {},
            view_name=request.resolver_match.view_name if request.resolver_match else "",
        )
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
router.register("lifecycle-changes", LifecycleChangeViewSet, basename="lifecyclechange")
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
router.register("visits", VisitViewSet, basename="visit")
router.register("targets", report_api.TargetViewSet, basename="target")
router.register("activity-targets", report_api.ActivityTargetViewSet, basename="activitytarget")
router.register("rollups/weekly", report_api.WeeklyRollupViewSet, basename="weeklyrollup")
router.register("meetings", report_api.MeetingViewSet, basename="meeting")
router.register("action-items", report_api.ActionItemViewSet, basename="actionitem")
router.register("auth/tokens", ApiTokenViewSet, basename="apitoken")

# Actions on customers that belong to higher apps (the funnel moves grades and owners).
extra_urlpatterns = [
    path("auth/logout/", LogoutView.as_view(), name="api-logout"),
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
    path("reports/forecast/", report_api.ForecastReportView.as_view(), name="report-forecast"),
    path(
        "reports/forecast-accuracy/",
        report_api.ForecastAccuracyView.as_view(),
        name="report-forecast-accuracy",
    ),
    path(
        "reports/activity-funnel/",
        report_api.ActivityFunnelReportView.as_view(),
        name="report-activity-funnel",
    ),
    path("reports/weekly/", report_api.WeeklyReportAPIView.as_view(), name="report-weekly"),
    path("search/", QuickSearchView.as_view(), name="quick-search"),
    path("calendar-feed/", calendar_api.CalendarFeedView.as_view(), name="calendar-feed"),
    path(
        "calendar-feed/regenerate/",
        calendar_api.RegenerateCalendarFeedView.as_view(),
        name="calendar-feed-regenerate",
    ),
]

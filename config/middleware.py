"""Cross-cutting HTTP behaviour that is not any one app's business."""

import time

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware as _DjangoLoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework.views import APIView

from core import replicas
from core.audit import Action, Outcome, audit, current_ip, forget_held_events, write_held_events

from .mfa import SESSION_STARTED_KEY, session_requires_second_factor

# When the session was last renewed (epoch seconds); see SessionLifetimeMiddleware.
SESSION_RENEWED_KEY = "renewed_at"


class NoStoreForUsersMiddleware:
    """Pages for a signed-in user carry customer data: never let a cache keep them. A view
    may allow the user's own browser to keep what it sends (``Cache-Control: private``,
    e.g. a visit photo, shown again on every visit page): shared caches still may not."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            getattr(request, "user", None) is not None
            and request.user.is_authenticated
            and not response.get("Cache-Control", "").startswith("private")
        ):
            response["Cache-Control"] = "no-store"
        return response


class LoginRequiredMiddleware(_DjangoLoginRequiredMiddleware):
    """Every page needs a signed-in user; API views are left to DRF, which also accepts
    tokens and answers 401/403 instead of redirecting to the login page."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if _is_api_view(view_func):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


def _is_api_view(view_func) -> bool:
    view_class = getattr(view_func, "cls", None)
    return view_class is not None and issubclass(view_class, APIView)


class SessionLifetimeMiddleware:
    """A session ends ``SESSION_ABSOLUTE_SECONDS`` (7 days) after its log-in, however
    active it stays, and ``SESSION_COOKIE_AGE`` (12 h) after its last renewal.

    Renewing (saving the session row and re-sending its cookie) happens when the last
    renewal is at least ``SESSION_RENEW_SECONDS`` old, instead of on every request
    (``SESSION_SAVE_EVERY_REQUEST``): pages read the session without writing it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            session = request.session
            started = session.get(SESSION_STARTED_KEY)
            now = int(time.time())
            if started is None:
                # A session from before this rule: its lifetime starts now.
                session[SESSION_STARTED_KEY] = now
            elif now - started > settings.SESSION_ABSOLUTE_SECONDS:
                request.logout_reason = "absolute_lifetime"
                logout(request)
                return self.get_response(request)
            if now - session.get(SESSION_RENEWED_KEY, 0) >= settings.SESSION_RENEW_SECONDS:
                session[SESSION_RENEWED_KEY] = now  # modified: saved with a fresh expiry
        return self.get_response(request)


def record_access_denied(request, *, status: int, view_name: str, kwargs: dict) -> None:
    """Audit a refused object route (403, or 404 for an object the user may not see or
    that does not exist): one INSERT, only for signed-in users on routes with ids."""
    if not kwargs or not request.user.is_authenticated:
        return
    object_id = kwargs.get("pk", next(iter(kwargs.values())))
    audit(
        actor=request.user,
        action=Action.ACCESS_DENIED,
        outcome=Outcome.DENIED,
        object_type=view_name,
        object_id=str(object_id),
        detail={"status": status, "method": request.method, "path": request.path[:300]},
    )


class AuditContextMiddleware:
    """Gives the audit log the client's address (as the lockout sees it, proxies
    included), writes what a refused write held for it (``audit_despite_rollback``) once
    the view is done, and records object routes that answered 403/404 by an exception."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip.set(get_client_ip_address(request))
        forget_held_events()
        try:
            return self.get_response(request)
        finally:
            write_held_events()
            current_ip.reset(token)

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied | Http404) and request.resolver_match is not None:
            match = request.resolver_match
            record_access_denied(
                request,
                status=403 if isinstance(exception, PermissionDenied) else 404,
                view_name=match.view_name,
                kwargs=match.kwargs,
            )


class SecondFactorRequiredMiddleware:
    """Signed in with a password but not yet with the second factor, where one is
    required: pages redirect to the verification step, API calls answer 403."""

    EXEMPT_URL_NAMES = {
        "mfa-verify",
        "mfa-setup",
        "logout",
        "login",
        "set_language",
        "healthz",
        "admin:logout",
        "pwa-service-worker",
        "pwa-manifest",
        "pwa-offline",
        "favicon",
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified() or not session_requires_second_factor(request):
            return None
        if request.resolver_match.view_name in self.EXEMPT_URL_NAMES:
            return None
        if _is_api_view(view_func):
            return JsonResponse(
                {
                    "detail": _(
                        "Two-factor authentication is required: finish signing in with your code first."
                    )
                },
                status=403,
            )
        return redirect_to_login(request.get_full_path(), reverse("mfa-verify"))


class PinAfterWriteMiddleware:
    """Read your writes: after a user's write (any unsafe request, answered), their reads
    stay on the primary database for ``REPLICA_PIN_SECONDS`` (``core.replicas``). An API
    client's token user is known once DRF has authenticated it, after the view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
            replicas.pin_to_primary(request.user)
        return response

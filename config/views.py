"""Project-level pages: login/password wrappers and the health check (home is "my day": activities)."""

import sys

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import InterfaceError, OperationalError, connection
from django.http import JsonResponse
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from rest_framework.exceptions import APIException, NotFound, ParseError

from core import replicas
from core.audit import Action, audit
from core.models import WorkerHeartbeat

from .celery import app as celery_app


class FunnelLoginView(auth_views.LoginView):
    redirect_authenticated_user = True


class FunnelPasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        # Django keeps this session (update_session_auth_hash); every other session of
        # the user ends, because its stored password hash no longer matches.
        response = super().form_valid(form)
        audit(actor=self.request.user, action=Action.PASSWORD_CHANGED)
        messages.success(self.request, _("Your password was changed."))
        return response


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any driver error means "down" here
        return f"down: {exc.__class__.__name__}"
    return "ok"


def _broker_state() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=1)
    except Exception as exc:  # noqa: BLE001 - any transport error means "down" here
        return f"down: {exc.__class__.__name__}"
    return "ok"


def _worker_heartbeat_age() -> int | None:
    heartbeat = WorkerHeartbeat.objects.filter(name="worker").values_list("beat_at", flat=True).first()
    return None if heartbeat is None else int((timezone.now() - heartbeat).total_seconds())


@login_not_required
@never_cache
def healthz(request):
    """200 while the database answers (a broker outage only degrades background work, a
    replica down or lagging only sends reports back to the primary)."""
    database = _database_state()
    replica = replicas.measure()
    body = {
        "database": database,
        "broker": _broker_state(),
        "replica": {"state": replica.state, "lag_seconds": replica.lag_seconds},
    }
    if database == "ok":
        body["worker_heartbeat_age_seconds"] = _worker_heartbeat_age()
    healthy = database == "ok" and body["broker"] == "ok" and replica.state in ("ok", "off")
    body["status"] = "ok" if healthy else "degraded"
    return JsonResponse(body, status=200 if database == "ok" else 503)


def _json_under_api(page_view, api_error):
    """Django's error page, except under /api/, where clients get the API's JSON error:
    a URL no route matches (``/api/customers/abc/``) is a 404, a request Django refuses
    before DRF sees it (more than 1,000 form fields) a 400."""

    def view(request, exception):
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": str(api_error.default_detail)}, status=api_error.status_code)
        return page_view(request, exception)

    return view


bad_request = _json_under_api(defaults.bad_request, ParseError)
page_not_found = _json_under_api(defaults.page_not_found, NotFound)

# How long an API client waits before trying again while the database is unreachable.
DATABASE_RETRY_AFTER_SECONDS = 30


def server_error(request):
    """Django's 500 page; under /api/ the API's JSON error, and while the database is
    unreachable (``OperationalError``/``InterfaceError`` from the driver, raised by a view
    or by a middleware reading the session or the token) a 503 with ``Retry-After``.

    Django calls this handler inside its ``except`` block, so the error is
    ``sys.exc_info()``; nothing here touches the database.
    """
    error = sys.exc_info()[1]
    if not request.path.startswith("/api/"):
        return defaults.server_error(request)
    if isinstance(error, OperationalError | InterfaceError):
        response = JsonResponse(
            {"detail": _("The database is unavailable; try again in a minute.")}, status=503
        )
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    return JsonResponse({"detail": str(APIException.default_detail)}, status=500)

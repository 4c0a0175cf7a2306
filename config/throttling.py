"""Log-in throttling: per address, in all, and per username (with django-axes).

Three layers, each for an attack the others miss:

1. **Per address** (``LOGIN_FAILURES_PER_IP`` failures in ``LOGIN_FAILURES_PER_IP_WINDOW``
   seconds, default 30 in 5 minutes): one machine guessing many usernames is refused
   with 429 and ``Retry-After``. Only failures count, so an office behind one address
   signing in at nine o'clock is never refused.
2. **In all** (``LOGIN_FAILURES_GLOBAL`` per ``LOGIN_FAILURES_GLOBAL_WINDOW``, default 300
   a minute): a botnet spreading guesses over many addresses and usernames.
3. **Per username** (``AXES_FAILURE_LIMIT``, default 10, from any address): locked for
   ``LOGIN_LOCKOUT_BASE`` (15 minutes) after the last failure, doubling with every
   further 10 failures up to ``LOGIN_LOCKOUT_MAX`` (24 hours, also how long failures are
   remembered); a failure during the lock starts it again. The user is told (in the app
   and by e-mail). So that the lock is no tool to shut someone out: a user with a second
   factor gets past it with the right password and then the code (which unlocks), and
   an admin unlocks in the admin (Axes › Access attempts: delete the username's rows).

Counters 1–2 live in the cache (``crm.ratelimit``); the per-username lock in Axes'
``AccessAttempt`` rows. All three apply to the log-in page, the admin's log-in and the
token endpoint.
"""

from datetime import datetime, timedelta

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_credentials
from django.conf import settings
from django.db.models import Max, Sum
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.audit import Action, Outcome, audit, current_ip
from crm import ratelimit
from crm.models import User
from crm.services import notify

from .mfa import user_requires_second_factor

# The views that take a password: their POSTs are throttled.
LOGIN_VIEW_NAMES = frozenset({"login", "admin:login", "api-token"})


# --- 1 and 2: per address and in all ----------------------------------------------------


def _limits(ip: str) -> list[tuple[str, str, int, int]]:
    """(scope, counter key, limit, window seconds) of the failure counters."""
    return [
        (
            "address",
            f"login-failures:ip:{ip}",
            settings.LOGIN_FAILURES_PER_IP,
            settings.LOGIN_FAILURES_PER_IP_WINDOW,
        ),
        ("all", "login-failures:all", settings.LOGIN_FAILURES_GLOBAL, settings.LOGIN_FAILURES_GLOBAL_WINDOW),
    ]


def _client_ip() -> str:
    return current_ip.get() or "unknown"


def count_login_failure(sender, credentials, request=None, **kwargs) -> None:
    """``user_login_failed`` receiver (connected in ``ConfigAppConfig.ready``): one
    failure more for this address and in all."""
    for _scope, key, _limit, window in _limits(_client_ip()):
        ratelimit.hit(key, window=window)


def login_refusal() -> tuple[str, int, int] | None:
    """(scope, seconds to wait, the limit's window) when this address, or everyone, is
    over a failure limit; ``None`` when a log-in may be tried."""
    for scope, key, limit, window in _limits(_client_ip()):
        state = ratelimit.peek(key, window=window)
        if state.count >= limit:
            return scope, state.retry_after, window
    return None


class LoginRateLimitMiddleware:
    """Refuses password POSTs (log-in page, admin log-in, token endpoint) with 429 and
    ``Retry-After`` while the address or the whole site is over its failure limit;
    the password is not even checked, so refused guesses teach nothing. The first
    refusal of each window goes to the security audit log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or request.resolver_match.view_name not in LOGIN_VIEW_NAMES:
            return None
        refusal = login_refusal()
        if refusal is None:
            return None
        scope, retry_after, window = refusal
        if ratelimit.hit(f"login-throttled:{scope}:{_client_ip()}", window=window).count == 1:
            audit(
                actor=None,
                action=Action.LOGIN_THROTTLED,
                outcome=Outcome.DENIED,
                detail={"scope": scope, "retry_after": retry_after, "path": request.path[:300]},
            )
        minutes = max(1, round(retry_after / 60))
        if scope == "address":
            message = ngettext(
                "Too many failed sign-in attempts from your network. Try again in %(minutes)d minute.",
                "Too many failed sign-in attempts from your network. Try again in %(minutes)d minutes.",
                minutes,
            )
        else:
            message = ngettext(
                "Too many failed sign-in attempts on this site right now. Try again in %(minutes)d minute.",
                "Too many failed sign-in attempts on this site right now. Try again in %(minutes)d minutes.",
                minutes,
            )
        message %= {"minutes": minutes}
        if request.resolver_match.view_name == "api-token":
            response = JsonResponse({"detail": message}, status=429)
        else:
            response = render(request, "registration/login_throttled.html", {"message": message}, status=429)
        response["Retry-After"] = str(retry_after)
        return response


# --- 3: per username (django-axes) --------------------------------------------------------


def lock_duration(failures: int) -> timedelta:
    """15 minutes at the limit, doubled for each further ``limit`` failures, capped."""
    limit = settings.AXES_FAILURE_LIMIT
    doublings = max(0, failures - limit) // limit
    return min(settings.LOGIN_LOCKOUT_BASE * 2 ** min(doublings, 16), settings.LOGIN_LOCKOUT_MAX)


class UsernameLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler (``AXES_HANDLER``), locking a username for a time that
    grows with its failures instead of Axes' fixed cool-off (``AXES_COOLOFF_TIME`` is
    how long failures are remembered), telling the user, and resetting the failures
    after a successful log-in only once any second factor is also given."""

    def _failures_and_last(self, request, credentials) -> tuple[int, datetime | None]:
        best = (0, None)
        for attempts in self.get_user_attempts(request, credentials):
            row = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            if (row["failures"] or 0) > best[0]:
                best = (row["failures"], row["last"])
        return best

    def locked_until(self, request, credentials=None) -> datetime | None:
        failures, last = self._failures_and_last(request, credentials)
        if last is None or failures < settings.AXES_FAILURE_LIMIT:
            return None
        return last + lock_duration(failures)

    def is_locked(self, request, credentials=None) -> bool:
        if not settings.AXES_LOCK_OUT_AT_FAILURE:
            return False
        until = self.locked_until(request, credentials)
        return until is not None and until > timezone.now()

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        failures = getattr(request, "axes_failures_since_start", 0) if request is not None else 0
        limit = settings.AXES_FAILURE_LIMIT
        if failures >= limit and failures % limit == 0:
            _tell_locked_user(get_client_username(request, credentials), failures)

    def user_logged_in(self, sender, request, user, **kwargs):
        super().user_logged_in(sender, request, user, **kwargs)
        if not user_requires_second_factor(user):
            self.reset_user_attempts(request, get_credentials(user.get_username()))


def _tell_locked_user(username: str | None, failures: int) -> None:
    user = User.objects.filter(username=username, is_active=True).first() if username else None
    if user is None:
        return
    until = timezone.localtime(timezone.now() + lock_duration(failures))
    notify(
        recipients=[user],
        kind="login_locked",
        email=True,
        url=reverse("account-security"),
        title=_("Someone failed to sign in as you %(count)d times; your account is locked until %(until)s.")
        % {"count": failures, "until": date_format(until, "DATETIME_FORMAT")},
        body=_(
            "If this was not you, nothing is lost: your password was not accepted. With two-factor "
            "authentication you can still sign in (your password, then your code); otherwise ask an "
            "admin to unlock your account, and consider changing your password."
        ),
    )


def locked_until(request, credentials=None) -> datetime | None:
    """When the username in ``credentials`` (or the request) may try again, if locked."""
    handler = AxesProxyHandler.get_implementation()
    if not isinstance(handler, UsernameLockoutHandler):
        return None
    until = handler.locked_until(request, credentials)
    return until if until is not None and until > timezone.now() else None


def retry_after_seconds(until: datetime | None) -> int | None:
    return None if until is None else max(1, int((until - timezone.now()).total_seconds() + 0.999))


def lockout_response(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: the lockout page, 429, with ``Retry-After`` and the time
    the lock ends."""
    until = locked_until(request, credentials)
    response = render(
        request,
        settings.AXES_LOCKOUT_TEMPLATE,
        {
            "locked_until": timezone.localtime(until) if until else None,
        },
        status=429,
    )
    seconds = retry_after_seconds(until)
    if seconds is not None:
        response["Retry-After"] = str(seconds)
    return response


class LockoutBackend(AxesStandaloneBackend):
    """Axes' backend (first in ``AUTHENTICATION_BACKENDS``) that lets a locked user
    with a second factor through on the right password: the session still needs the
    code (``SecondFactorRequiredMiddleware``), and the code lifts the lock
    (``config.mfa``). Everyone else stays locked; the attempt counts as a failure."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        try:
            return super().authenticate(request, username=username, password=password, **kwargs)
        except AxesBackendPermissionDenied:
            if _second_factor_will_follow(username, password):
                return None  # on to ModelBackend, which signs the password step in
            raise


def _second_factor_will_follow(username: str | None, password: str | None) -> bool:
    if not username or not password:
        return False
    user = User.objects.filter(username=username, is_active=True).first()
    return user is not None and user_requires_second_factor(user) and user.check_password(password)

"""The security audit log: one service every app calls, ``audit(...)``.

Rows are append-only (``SecurityEvent`` refuses updates and deletes). Write them inside
the transaction of the change they describe, so a rolled-back change leaves no row and
a committed one always has its row. The client's address comes from the request being
served (``config.middleware.AuditContextMiddleware`` sets it), so services need no
request argument; outside a request (Celery, commands) it is empty.
"""
from contextvars import ContextVar

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import models

from .models import SecurityAction, SecurityEvent, SecurityOutcome, User

current_ip: ContextVar[str | None] = ContextVar("audit_current_ip", default=None)

Action = SecurityAction
Outcome = SecurityOutcome


def audit(*, actor: User | None, action: str, obj: models.Model | None = None,
          outcome: str = SecurityOutcome.SUCCESS, ip: str | None = None, detail: dict | None = None,
          username: str = "", object_type: str = "", object_id: str = "") -> SecurityEvent:
    """Append one security event. Any caller, any app; joins the caller's transaction.

    ``obj`` names the object acted on (its type, id and text are copied, so the row
    survives the object's purge), or ``object_type``/``object_id`` name one without
    loading it (a refused route, a purged row); ``detail`` is a small JSON dict (no customer data
    beyond what identifies the object); ``ip`` defaults to the current request's.
    """
    actor = actor if actor is not None and actor.is_authenticated else None
    return SecurityEvent.objects.create(
        actor=actor,
        username=(username or (actor.get_username() if actor else ""))[:150],
        ip=ip if ip is not None else current_ip.get(),
        action=action,
        outcome=outcome,
        object_type=obj._meta.label_lower if obj is not None else object_type,
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else str(object_id),
        object_repr=str(obj)[:200] if obj is not None else "",
        detail=detail or {},
    )


# --- Authentication events (Django's and django-axes' signals) -----------------------
# Signals are the only hook these libraries offer for log-ins; domain changes call
# ``audit`` from their services instead.


def _on_login(sender, request, user, **kwargs):
    audit(actor=user, action=SecurityAction.LOGIN)


def _on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit(actor=user, action=SecurityAction.LOGOUT,
              detail={"reason": getattr(request, "logout_reason", "user")})


def _on_login_failed(sender, credentials, request=None, **kwargs):
    # Django cleanses the password out of ``credentials``; only the username is kept.
    username = str(credentials.get("username", ""))
    user = User.objects.filter(username=username).first() if username else None
    audit(actor=user, username=username, action=SecurityAction.LOGIN_FAILED, outcome=SecurityOutcome.FAILURE,
          detail={"path": request.path} if request is not None else {})


def _on_locked_out(sender, request, username, ip_address, **kwargs):
    user = User.objects.filter(username=username).first() if username else None
    audit(actor=user, username=username or "", action=SecurityAction.LOCKOUT, outcome=SecurityOutcome.DENIED,
          ip=ip_address)


def connect_signals() -> None:
    """Called once from ``CrmConfig.ready``."""
    from axes.signals import user_locked_out

    user_logged_in.connect(_on_login, dispatch_uid="crm.audit.login")
    user_logged_out.connect(_on_logout, dispatch_uid="crm.audit.logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="crm.audit.login_failed")
    user_locked_out.connect(_on_locked_out, dispatch_uid="crm.audit.locked_out")

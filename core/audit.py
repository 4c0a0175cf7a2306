"""The security audit log: one service every app calls, ``audit(...)``.

Rows are append-only (``SecurityEvent`` refuses updates and deletes; on PostgreSQL a
trigger refuses them too) and hash-chained (``core.audit_chain``; ``manage.py
verify_audit`` checks the chain). Write them inside the transaction of the change they
describe, so a rolled-back change leaves no row and a committed one always has its row.
The client's address comes from the request being served
(``config.middleware.AuditContextMiddleware`` sets it), so services need no request
argument; outside a request (Celery, commands) it is empty.

The grade and owner history (``funnel`` ``GradeChange``, ``Reassignment``) is
append-only in PostgreSQL too; ``history_purge`` is the one documented way through.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import connection, models, transaction

from . import audit_chain
from .models import AuditChainHead, SecurityAction, SecurityEvent, SecurityOutcome

current_ip: ContextVar[str | None] = ContextVar("audit_current_ip", default=None)

Action = SecurityAction
Outcome = SecurityOutcome


def audit(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    obj: models.Model | None = None,
    outcome: str = SecurityOutcome.SUCCESS,
    ip: str | None = None,
    detail: dict | None = None,
    username: str = "",
    object_type: str = "",
    object_id: str = "",
) -> SecurityEvent:
    """Append one security event. Any caller, any app; joins the caller's transaction.

    ``obj`` names the object acted on (its type, id and text are copied, so the row
    survives the object's purge), or ``object_type``/``object_id`` name one without
    loading it (a refused route, a purged row); ``detail`` is a small JSON dict (no customer data
    beyond what identifies the object); ``ip`` defaults to the current request's.

    The row is hash-chained to the one before: the chain head stays locked until the
    caller's transaction ends, and other audit writers wait for it meanwhile, so call it
    last in a transaction, after the change it records (as every caller does).
    """
    actor = actor if actor is not None and actor.is_authenticated else None
    event = SecurityEvent(
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
    # The chain head stays locked until the caller's transaction ends: the next writer
    # links to this row only once it is committed (or to the one before, if it rolls back).
    with transaction.atomic(savepoint=False):
        head = _lock_chain_head()
        event.prev_hash = head.last_hash
        event.row_hash = audit_chain.row_hash(
            {name: getattr(event, name) for name in audit_chain.HASHED_FIELDS}, head.last_hash
        )
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=head.pk).update(last_event_id=event.pk, last_hash=event.row_hash)
    return event


def _lock_chain_head() -> AuditChainHead:
    """The chain head, locked; created on the first event (or after a flush of the tables),
    linking to the newest event there is."""
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        newest = SecurityEvent.objects.order_by("-pk").values_list("pk", "row_hash").first()
        last_event_id, last_hash = newest or (None, audit_chain.GENESIS)
        # Two first writers at once: one inserts, the other waits for it and inserts nothing.
        AuditChainHead.objects.bulk_create(
            [AuditChainHead(pk=1, last_event_id=last_event_id, last_hash=last_hash)], ignore_conflicts=True
        )
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


@contextmanager
def history_purge() -> Iterator[None]:
    """The documented retention path through the append-only history (PostgreSQL
    triggers of ``crm`` migration 0014 and ``funnel`` migration 0010): inside the block,
    the transaction may DELETE grade-change and reassignment rows — never UPDATE them,
    never touch the security audit log.

    Only ``crm.services.purge_customer`` (an admin's purge after the retention period,
    itself audited) uses it. It runs in a savepoint and sets the transaction-local
    ``funnel.allow_history_purge`` for the block only: on an error the savepoint's
    rollback takes the setting back with it.
    """
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if postgresql:
            cursor.execute("SELECT set_config('funnel.allow_history_purge', 'on', true)")
        yield
        if postgresql:
            cursor.execute("SELECT set_config('funnel.allow_history_purge', 'off', true)")


# --- Events about a refusal ---------------------------------------------------------
# A refused write raises, and its transaction rolls back with any audit row written in
# it; yet what the refusal told the caller (the duplicate check naming another team's
# owner) must stay on record. Such events are held and written after the transaction.

_held_events: ContextVar[list[dict] | None] = ContextVar("audit_held_events", default=None)


def audit_despite_rollback(**fields) -> None:
    """``audit(**fields)`` for what a refusal answers: written at once outside a
    transaction; inside one, held and written when it commits or, when it rolls back,
    at the end of the request (``write_held_events``, called by
    ``config.middleware.AuditContextMiddleware``). Outside a request, an event held in a
    transaction that rolls back is lost."""
    if not transaction.get_connection().in_atomic_block:
        audit(**fields)
        return
    held = _held_events.get()
    if held is None:
        held = []
        _held_events.set(held)
    held.append({"ip": current_ip.get(), **fields})
    transaction.on_commit(write_held_events)


def write_held_events() -> None:
    """Write the events ``audit_despite_rollback`` held, once each."""
    held = _held_events.get()
    _held_events.set(None)
    for fields in held or ():
        audit(**fields)


def forget_held_events() -> None:
    """At the start of a request: nothing held by earlier work outside a request leaks into it."""
    _held_events.set(None)


# --- Authentication events (Django's and django-axes' signals) -----------------------
# Signals are the only hook these libraries offer for log-ins; domain changes call
# ``audit`` from their services instead.


def _on_login(sender, request, user, **kwargs):
    audit(actor=user, action=SecurityAction.LOGIN)


def _on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit(
            actor=user,
            action=SecurityAction.LOGOUT,
            detail={"reason": getattr(request, "logout_reason", "user")},
        )


def _user_named(username: str):
    """The user of that name, if any (a failed log-in may name no one)."""
    return get_user_model().objects.filter(username=username).first() if username else None


def _on_login_failed(sender, credentials, request=None, **kwargs):
    # Django cleanses the password out of ``credentials``; only the username is kept.
    username = str(credentials.get("username", ""))
    user = _user_named(username)
    audit(
        actor=user,
        username=username,
        action=SecurityAction.LOGIN_FAILED,
        outcome=SecurityOutcome.FAILURE,
        detail={"path": request.path} if request is not None else {},
    )


def _on_locked_out(sender, request, username, ip_address, **kwargs):
    user = _user_named(username)
    audit(
        actor=user,
        username=username or "",
        action=SecurityAction.LOCKOUT,
        outcome=SecurityOutcome.DENIED,
        ip=ip_address,
    )


def connect_signals() -> None:
    """Called once from ``CoreConfig.ready``."""
    from axes.signals import user_locked_out

    user_logged_in.connect(_on_login, dispatch_uid="core.audit.login")
    user_logged_out.connect(_on_logout, dispatch_uid="core.audit.logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="core.audit.login_failed")
    user_locked_out.connect(_on_locked_out, dispatch_uid="core.audit.locked_out")

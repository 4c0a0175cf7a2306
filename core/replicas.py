"""Reads that scale out: dashboards, reports and exports read from a PostgreSQL streaming
replica (``DATABASE_REPLICA_URL``), everything else from the primary.

Three rules keep that invisible to users:

- **Opt-in per view.** Only views that read and never write (``ReplicaReadsMixin``: the
  report pages, their exports and API answers) route their reads to the replica; a
  write always goes to the primary (``ReplicaRouter``).
- **Read your writes.** After a user's own write (any unsafe request,
  ``config.middleware.PinAfterWriteMiddleware``) their reads stay on the primary for
  ``REPLICA_PIN_SECONDS``, so the dashboard they open next shows what they just did. The
  pin is kept in the shared cache, so it holds whichever web machine serves them.
- **Fall back, never fail.** A replica that does not answer, or lags more than
  ``REPLICA_MAX_LAG_SECONDS`` behind, is left out (its state is checked at most every
  ``REPLICA_CHECK_SECONDS`` per process); a replica that fails in the middle of a view
  makes that view run again on the primary. ``/healthz`` reports the replica's state.
"""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
PRIMARY = "default"

_reads_from_replica: ContextVar[bool] = ContextVar("reads_from_replica", default=False)


@dataclass(frozen=True)
class ReplicaState:
    """``state``: "off" (no replica configured), "ok", "lagging" or "down"."""

    state: str
    lag_seconds: float | None = None

    @property
    def usable(self) -> bool:
        return self.state == "ok"


_OFF = ReplicaState("off")
_checked: dict[str, tuple[float, ReplicaState]] = {}

# How far the replica's replay is behind its primary: none while it has replayed all it
# received, else the age of the last transaction it replayed.
_LAG_SQL = """
    SELECT pg_is_in_recovery(),
           CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
           END
"""


def configured() -> bool:
    return settings.REPLICA_READS and REPLICA in settings.DATABASES


def measure() -> ReplicaState:
    """Ask the replica now (one short query; ``connect_timeout`` bounds a dead host)."""
    if not configured():
        return _OFF
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(_LAG_SQL)
            in_recovery, lag = cursor.fetchone()
    except DatabaseError as error:
        logger.warning("Replica unavailable, reading from the primary: %s", error)
        connections[REPLICA].close()
        return ReplicaState("down")
    lag = float(lag)
    if not in_recovery or lag > settings.REPLICA_MAX_LAG_SECONDS:
        return ReplicaState("lagging", lag)
    return ReplicaState("ok", lag)


def state() -> ReplicaState:
    """The replica's state, measured at most every ``REPLICA_CHECK_SECONDS`` per process."""
    if not configured():
        return _OFF
    now = time.monotonic()
    checked_at, known = _checked.get(REPLICA, (None, None))
    if checked_at is None or now - checked_at >= settings.REPLICA_CHECK_SECONDS:
        known = measure()
        _checked[REPLICA] = (now, known)
    return known


def mark_down() -> None:
    """A query on the replica failed: leave it out until the next check."""
    _checked[REPLICA] = (time.monotonic(), ReplicaState("down"))
    connections[REPLICA].close()


def forget_state() -> None:
    """Measure again on the next request (tests, and after a failover)."""
    _checked.clear()


def _pin_key(user_pk) -> str:
    return f"replica-pin:{user_pk}"


def pin_to_primary(user) -> None:
    """``user`` just wrote: their reads stay on the primary for a few seconds."""
    if configured() and user.is_authenticated:
        cache.set(_pin_key(user.pk), 1, timeout=settings.REPLICA_PIN_SECONDS)


def pinned(user) -> bool:
    return user.is_authenticated and cache.get(_pin_key(user.pk)) is not None


@contextmanager
def on_primary() -> Iterator[None]:
    """Reads inside the block go to the primary, even in a replica view (a permission
    checked there must hold the moment it is withdrawn)."""
    token = _reads_from_replica.set(False)
    try:
        yield
    finally:
        _reads_from_replica.reset(token)


class ReplicaRouter:
    """Reads go to the replica inside a ``ReplicaReadsMixin`` view that chose it; every
    write, and every read elsewhere, to the primary (also a write of an object read from
    the replica, which Django would otherwise send back where it came from)."""

    def db_for_read(self, model, **hints):
        return REPLICA if _reads_from_replica.get() else PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA


class ReplicaReadsMixin:
    """For a view that only reads (a dashboard, a report, an export): its reads go to the
    replica when one is usable and the user has not just written; if the replica fails
    during the view, the view runs again on the primary. Such a view writes at most its
    export record, after the reads, so a failed first run has written nothing.

    The user is known at ``dispatch`` for a page; an API view authenticates later (its
    token is read on the primary, so a token issued a moment ago works), in ``initial``."""

    _replica_possible = False

    def dispatch(self, request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or not state().usable:
            return super().dispatch(request, *args, **kwargs)
        self._replica_possible = True
        token = _reads_from_replica.set(False)
        try:
            if not hasattr(self, "perform_authentication"):
                self._choose_replica(request.user)
            return super().dispatch(request, *args, **kwargs)
        except DatabaseError as error:
            if not (_reads_from_replica.get() and _replica_failed()):
                raise
            logger.warning("Replica failed during %s, reading from the primary: %s", request.path, error)
            mark_down()
        finally:
            _reads_from_replica.reset(token)
            self._replica_possible = False
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self._replica_possible:
            self._choose_replica(request.user)

    @staticmethod
    def _choose_replica(user) -> None:
        _reads_from_replica.set(not pinned(user))


def _replica_failed() -> bool:
    """Whether the replica's connection is broken (not an error of the view's own)."""
    connection = connections[REPLICA]
    return connection.connection is None or not connection.is_usable()

"""The security audit log's hash chain: each event's ``row_hash`` is the SHA-256 of a
canonical serialization of its content and of the previous event's hash
(``prev_hash``), so an event edited, inserted or removed after the fact breaks the
chain at that row. ``manage.py verify_audit`` walks it (``verify``).

The serialization is a contract: events already written were hashed with it (the
backfill migration too), so it never changes. It uses the values as the database gives
them back — timestamps in UTC to the microsecond, addresses in their compressed form,
the detail as JSON with sorted keys — so a row hashes the same before and after its
round trip through PostgreSQL or SQLite.

What the chain proves: nobody changed the log through anything but ``core.audit.audit``
since the rows were written, unless they also recomputed every hash after their edit
and the chain head. Against that, keep the head hash that ``verify_audit`` prints
somewhere else (the backups, the operations log) and compare.
"""

import hashlib
import ipaddress
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64

# The hashed fields, by column name, in the order they are read for verification.
HASHED_FIELDS = (
    "created_at",
    "actor_id",
    "username",
    "ip",
    "action",
    "outcome",
    "object_type",
    "object_id",
    "object_repr",
    "detail",
)


def _canonical_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return ipaddress.ip_address(str(value)).compressed
    except ValueError:
        return str(value)


def canonical(values: Mapping[str, object], prev_hash: str) -> bytes:
    """The bytes hashed for one event: its ``HASHED_FIELDS`` and the previous hash."""
    created_at: datetime = values["created_at"]
    content = {name: values[name] for name in HASHED_FIELDS}
    content.update(
        created_at=created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        ip=_canonical_ip(values["ip"]),
        # As the JSON column stores it: tuples become lists, keys strings.
        detail=json.loads(json.dumps(values["detail"] or {})),
        prev_hash=prev_hash,
    )
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def row_hash(values: Mapping[str, object], prev_hash: str) -> str:
    return hashlib.sha256(canonical(values, prev_hash)).hexdigest()


@dataclass(frozen=True)
class Finding:
    """The first place the chain breaks: which event, and what happened to it."""

    event_id: int | None
    kind: str  # "edited", "inserted", "removed" (or a row before it edited and re-hashed)
    message: str


@dataclass(frozen=True)
class Verification:
    rows: int
    head_hash: str
    finding: Finding | None = None


def _rows(queryset, batch_size: int) -> Iterator[dict]:
    """The events in id order, read in batches by key (no OFFSET, no server cursor)."""
    last_id = 0
    while True:
        batch = list(
            queryset.filter(pk__gt=last_id)
            .order_by("pk")
            .values("pk", "prev_hash", "row_hash", *HASHED_FIELDS)[:batch_size]
        )
        yield from batch
        if len(batch) < batch_size:
            return
        last_id = batch[-1]["pk"]


def verify(queryset, head: tuple[int | None, str] | None, batch_size: int = 2000) -> Verification:
    """Walk the events of ``queryset`` (all security events) in id order and stop at the
    first break: a row whose content no longer matches its hash (edited), a row the
    chain runs past (inserted), or a link to a row that is gone (removed). ``head`` is
    the chain head's (last event id, last hash), which catches the newest rows removed
    or rows added after them. Reads ``batch_size`` rows at a time."""
    previous_id, previous_hash, count = None, GENESIS, 0
    before_previous_hash = None
    pending: dict | None = None  # a row whose link is broken, judged by the row after it

    def found(event_id, kind: str, message: str) -> Verification:
        return Verification(count, previous_hash, Finding(event_id, kind, message))

    def inserted(event_id, message: str = "") -> Verification:
        return found(
            event_id, "inserted", message or f"event {event_id} was inserted: the chain runs past it"
        )

    def removed(event_id) -> Verification:
        if previous_id is None:
            return found(
                event_id,
                "removed",
                f"the chain breaks before event {event_id}: the first events were removed",
            )
        return found(
            event_id,
            "removed",
            f"the chain breaks before event {event_id}: it links to a row that "
            f"is gone (events after event {previous_id} were removed, or event "
            f"{previous_id} was edited and its hash recomputed)",
        )

    for row in _rows(queryset, batch_size):
        if pending is not None:
            # The row after a broken link still links to the row before it: that one was slipped in.
            return inserted(pending["pk"]) if row["prev_hash"] == previous_hash else removed(pending["pk"])
        if not row["row_hash"]:
            return inserted(row["pk"], f"event {row['pk']} has no hash: it was not written by the audit log")
        if row_hash(row, row["prev_hash"]) != row["row_hash"]:
            return found(
                row["pk"], "edited", f"event {row['pk']} was edited: its content no longer matches its hash"
            )
        if row["prev_hash"] != previous_hash:
            if row["prev_hash"] == before_previous_hash:
                return inserted(previous_id)
            pending = row
            continue
        before_previous_hash = previous_hash
        previous_id, previous_hash, count = row["pk"], row["row_hash"], count + 1
    head_id, head_hash = head if head is not None else (None, None)
    if pending is not None:
        return inserted(pending["pk"]) if head_hash == previous_hash else removed(pending["pk"])
    if head_hash is not None and head_hash != previous_hash:
        if head_id is not None and (previous_id is None or head_id > previous_id):
            return found(
                head_id,
                "removed",
                f"the newest events were removed: the log ends at event "
                f"{previous_id}, its head at event {head_id}",
            )
        return inserted(previous_id, f"event {previous_id} was added after the chain head (event {head_id})")
    return Verification(count, previous_hash)

"""The security audit log is hash-chained: ``manage.py verify_audit`` confirms an intact
log and names the first event edited, inserted or removed behind the application's
back (exit code 1). The tampering is raw SQL; on PostgreSQL the append-only trigger has
to be switched off first, as only the table's owner could."""

import importlib
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.audit import audit
from core.audit_chain import GENESIS, row_hash
from core.models import AuditChainHead, SecurityAction, SecurityEvent, SecurityOutcome

pytestmark = pytest.mark.django_db

_backfill = importlib.import_module("crm.migrations.0013_security_event_hash_chain")


@contextmanager
def audit_trigger_disabled():
    """Raw SQL on the audit table as its owner could: the trigger off for the block."""
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgresql:
            # ALTER TABLE refuses to run with checks deferred to the commit still pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE crm_securityevent DISABLE TRIGGER crm_securityevent_append_only")
        yield cursor
        if postgresql:
            cursor.execute("ALTER TABLE crm_securityevent ENABLE TRIGGER crm_securityevent_append_only")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture
def events(personas) -> list[SecurityEvent]:
    return [
        audit(actor=personas.salesperson, action=SecurityAction.LOGIN, ip="2001:DB8::7"),
        audit(
            actor=None,
            username="mallory",
            action=SecurityAction.LOGIN_FAILED,
            outcome=SecurityOutcome.FAILURE,
            ip="203.0.113.9",
            detail={"path": "/accounts/login/", "tries": [1, 2.5], "名": "客户"},
        ),
        audit(
            actor=personas.admin,
            action=SecurityAction.EXPORT,
            obj=personas.salesperson,
            detail={"rows": 3, "filters": {"grade": "C"}},
        ),
        audit(actor=personas.manager, action=SecurityAction.REASSIGN, detail={"count": 1}),
    ]


def _state_before(app: str, migration: str):
    """The models as a migration sees them (plain managers, no append-only guards)."""
    executor = MigrationExecutor(connection)
    return executor.loader.project_state([(app, migration)], at_end=False).apps


def _verify() -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def _broken(batch_size: int = 2000) -> str:
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", batch_size=batch_size)
    assert failure.value.returncode == 1
    return str(failure.value)


def test_each_event_links_to_the_one_before_and_the_head_to_the_last(events):
    stored = list(SecurityEvent.objects.order_by("pk"))

    assert stored[0].prev_hash == GENESIS
    assert [event.prev_hash for event in stored[1:]] == [event.row_hash for event in stored[:-1]]
    assert AuditChainHead.objects.values_list("last_event_id", "last_hash").get() == (
        stored[-1].pk,
        stored[-1].row_hash,
    )


def test_an_untouched_log_is_reported_intact(events):
    output = _verify()

    assert "audit chain intact: 4 rows" in output
    assert f"head hash: {SecurityEvent.objects.order_by('-pk').first().row_hash}" in output


def test_an_edited_event_is_reported_with_exit_code_1(events):
    with audit_trigger_disabled() as cursor:
        cursor.execute("UPDATE crm_securityevent SET username = %s WHERE id = %s", ["alice", events[1].pk])

    message = _broken()

    assert f"event {events[1].pk} was edited" in message
    assert "(1 rows verified before it)" in message


def test_an_edit_that_recomputes_the_row_hash_breaks_the_next_link(events):
    forged = {**SecurityEvent.objects.filter(pk=events[1].pk).values().get(), "username": "alice"}
    forged_hash = row_hash(forged, forged["prev_hash"])
    with audit_trigger_disabled() as cursor:
        cursor.execute(
            "UPDATE crm_securityevent SET username = %s, row_hash = %s WHERE id = %s",
            ["alice", forged_hash, events[1].pk],
        )

    message = _broken()

    assert f"the chain breaks before event {events[2].pk}" in message
    assert f"or event {events[1].pk} was edited and its hash recomputed" in message


def test_a_deleted_event_is_reported(events):
    with audit_trigger_disabled() as cursor:
        cursor.execute("DELETE FROM crm_securityevent WHERE id = %s", [events[2].pk])

    message = _broken(batch_size=1)

    assert f"the chain breaks before event {events[3].pk}" in message
    assert f"events after event {events[1].pk} were removed" in message


def test_deleting_the_newest_events_is_reported_against_the_head(events):
    with audit_trigger_disabled() as cursor:
        cursor.execute("DELETE FROM crm_securityevent WHERE id >= %s", [events[2].pk])

    assert f"the newest events were removed: the log ends at event {events[1].pk}" in _broken()


@pytest.mark.parametrize("hashed", [True, False])
def test_an_event_inserted_by_sql_is_reported(events, hashed):
    # Even with a hash computed the way the log does, an event the head does not know shows.
    ghost = {
        "created_at": events[-1].created_at,
        "actor_id": None,
        "username": "ghost",
        "ip": None,
        "action": "login",
        "outcome": "success",
        "object_type": "",
        "object_id": "",
        "object_repr": "",
        "detail": {},
    }
    ghost_hash = row_hash(ghost, events[-1].row_hash) if hashed else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO crm_securityevent (created_at, username, action, outcome, object_type, object_id,"
            " object_repr, detail, prev_hash, row_hash) VALUES (%s, 'ghost', 'login', 'success', '', '', '',"
            " '{}', %s, %s)",
            [ghost["created_at"], events[-1].row_hash, ghost_hash],
        )
    ghost_id = SecurityEvent.objects.get(username="ghost").pk

    message = _broken()

    assert (
        f"event {ghost_id} was added after the chain head"
        if hashed
        else f"event {ghost_id} has no hash: it was not written by the audit log"
    ) in message


def test_new_events_chain_on_after_the_head_row_is_lost(events):
    AuditChainHead.objects.all().delete()

    audit(actor=None, username="bob", action=SecurityAction.LOGIN_FAILED, outcome=SecurityOutcome.FAILURE)

    assert "audit chain intact: 5 rows" in _verify()


def test_the_migration_chains_the_events_written_before_it(events):
    AuditChainHead.objects.all().delete()
    # As before the migrations: no hashes, and (PostgreSQL) no trigger yet.
    with audit_trigger_disabled() as cursor:
        cursor.execute("UPDATE crm_securityevent SET prev_hash = '', row_hash = ''")
        _backfill.chain_existing_events(
            _state_before("crm", "0014_security_event_append_only"), schema_editor=None
        )

    assert "audit chain intact: 4 rows" in _verify()

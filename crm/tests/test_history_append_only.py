"""History is append-only in the database too (PostgreSQL triggers): raw SQL cannot update
or delete security audit, grade-change or reassignment rows; the one way through is the
documented retention purge (``core.audit.history_purge``), which deletes and never updates,
and only inside its block. Concurrent audit writers never fork the hash chain."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from conftest import at_once, skip_or_fail
from core.audit import audit, history_purge
from core.models import SecurityAction, SecurityEvent
from crm import services
from funnel.models import GradeChange, Reassignment
from funnel.services import change_grade, reassign_customer
from funnel.tests.builders import customer_at
from funnel.tests.factories import grade

pytestmark = [pytest.mark.postgres]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://…")


@pytest.fixture
def history(personas):
    customer = customer_at("E", personas.salesperson, name="Kept Ltd")
    change_grade(customer=customer, grade=grade("D"), by=personas.salesperson)
    reassign_customer(customer=customer, new_owner=personas.teammate, by=personas.manager, reason="Split")
    return customer


def _sql(statement: str, params=()) -> None:
    """One statement in its own savepoint, so a refusal leaves the test's transaction usable."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


STATEMENTS = [
    "UPDATE crm_securityevent SET username = 'alice'",
    "DELETE FROM crm_securityevent",
    "UPDATE funnel_gradechange SET note = 'rewritten'",
    "DELETE FROM funnel_gradechange",
    "UPDATE funnel_reassignment SET reason = 'rewritten'",
    "DELETE FROM funnel_reassignment",
]


@pytest.mark.django_db
@pytest.mark.parametrize("statement", STATEMENTS)
def test_raw_sql_cannot_change_or_remove_history(history, statement):
    with pytest.raises(DatabaseError, match="the history is append-only"):
        _sql(statement)

    assert GradeChange.objects.filter(customer=history).exclude(note="rewritten").count() == 1
    assert Reassignment.objects.filter(customer=history).exclude(reason="rewritten").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("statement", STATEMENTS[::2] + ["DELETE FROM crm_securityevent"])
def test_the_purge_path_deletes_grade_and_owner_history_only(history, statement):
    with pytest.raises(DatabaseError, match="the history is append-only"), history_purge():
        _sql(statement)


@pytest.mark.django_db
def test_the_purge_path_closes_behind_its_block(history):
    with history_purge():
        _sql("DELETE FROM funnel_gradechange WHERE customer_id = %s", [history.pk])

    with pytest.raises(DatabaseError, match="the history is append-only"):
        _sql("DELETE FROM funnel_reassignment")
    assert not GradeChange.objects.filter(customer=history).exists()


@pytest.mark.django_db
def test_an_admin_purge_after_the_retention_removes_the_customer_and_its_history(history, personas, settings):
    services.archive_customer(customer=history, by=personas.admin)

    with time_machine.travel(timezone.now() + timedelta(days=settings.ARCHIVE_RETENTION_DAYS + 1)):
        services.purge_customer(customer=history, by=personas.admin)

    assert not GradeChange.objects.filter(customer_id=history.pk).exists()
    assert not Reassignment.objects.filter(customer_id=history.pk).exists()
    assert SecurityEvent.objects.filter(action=SecurityAction.PURGE, object_id=str(history.pk)).exists()


@pytest.mark.django_db(transaction=True)
def test_twenty_writers_at_once_leave_one_unbroken_chain(personas):
    def write(index):
        return lambda: audit(
            actor=None, username=f"user{index}", action=SecurityAction.LOGIN_FAILED, detail={"attempt": index}
        )

    at_once(*[write(index) for index in range(20)])

    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert f"audit chain intact: {SecurityEvent.objects.count()} rows" in out.getvalue()
    assert SecurityEvent.objects.filter(username__startswith="user").count() == 20

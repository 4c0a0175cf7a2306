"""Models moved to core in the migration state only: a database of the day before keeps
their rows, and everything pointing at them, row for row."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from core.models import Grade, OutboxMessage, SecurityEvent, WorkerHeartbeat
from crm.models import Customer
from funnel.models import GradeChange

BEFORE = [
    ("crm", "0017_name_bigram_indexes"),
    ("funnel", "0014_won_handover_step"),
    ("reports", "0004_sales_meetings"),
]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_day_before_keeps_its_grades_and_references():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    grade = old.get_model("funnel", "Grade").objects.create(
        code="T", name="Test", order=99, probability=Decimal("20")
    )
    customer = old.get_model("crm", "Customer").objects.create(
        name="Kept Ltd", name_normalized="kept ltd", grade=grade, expected_value=Decimal("1000")
    )
    old.get_model("funnel", "GradeChange").objects.create(customer=customer, to_grade=grade)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = Grade.objects.get(code="T")
    assert (moved.pk, moved.probability) == (grade.pk, Decimal("20.00"))
    assert Customer.objects.get(name="Kept Ltd").grade == moved
    assert GradeChange.objects.get(customer__name="Kept Ltd").to_grade == moved
    assert Grade._meta.db_table == "funnel_grade"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_day_before_keeps_its_outbox_heartbeat_and_audit_log():
    """The outbox, the heartbeat and the security audit log moved from crm to core in the
    migration state only: their rows stay, and their content types follow them."""
    before = [("core", "0001_initial"), ("crm", "0018_customer_grade_in_core")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    message = old.get_model("crm", "OutboxMessage").objects.create(task_name="core.tasks.record_heartbeat")
    old.get_model("crm", "WorkerHeartbeat").objects.create(name="worker", beat_at=timezone.now())
    event = old.get_model("crm", "SecurityEvent").objects.create(username="kept", action="login")
    content_types = old.get_model("contenttypes", "ContentType").objects
    content_types.get_or_create(app_label="crm", model="securityevent")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert OutboxMessage.objects.get().pk == message.pk
    assert WorkerHeartbeat.objects.get().name == "worker"
    assert SecurityEvent.objects.get().pk == event.pk
    assert ContentType.objects.get_for_model(SecurityEvent).app_label == "core"
    assert not ContentType.objects.filter(app_label="crm", model="securityevent").exists()
    assert SecurityEvent._meta.db_table == "crm_securityevent"

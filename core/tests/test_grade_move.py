"""The grades moved from the funnel app to core in the migration state only: a database
of the day before keeps its grades, and everything pointing at them, row for row."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.models import Grade
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

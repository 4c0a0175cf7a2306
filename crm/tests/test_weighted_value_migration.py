"""The migration that stores the weighted value fills it for the customers already there."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from crm.models import Customer

BEFORE = [("crm", "0008_customer_list_and_search_indexes")]


@pytest.mark.slow  # migrates the whole schema back and forth
@pytest.mark.django_db(transaction=True)
def test_the_migration_reverses_and_backfills_the_weighted_value():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    grade = old.get_model("funnel", "Grade").objects.create(
        code="T", name="Test", order=99, probability=Decimal("20")
    )
    customers = old.get_model("crm", "Customer").objects
    customers.create(name="Plain", name_normalized="plain", grade=grade, expected_value=Decimal("12345.67"))
    customers.create(
        name="Judged",
        name_normalized="judged",
        grade=grade,
        expected_value=Decimal("80000.05"),
        probability_override=Decimal("33.33"),
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert dict(Customer.objects.values_list("name", "weighted_value")) == {
        "Plain": Decimal("2469.13"),
        "Judged": Decimal("26664.02"),
    }

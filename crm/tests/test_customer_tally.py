"""The customer tally (``CustomerTally``): the live customers' count, expected and weighted
value per (owner, grade), kept by database triggers, so it equals the customers it sums
after every kind of write, whichever path makes it; folding changes no sum."""

import os
import sqlite3
import subprocess
import sys
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from conftest import at_once, skip_or_fail
from core.models import Grade
from crm import services
from crm.bulk import TableWriter
from crm.models import Customer, CustomerTally
from crm.tests.factories import CustomerFactory, grade_by_code
from funnel import services as funnel_services
from funnel.tests.builders import funnel_settings


def tally() -> dict:
    rows = (
        CustomerTally.objects.order_by()
        .values("owner_id", "grade_id")
        .annotate(n=Sum("customers"), expected=Sum("expected_value"), weighted=Sum("weighted_value"))
    )
    return {(r["owner_id"], r["grade_id"]): (r["n"], r["expected"], r["weighted"]) for r in rows if r["n"]}


def live_customers() -> dict:
    rows = (
        Customer.objects.filter(archived_at__isnull=True)
        .order_by()
        .values("owner_id", "grade_id")
        .annotate(n=Count("id"), expected=Sum("expected_value"), weighted=Sum("weighted_value"))
    )
    return {(r["owner_id"], r["grade_id"]): (r["n"], r["expected"], r["weighted"]) for r in rows}


@pytest.mark.django_db
def test_every_kind_of_write_keeps_the_tally_equal_to_the_live_customers(personas):
    funnel_settings(grade_skip_rule=False)  # builds its case with grade skips
    seller, teammate, admin = personas.salesperson, personas.teammate, personas.admin
    e, c = grade_by_code("E"), grade_by_code("C")
    first = CustomerFactory(owner=seller, expected_value=Decimal("100000.00"))
    second = CustomerFactory(owner=seller, expected_value=Decimal("50000.50"))
    pooled = CustomerFactory(owner=None, by=admin, expected_value=Decimal("7.25"))
    assert (
        tally()
        == live_customers()
        == {
            (seller.pk, e.pk): (2, Decimal("150000.50"), Decimal("15000.05")),
            (None, e.pk): (1, Decimal("7.25"), Decimal("0.73")),
        }
    )

    steps = [
        lambda: funnel_services.change_grade(customer=first, grade=c, by=seller),
        lambda: services.update_customer(customer=second, by=seller, expected_value=Decimal("80000")),
        lambda: services.set_probability_override(
            customer=first, by=seller, probability=Decimal("55"), reason="Signed letter of intent"
        ),
        lambda: funnel_services.reassign_customer(
            customer=second, new_owner=teammate, by=admin, reason="Territory change"
        ),
        lambda: services.archive_customer(customer=pooled, by=admin, reason="Closed down"),
        lambda: services.restore_customer(customer=pooled, by=admin),
        # Set-based writes that bypass the models: a grade's new probability, a bulk move.
        lambda: Grade.objects.filter(pk=c.pk).update(probability=Decimal("45")),
        lambda: services.refresh_weighted_values(Customer.objects.filter(grade=c)),
        lambda: Customer.objects.filter(owner=teammate).update(owner=seller),
        lambda: Customer.objects.bulk_create(
            [
                Customer(
                    name=f"Bulk {n}",
                    name_normalized=f"bulk {n}",
                    owner=teammate,
                    grade=e,
                    expected_value=Decimal(n),
                    weighted_value=Decimal(n) / 10,
                )
                for n in range(1, 4)
            ]
        ),
        lambda: TableWriter(Customer).insert(
            [  # imports and generated data: COPY on PostgreSQL
                {
                    "name": "Copied",
                    "name_normalized": "copied",
                    "owner_id": teammate.pk,
                    "grade_id": c.pk,
                    "expected_value": Decimal(10),
                    "weighted_value": Decimal("4.50"),
                    "updated_at": timezone.now(),
                }
            ]
        ),
        lambda: Customer.objects.filter(name__startswith="Bulk").exclude(name="Bulk 1").delete(),
        lambda: Customer.objects.filter(pk=pooled.pk).update(phone="021 5555 0101"),  # no sum moves
    ]
    for step in steps:
        step()
        assert tally() == live_customers()
    assert tally()[(seller.pk, c.pk)][0] == 1
    assert tally()[(teammate.pk, e.pk)] == (1, Decimal("1.00"), Decimal("0.10"))


@pytest.mark.django_db
def test_folding_leaves_one_row_per_owner_and_grade_and_the_same_sums(personas):
    seller, admin = personas.salesperson, personas.admin
    customers = [CustomerFactory(owner=seller, expected_value=Decimal(1000 * n)) for n in range(1, 5)]
    for customer in customers[:2]:
        funnel_services.change_grade(customer=customer, grade=grade_by_code("D"), by=seller)
    services.archive_customer(customer=customers[3], by=admin, reason="Duplicate")
    Customer.objects.filter(pk=customers[2].pk).update(expected_value=Decimal(0), weighted_value=Decimal(0))
    before = tally()

    services.fold_customer_tally()
    assert tally() == before == live_customers()
    folded = sorted(CustomerTally.objects.values_list("owner_id", "grade_id", "customers"))
    assert folded == sorted([(seller.pk, grade_by_code("E").pk, 1), (seller.pk, grade_by_code("D").pk, 2)])

    services.fold_customer_tally()  # idempotent
    assert sorted(CustomerTally.objects.values_list("owner_id", "grade_id", "customers")) == folded


@pytest.mark.django_db
def test_an_owner_left_with_no_customers_keeps_no_row_once_folded(personas):
    customer = CustomerFactory(owner=personas.salesperson)
    services.fold_customer_tally()
    funnel_services.reassign_customer(
        customer=customer, new_owner=personas.teammate, by=personas.admin, reason="Leaving"
    )
    services.fold_customer_tally()
    assert list(CustomerTally.objects.values_list("owner_id", "customers")) == [(personas.teammate.pk, 1)]


@pytest.mark.django_db
def test_the_command_finds_writes_that_bypassed_the_triggers_and_rebuilds_the_tally(personas):
    CustomerFactory(owner=personas.salesperson, expected_value=Decimal(1000))
    call_command("customer_tally", stdout=StringIO())
    CustomerTally.objects.filter(owner=personas.salesperson).update(customers=5)  # a write bypassed them

    with pytest.raises(CommandError, match="differs from the customers for 1 owner and grade"):
        call_command("customer_tally", stdout=StringIO())
    out = StringIO()
    call_command("customer_tally", "--rebuild", stdout=out)

    assert "rebuilt: 1 owner and grade" in out.getvalue()
    assert (
        tally()
        == live_customers()
        == {(personas.salesperson.pk, grade_by_code("E").pk): (1, Decimal("1000.00"), Decimal("100.00"))}
    )
    call_command("customer_tally", stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_emptying_the_customer_table_empties_the_tally(personas):
    """``flush`` between transactional tests TRUNCATEs (PostgreSQL) or DELETEs (SQLite) the
    customers but leaves the unmanaged tally to its triggers."""
    CustomerFactory(owner=personas.salesperson)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE crm_customer CASCADE"
            if connection.vendor == "postgresql"
            else "DELETE FROM crm_customer"
        )
    assert tally() == {}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_writers_and_folds_at_once_lose_no_delta(personas):
    """Several people moving customers of the same owner and grade while the tally is
    folded, each on its own connection: no writer waits for another's total row, and
    every delta survives the folds."""
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (SQLite runs one writer at a time): set DATABASE_URL=postgres://…")
    seller = personas.salesperson
    customers = [CustomerFactory(owner=seller, expected_value=Decimal(100 * n)) for n in range(1, 7)]

    def move(pk):
        def moves():
            for code in ("D", "C"):
                funnel_services.change_grade(
                    customer=Customer.objects.get(pk=pk), grade=grade_by_code(code), by=seller
                )
                services.fold_customer_tally()

        return moves

    at_once(
        *[move(customer.pk) for customer in customers],
        services.fold_customer_tally,
        services.fold_customer_tally,
    )
    assert (
        tally()
        == live_customers()
        == {(seller.pk, grade_by_code("C").pk): (6, Decimal("2100.00"), Decimal("840.00"))}
    )


@pytest.mark.slow
def test_a_fresh_sqlite_database_has_the_tally_triggers_on_its_customer_table(tmp_path):
    """The embedded default runs on SQLite, where a migration that rebuilds the customer
    table (most field alterations do) drops its triggers. Whatever database the suite runs
    on (CI: PostgreSQL), migrate a new SQLite file and look for them on that table."""
    database = tmp_path / "fresh.sqlite3"
    env = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    result = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
        cwd=settings.BASE_DIR,
        env={**env, "DJANGO_ENV": "test", "DATABASE_URL": f"sqlite:///{database}"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    with sqlite3.connect(database) as fresh:
        triggers = fresh.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'crm_customer' ORDER BY name"
        ).fetchall()
    assert [name for (name,) in triggers] == [
        "crm_customer_tally_delete",
        "crm_customer_tally_insert",
        "crm_customer_tally_update",
    ]

"""Restore drills: a backup made by ``make backup`` restores to exactly the data it was
taken from (same row counts and checksums per table), after later changes."""

import os
import shutil
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from config.backups import fingerprint
from conftest import skip_or_fail
from crm import services
from crm.models import Customer
from crm.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _fingerprint() -> dict[str, tuple[int, str]]:
    with connection.cursor() as cursor:
        return fingerprint(cursor, connection.introspection.table_names(cursor), connection.ops.quote_name)


def _some_data(personas) -> Customer:
    customer = CustomerFactory(owner=personas.salesperson, name="Backup Steel Co.")
    ContactFactory(customer=customer, name="Wang Li")
    return customer


def _change_everything(personas, customer: Customer) -> None:
    services.archive_customer(customer=customer, by=personas.manager, reason="after the backup")
    CustomerFactory(owner=personas.teammate, name="Written after the backup")


def _backup(tmp_path):
    call_command("backup_db", output_dir=tmp_path)
    (path,) = tmp_path.glob("funnel-*")
    return path


_SQLITE_DRILL_CHECK = """
from django.db import connection
from config.backups import fingerprint
with connection.cursor() as cursor:
    tables = connection.introspection.table_names(cursor)
    print(sorted(fingerprint(cursor, tables, connection.ops.quote_name).items()))
"""
_SQLITE_DRILL_CHANGE = (
    "from crm.models import Customer, Tag; "
    "Customer.objects.update(notes='after the backup'); Tag.objects.create(name='new')"
)


@pytest.mark.slow  # migrates and seeds a database of its own in subprocesses
def test_sqlite_restore_drill_in_a_separate_process(tmp_path):
    """The embedded default's drill runs whatever database the suite itself uses (in CI:
    PostgreSQL), in a subprocess with its own SQLite file: backup, change, restore."""
    env = {
        **os.environ,
        "DJANGO_ENV": "local",
        "DEBUG": "false",
        "SECRET_KEY": "drill-only",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'drill.sqlite3'}",
    }
    env.pop("REDIS_URL", None)

    def manage(*args: str) -> str:
        result = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args],
            env=env,
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    manage("migrate", "--no-input", "-v", "0")
    manage("seed_demo")
    before = manage("shell", "-c", _SQLITE_DRILL_CHECK)
    manage("backup_db", "--output-dir", str(tmp_path / "backups"))
    manage("shell", "-c", _SQLITE_DRILL_CHANGE)
    assert manage("shell", "-c", _SQLITE_DRILL_CHECK) != before
    (backup_file,) = (tmp_path / "backups").glob("funnel-*.sqlite3")

    manage("restore_db", str(backup_file), "--no-input")

    assert manage("shell", "-c", _SQLITE_DRILL_CHECK) == before


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="DATABASE_URL is not PostgreSQL")
def test_postgresql_restore_drill_into_a_scratch_database(personas, tmp_path):
    import psycopg2

    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        skip_or_fail("pg_dump / pg_restore are not installed")
    _some_data(personas)
    before = _fingerprint()
    path = _backup(tmp_path)
    assert path.suffix == ".dump"
    scratch = f"restore_drill_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{scratch}"')
    try:
        call_command("restore_db", str(path), no_input=True, database_name=scratch)

        params = {
            key: value
            for key, value in connection.get_connection_params().items()
            if key in {"host", "port", "user", "password"}
        }
        with psycopg2.connect(dbname=scratch, **params) as restored, restored.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            tables = [row[0] for row in cursor.fetchall()]
            after = fingerprint(cursor, tables, connection.ops.quote_name)
        restored.close()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')

    assert after == before
    assert after["crm_customer"][0] == 1


def test_restore_refuses_a_missing_file_or_one_of_another_engine(tmp_path):
    with pytest.raises(CommandError, match="No backup file"):
        call_command("restore_db", str(tmp_path / "funnel-nothing.sqlite3"), no_input=True)

    wrong = tmp_path / ("funnel-x.dump" if connection.vendor == "sqlite" else "funnel-x.sqlite3")
    wrong.write_bytes(b"not a backup")
    with pytest.raises(CommandError, match="is not a"):
        call_command("restore_db", str(wrong), no_input=True)


def test_restore_without_a_backup_says_so(tmp_path, settings):
    settings.BACKUP_DIR = tmp_path

    with pytest.raises(CommandError, match="No backups in"):
        call_command("restore_db", no_input=True)

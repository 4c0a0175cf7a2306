"""Database backups and restores (``make backup`` / ``make restore``).

PostgreSQL: ``pg_dump -Fc`` (one consistent snapshot, taken while the site runs) and
``pg_restore --clean --if-exists``. SQLite: the online backup API
(``sqlite3.Connection.backup``), which copies a consistent snapshot page by page
while web and workers keep writing. Files go to ``BACKUP_DIR`` (``var/backups/``)
named with the UTC time, so ``ls`` sorts them oldest to newest.
"""
import hashlib
import os
import shutil
import sqlite3
import subprocess  # noqa: S404 - pg_dump/pg_restore with fixed arguments, never a shell
from datetime import UTC, datetime
from pathlib import Path

from django.db import connections

SUFFIXES = {"postgresql": ".dump", "sqlite": ".sqlite3"}


class BackupError(Exception):
    pass


def engine(alias: str = "default") -> str:
    vendor = connections[alias].vendor
    if vendor not in SUFFIXES:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {vendor}.")
    return vendor


def _pg_command(program: str, settings_dict: dict) -> tuple[list[str], dict[str, str]]:
    path = shutil.which(program)
    if path is None:
        raise BackupError(f"{program} is not installed (Debian: apt-get install postgresql-client).")
    args = [path]
    if settings_dict.get("HOST"):
        args += ["--host", settings_dict["HOST"]]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["--username", settings_dict["USER"]]
    env = {**os.environ}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    return args, env


def _run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - fixed arguments
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr.strip()}")


def backup(directory: Path, alias: str = "default") -> Path:
    """Write a backup of database ``alias`` into ``directory``; returns the file."""
    vendor = engine(alias)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = directory / f"funnel-{stamp}{SUFFIXES[vendor]}"
    connection = connections[alias]
    if vendor == "postgresql":
        args, env = _pg_command("pg_dump", connection.settings_dict)
        _run([*args, "--format=custom", "--file", str(target), connection.settings_dict["NAME"]], env)
    else:
        connection.ensure_connection()
        with sqlite3.connect(target) as destination:
            connection.connection.backup(destination)
        destination.close()
    return target


def restore(source: Path, alias: str = "default", database_name: str | None = None) -> None:
    """Replace the contents of database ``alias`` (or, on PostgreSQL, of another
    database ``database_name`` on the same server, e.g. a scratch database for a
    restore drill) with the backup ``source``."""
    if not source.is_file():
        raise BackupError(f"No backup file at {source}.")
    vendor = engine(alias)
    if source.suffix != SUFFIXES[vendor]:
        raise BackupError(f"{source.name} is not a {vendor} backup ({SUFFIXES[vendor]}).")
    connection = connections[alias]
    if vendor == "postgresql":
        args, env = _pg_command("pg_restore", connection.settings_dict)
        connection.close()
        _run([*args, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
              "--dbname", database_name or connection.settings_dict["NAME"], str(source)], env)
    else:
        if database_name:
            raise BackupError("--database-name is for PostgreSQL; copy the SQLite file instead.")
        connection.ensure_connection()
        with sqlite3.connect(source) as backup_file:
            backup_file.backup(connection.connection)
        backup_file.close()


def latest(directory: Path) -> Path:
    files = sorted(path for path in directory.glob("funnel-*") if path.suffix in SUFFIXES.values())
    if not files:
        raise BackupError(f"No backups in {directory}.")
    return files[-1]


def fingerprint(cursor, tables: list[str], quote) -> dict[str, tuple[int, str]]:
    """Row count and SHA-256 of the sorted rows per table: two databases with equal
    fingerprints hold the same data. For restore drills, not for big production tables."""
    result = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 - table names come from introspection
        rows = sorted(repr(tuple(row)) for row in cursor.fetchall())
        result[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return result

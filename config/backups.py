"""Database backups and restores (``make backup`` / ``make restore``).

PostgreSQL: ``pg_dump -Fc`` (one consistent snapshot, taken while the site runs) and
``pg_restore --clean --if-exists``. SQLite: the online backup API
(``sqlite3.Connection.backup``), which copies a consistent snapshot page by page
while web and workers keep writing. Files go to ``BACKUP_DIR`` (``var/backups/``)
named with the UTC time, so ``ls`` sorts them oldest to newest.

A backup holds every customer's data: its file is created readable by its owner only
(mode 0600, whatever the umask; the directory 0700 when it is created here). With a key
(``BACKUP_ENCRYPTION_KEY``, a Fernet key) the dump is encrypted into ``….enc`` and the
plain dump removed: chunks of 4 MiB, each a Fernet token (AES-128-CBC + HMAC-SHA256)
carrying its index and an end mark, so a chunk altered, dropped, reordered or cut off
is refused on restore, and memory stays bounded whatever the database's size.
"""

import hashlib
import os
import shutil
import sqlite3
import struct
import subprocess  # noqa: S404 - pg_dump/pg_restore with fixed arguments, never a shell
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from cryptography.fernet import Fernet, InvalidToken
from django.db import connections

SUFFIXES = {"postgresql": ".dump", "sqlite": ".sqlite3"}
ENCRYPTED = ".enc"
MAGIC = b"FUNNEL-BACKUP-FERNET-1\n"
CHUNK = 4 * 1024 * 1024
_CHUNK_HEADER = struct.Struct(">QB")  # chunk index, 1 on the last chunk
_TOKEN_LENGTH = struct.Struct(">I")
_MAX_TOKEN = 2 * CHUNK + 1024  # base64 of a chunk, its header, IV, padding and MAC


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


def _run(args: list[str], env: dict[str, str], stdout: BinaryIO | None = None) -> None:
    result = subprocess.run(  # noqa: S603 - fixed arguments
        args, env=env, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE, check=False
    )
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace").strip()
        raise BackupError(f"{Path(args[0]).name} failed ({result.returncode}): {stderr}")


@contextmanager
def _private_file(path: Path) -> Iterator[BinaryIO]:
    """A new file only its owner may read or write (0600, whatever the umask), opened for writing."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        yield file


def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode())
    except ValueError as error:
        raise BackupError(
            "BACKUP_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes); "
            "make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from error


def encrypt_file(source: Path, target: Path, key: str) -> None:
    """Encrypt ``source`` into a new 0600 file ``target``, chunk by chunk."""
    fernet = _fernet(key)
    with source.open("rb") as plain, _private_file(target) as encrypted:
        encrypted.write(MAGIC)
        index, chunk = 0, plain.read(CHUNK)
        while True:
            following = plain.read(CHUNK)
            token = fernet.encrypt(_CHUNK_HEADER.pack(index, not following) + chunk)
            encrypted.write(_TOKEN_LENGTH.pack(len(token)) + token)
            if not following:
                return
            index, chunk = index + 1, following


def decrypt_file(source: Path, target: BinaryIO, key: str) -> None:
    """Decrypt the backup ``source`` into ``target``; refuses a wrong key and a file
    altered, reordered or cut short (nothing of it can be trusted then)."""
    fernet = _fernet(key)
    with source.open("rb") as encrypted:
        if encrypted.read(len(MAGIC)) != MAGIC:
            raise BackupError(f"{source.name} is not an encrypted Funnel CRM backup.")
        for index in range(2**63):
            header = encrypted.read(_TOKEN_LENGTH.size)
            length = _TOKEN_LENGTH.unpack(header)[0] if len(header) == _TOKEN_LENGTH.size else 0
            token = encrypted.read(length) if 0 < length <= _MAX_TOKEN else b""
            if not token or len(token) != length:
                raise BackupError(f"{source.name} is cut short or damaged.")
            try:
                plain = fernet.decrypt(token)
            except InvalidToken as error:
                raise BackupError(
                    f"{source.name}: wrong BACKUP_ENCRYPTION_KEY, or the file was altered."
                ) from error
            chunk_index, last = _CHUNK_HEADER.unpack(plain[: _CHUNK_HEADER.size])
            if chunk_index != index:
                raise BackupError(f"{source.name} was altered: its chunks are out of order.")
            target.write(plain[_CHUNK_HEADER.size :])
            if last:
                if encrypted.read(1):
                    raise BackupError(f"{source.name} was altered: data follows its last chunk.")
                return


def _dump(vendor: str, alias: str, target: Path) -> None:
    connection = connections[alias]
    if vendor == "postgresql":
        args, env = _pg_command("pg_dump", connection.settings_dict)
        with _private_file(target) as file:
            _run([*args, "--format=custom", connection.settings_dict["NAME"]], env, stdout=file)
    else:
        with _private_file(target):
            pass  # SQLite writes into the empty file, keeping its mode (and gives its journal the same)
        connection.ensure_connection()
        with sqlite3.connect(target) as destination:
            connection.connection.backup(destination)
        destination.close()


def backup(directory: Path, alias: str = "default", key: str = "") -> Path:
    """Write a backup of database ``alias`` into ``directory`` (0600), encrypted with
    the Fernet ``key`` when one is given; returns the file."""
    vendor = engine(alias)
    if key:
        _fernet(key)  # a bad key is refused before the dump, not after it
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = directory / f"funnel-{stamp}{SUFFIXES[vendor]}"
    if not key:
        _dump(vendor, alias, target)
        return target
    encrypted = target.with_name(target.name + ENCRYPTED)
    try:
        _dump(vendor, alias, target)
        encrypt_file(target, encrypted, key)
    finally:
        target.unlink(missing_ok=True)
    return encrypted


def _dump_suffix(path: Path) -> str:
    """ ".dump" or ".sqlite3", for an encrypted backup too ("….dump.enc")."""
    return path.with_suffix("").suffix if path.suffix == ENCRYPTED else path.suffix


@contextmanager
def _plain(source: Path, key: str) -> Iterator[Path]:
    """The backup ``source`` as a plain file: itself, or decrypted into a private
    temporary file that is removed afterwards."""
    if source.suffix != ENCRYPTED:
        yield source
        return
    if not key:
        raise BackupError(
            f"{source.name} is encrypted: set BACKUP_ENCRYPTION_KEY to the key it was made with."
        )
    descriptor, name = tempfile.mkstemp(prefix="funnel-restore-", suffix=_dump_suffix(source))  # 0600
    try:
        with os.fdopen(descriptor, "wb") as plain:
            decrypt_file(source, plain, key)
        yield Path(name)
    finally:
        os.unlink(name)


def restore(source: Path, alias: str = "default", database_name: str | None = None, key: str = "") -> None:
    """Replace the contents of database ``alias`` (or, on PostgreSQL, of another
    database ``database_name`` on the same server, e.g. a scratch database for a
    restore drill) with the backup ``source``, decrypted with ``key`` if it is
    encrypted (``….enc``)."""
    if not source.is_file():
        raise BackupError(f"No backup file at {source}.")
    vendor = engine(alias)
    if _dump_suffix(source) != SUFFIXES[vendor]:
        raise BackupError(f"{source.name} is not a {vendor} backup ({SUFFIXES[vendor]}).")
    with _plain(source, key) as plain:
        _restore(vendor, alias, plain, database_name)


def _restore(vendor: str, alias: str, source: Path, database_name: str | None) -> None:
    connection = connections[alias]
    if vendor == "postgresql":
        args, env = _pg_command("pg_restore", connection.settings_dict)
        connection.close()
        _run(
            [
                *args,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                database_name or connection.settings_dict["NAME"],
                str(source),
            ],
            env,
        )
    else:
        if database_name:
            raise BackupError("--database-name is for PostgreSQL; copy the SQLite file instead.")
        connection.ensure_connection()
        with sqlite3.connect(source) as backup_file:
            backup_file.backup(connection.connection)
        backup_file.close()


def latest(directory: Path) -> Path:
    files = sorted(path for path in directory.glob("funnel-*") if _dump_suffix(path) in SUFFIXES.values())
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

"""Backups hold every customer: ``make backup`` writes them readable by their owner only
(0600, whatever the umask), and with ``BACKUP_ENCRYPTION_KEY`` encrypted — a restore
decrypts them, and refuses a wrong key or an altered file."""

import os
import shutil
import stat
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from config.backups import MAGIC, BackupError, decrypt_file, encrypt_file, latest
from conftest import skip_or_fail
from crm.models import Customer
from crm.tests.factories import CustomerFactory

KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def dump_tools():
    missing = shutil.which("pg_dump") is None or shutil.which("pg_restore") is None
    if connection.vendor == "postgresql" and missing:
        skip_or_fail("pg_dump / pg_restore are not installed")


@contextmanager
def lax_umask():
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _backup(directory: Path) -> Path:
    with lax_umask():
        call_command("backup_db", output_dir=directory)
    (path,) = directory.iterdir()
    return path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("key", ["", KEY], ids=["plain", "encrypted"])
def test_a_backup_is_readable_by_its_owner_only(personas, settings, tmp_path, key):
    settings.BACKUP_ENCRYPTION_KEY = key

    path = _backup(tmp_path / "backups")

    assert _mode(path) == 0o600
    assert _mode(tmp_path / "backups") == 0o700
    assert path.name.endswith(".enc") == bool(key)


@pytest.mark.django_db(transaction=True)
def test_an_encrypted_backup_leaves_no_plain_copy_and_restores(personas, settings, tmp_path):
    settings.BACKUP_ENCRYPTION_KEY = KEY
    customer = CustomerFactory(owner=personas.salesperson, name="Encrypted Steel Co.")

    path = _backup(tmp_path)

    content = path.read_bytes()
    assert content.startswith(MAGIC)
    assert not any(plain in content for plain in (b"Encrypted Steel Co.", b"SQLite format 3", b"PGDMP"))
    assert latest(tmp_path) == path
    Customer.objects.filter(pk=customer.pk).update(name="Changed after the backup")

    assert _restored_customer_name(path, customer.pk) == "Encrypted Steel Co."


def _restored_customer_name(path: Path, pk: int) -> str:
    """Restore ``path`` (SQLite: over the test database; PostgreSQL: into a scratch database)
    and read one customer's name back."""
    if connection.vendor == "sqlite":
        call_command("restore_db", str(path), no_input=True)
        return Customer.objects.get(pk=pk).name
    import psycopg2

    scratch = f"restore_enc_{uuid.uuid4().hex[:12]}"
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
            cursor.execute("SELECT name FROM crm_customer WHERE id = %s", [pk])
            (name,) = cursor.fetchone()
        restored.close()
        return name
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


@pytest.mark.django_db
def test_an_encrypted_backup_needs_its_key_to_restore(settings, tmp_path):
    suffix = ".sqlite3.enc" if connection.vendor == "sqlite" else ".dump.enc"
    path = tmp_path / f"funnel-20260101T000000000000Z{suffix}"
    plain = tmp_path / "plain"
    plain.write_bytes(b"backup")
    encrypt_file(plain, path, KEY)

    settings.BACKUP_ENCRYPTION_KEY = ""
    with pytest.raises(CommandError, match="is encrypted: set BACKUP_ENCRYPTION_KEY"):
        call_command("restore_db", str(path), no_input=True)
    settings.BACKUP_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(CommandError, match="wrong BACKUP_ENCRYPTION_KEY, or the file was altered"):
        call_command("restore_db", str(path), no_input=True)


@pytest.mark.django_db
def test_a_key_that_is_not_a_fernet_key_is_refused_before_anything_is_written(settings, tmp_path):
    settings.BACKUP_ENCRYPTION_KEY = "not-a-key"

    with pytest.raises(CommandError, match="is not a Fernet key"):
        call_command("backup_db", output_dir=tmp_path / "backups")

    assert not (tmp_path / "backups").exists()


def _encrypted(tmp_path: Path, content: bytes, chunk: int | None = None, monkeypatch=None) -> Path:
    if chunk is not None:
        monkeypatch.setattr("config.backups.CHUNK", chunk)
    plain, encrypted = tmp_path / "plain", tmp_path / "backup.enc"
    plain.write_bytes(content)
    encrypt_file(plain, encrypted, KEY)
    return encrypted


def _decrypt(path: Path) -> bytes:
    out = path.with_name("decrypted")
    with out.open("wb") as target:
        decrypt_file(path, target, KEY)
    return out.read_bytes()


@pytest.mark.parametrize("content", [b"", b"x", os.urandom(10_000)], ids=["empty", "one-byte", "random-10k"])
def test_encryption_round_trips_in_chunks(tmp_path, monkeypatch, content):
    path = _encrypted(tmp_path, content, chunk=1000, monkeypatch=monkeypatch)

    assert _decrypt(path) == content
    assert _mode(path) == 0o600


def _chunks(path: Path) -> tuple[bytes, list[bytes]]:
    """The header and the length-prefixed tokens of an encrypted backup."""
    data = path.read_bytes()
    position, tokens = len(MAGIC), []
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        tokens.append(data[position : position + 4 + length])
        position += 4 + length
    return data[: len(MAGIC)], tokens


@pytest.mark.parametrize("tamper", ["flip", "drop_last", "swap", "append", "cut"])
def test_an_altered_encrypted_backup_is_refused(tmp_path, monkeypatch, tamper):
    path = _encrypted(tmp_path, os.urandom(5000), chunk=1000, monkeypatch=monkeypatch)
    header, tokens = _chunks(path)
    assert len(tokens) == 5
    if tamper == "flip":
        data = bytearray(path.read_bytes())
        data[len(MAGIC) + 40] ^= 1
        path.write_bytes(bytes(data))
    elif tamper == "drop_last":
        path.write_bytes(header + b"".join(tokens[:-1]))
    elif tamper == "swap":
        path.write_bytes(header + b"".join([tokens[1], tokens[0], *tokens[2:]]))
    elif tamper == "append":
        path.write_bytes(header + b"".join(tokens) + tokens[0])
    else:
        path.write_bytes(path.read_bytes()[:-10])

    with pytest.raises(BackupError):
        _decrypt(path)

"""Tokens issued before knox (``rest_framework.authtoken``, keys stored in plain text)
keep working: each becomes an ``ApiToken`` holding only the hash of its key, with the
default lifetime from now, and the plain keys are deleted from the old table.

The old app is no longer installed, so its table is read with SQL, and only if it
exists (a new database never had it)."""
from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

OLD_TABLE = "authtoken_token"


def move_tokens(apps, schema_editor):
    from knox.crypto import hash_token
    from knox.settings import CONSTANTS

    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("config", "ApiToken")
    ttl = settings.REST_KNOX.get("TOKEN_TTL", timedelta(days=30))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id FROM {OLD_TABLE}")  # noqa: S608 - a constant name
        rows = cursor.fetchall()
    expiry = timezone.now() + ttl
    ApiToken.objects.bulk_create([
        ApiToken(digest=hash_token(key), token_key=key[:CONSTANTS.TOKEN_KEY_LENGTH], user_id=user_id,
                 expiry=expiry, name="Earlier token")
        for key, user_id in rows
    ])
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {OLD_TABLE}")  # noqa: S608 - a constant name


class Migration(migrations.Migration):
    dependencies = [
        ("config", "0001_api_tokens"),
    ]

    # Not reversible into plain keys (only their hashes are left): going back drops nothing.
    operations = [migrations.RunPython(move_tokens, migrations.RunPython.noop)]

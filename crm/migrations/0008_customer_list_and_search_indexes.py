"""Indexes for the big customer lists: live customers by name, and trigram indexes for
the search's substring matches (PostgreSQL only: pg_trgm; elsewhere a no-op)."""
from django.db import migrations, models

# Each matches the SQL Django writes for the search's lookups: ``name__icontains`` is
# UPPER("name"::text) LIKE …, ``phone_digits__contains`` is "phone_digits"::text LIKE ….
TRIGRAM_INDEXES = [
    ("customer_name_trgm_idx", "crm_customer", "UPPER(name)"),
    ("customer_phone_trgm_idx", "crm_customer", "phone_digits"),
    ("contact_name_trgm_idx", "crm_contact", "UPPER(name)"),
    ("contact_phone_trgm_idx", "crm_contact", "phone_digits"),
]


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in TRIGRAM_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression} gin_trgm_ops)")


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _expression in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0007_customer_stagnant_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(condition=models.Q(("archived_at__isnull", True)), fields=["name", "id"],
                               name="customer_live_name_idx"),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]

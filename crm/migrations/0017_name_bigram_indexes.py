"""Bigram indexes for two-character name searches (PostgreSQL only; elsewhere a no-op).

A trigram index cannot serve a search shorter than a trigram, and a Chinese name is often
two characters (林军): such a search read every name it could see — a manager's team at
100,000 customers took 150 ms. ``crm_name_bigrams(name)`` is the set of a name's
upper-cased two-character pieces; its GIN index answers ``crm_name_bigrams(name) @>
ARRAY['林军']``, which holds exactly when the name contains 林军 in any case
(``crm.selectors.HasBigram`` writes that condition).
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION crm_name_bigrams(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(upper(name), i, 2)), '{}')
    FROM generate_series(1, char_length(name) - 1) AS i
$$
"""
INDEXES = [
    ("customer_name_bigram_idx", "crm_customer"),
    ("contact_name_bigram_idx", "crm_contact"),
]


def create_bigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for name, table in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (crm_name_bigrams(name))"
        )


def drop_bigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("DROP FUNCTION IF EXISTS crm_name_bigrams(text)")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0016_restore_customer_live_name_unique"),
    ]

    operations = [
        migrations.RunPython(create_bigram_indexes, drop_bigram_indexes),
    ]

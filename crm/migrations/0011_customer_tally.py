"""The customer tally (issue 8): live customers' count, expected and weighted value per
(owner, grade), kept by triggers on ``crm_customer``, so the funnel dashboard reads about a
thousand rows instead of every customer (``crm.models.CustomerTally``).

* The table is created here beside its triggers (the model is not managed by Django), and
  filled from the customers in the same transaction that creates the triggers: on
  PostgreSQL, creating a trigger locks the customer table against writes until the commit,
  so no write falls between the fill and the first delta.
* PostgreSQL: statement-level triggers with transition tables. One INSERT per statement,
  grouped by (owner, grade), so a 20,000-row import or a bulk reassignment adds a few
  rows, and an update that moves no total (a logged call, a changed phone number) adds
  none. TRUNCATE (only ``flush`` does it) empties the tally.
* SQLite (the embedded default): row-level triggers, the only kind it has; an update
  only fires when a column the tally sums changes.
* ``customer_live_stagnant_idx`` replaces ``customer_stagnant_idx``: stuck customers are
  always live ones, and with owner and grade included the dashboard counts them per
  (owner, grade) from the index alone. ``customer_created_idx`` includes them too: the
  new-customer counts and this week's creations read it alone.

Reversible: going back drops the triggers and the table, and restores the old index.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TALLY_COLUMNS = "owner_id, grade_id, customers, expected_value, weighted_value"

POSTGRESQL_CREATE = [
    f"""
    CREATE FUNCTION crm_customer_tally() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            DELETE FROM crm_customertally;
        ELSIF TG_OP = 'INSERT' THEN
            INSERT INTO crm_customertally ({TALLY_COLUMNS})
            SELECT owner_id, grade_id, count(*), sum(expected_value), sum(weighted_value)
            FROM new_rows WHERE archived_at IS NULL GROUP BY owner_id, grade_id;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO crm_customertally ({TALLY_COLUMNS})
            SELECT owner_id, grade_id, -count(*), -sum(expected_value), -sum(weighted_value)
            FROM old_rows WHERE archived_at IS NULL GROUP BY owner_id, grade_id;
        ELSE
            INSERT INTO crm_customertally ({TALLY_COLUMNS})
            SELECT owner_id, grade_id, sum(customers), sum(expected_value), sum(weighted_value)
            FROM (
                SELECT owner_id, grade_id, 1 AS customers, expected_value, weighted_value
                FROM new_rows WHERE archived_at IS NULL
                UNION ALL
                SELECT owner_id, grade_id, -1, -expected_value, -weighted_value
                FROM old_rows WHERE archived_at IS NULL
            ) AS change
            GROUP BY owner_id, grade_id
            HAVING sum(customers) <> 0 OR sum(expected_value) <> 0 OR sum(weighted_value) <> 0;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER crm_customer_tally_insert AFTER INSERT ON crm_customer
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION crm_customer_tally()
    """,
    """
    CREATE TRIGGER crm_customer_tally_update AFTER UPDATE ON crm_customer
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_customer_tally()
    """,
    """
    CREATE TRIGGER crm_customer_tally_delete AFTER DELETE ON crm_customer
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION crm_customer_tally()
    """,
    """
    CREATE TRIGGER crm_customer_tally_truncate AFTER TRUNCATE ON crm_customer
    FOR EACH STATEMENT EXECUTE FUNCTION crm_customer_tally()
    """,
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER crm_customer_tally_{event} ON crm_customer" for event in ("insert", "update", "delete", "truncate")
] + ["DROP FUNCTION crm_customer_tally()"]

SQLITE_CREATE = [
    f"""
    CREATE TRIGGER crm_customer_tally_insert AFTER INSERT ON crm_customer
    WHEN NEW.archived_at IS NULL
    BEGIN
        INSERT INTO crm_customertally ({TALLY_COLUMNS})
        VALUES (NEW.owner_id, NEW.grade_id, 1, NEW.expected_value, NEW.weighted_value);
    END
    """,
    f"""
    CREATE TRIGGER crm_customer_tally_update
    AFTER UPDATE OF owner_id, grade_id, archived_at, expected_value, weighted_value ON crm_customer
    WHEN OLD.owner_id IS NOT NEW.owner_id OR OLD.grade_id IS NOT NEW.grade_id
        OR OLD.archived_at IS NOT NEW.archived_at OR OLD.expected_value IS NOT NEW.expected_value
        OR OLD.weighted_value IS NOT NEW.weighted_value
    BEGIN
        INSERT INTO crm_customertally ({TALLY_COLUMNS})
        SELECT OLD.owner_id, OLD.grade_id, -1, -OLD.expected_value, -OLD.weighted_value
        WHERE OLD.archived_at IS NULL;
        INSERT INTO crm_customertally ({TALLY_COLUMNS})
        SELECT NEW.owner_id, NEW.grade_id, 1, NEW.expected_value, NEW.weighted_value
        WHERE NEW.archived_at IS NULL;
    END
    """,
    f"""
    CREATE TRIGGER crm_customer_tally_delete AFTER DELETE ON crm_customer
    WHEN OLD.archived_at IS NULL
    BEGIN
        INSERT INTO crm_customertally ({TALLY_COLUMNS})
        VALUES (OLD.owner_id, OLD.grade_id, -1, -OLD.expected_value, -OLD.weighted_value);
    END
    """,
]
SQLITE_DROP = [f"DROP TRIGGER crm_customer_tally_{event}" for event in ("insert", "update", "delete")]

FILL = f"""
    INSERT INTO crm_customertally ({TALLY_COLUMNS})
    SELECT owner_id, grade_id, count(*), sum(expected_value), sum(weighted_value)
    FROM crm_customer WHERE archived_at IS NULL GROUP BY owner_id, grade_id
"""


def create_tally(apps, schema_editor):
    schema_editor.create_model(apps.get_model("crm", "CustomerTally"))
    postgresql = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRESQL_CREATE if postgresql else SQLITE_CREATE:
        schema_editor.execute(statement)
    schema_editor.execute(FILL)


def drop_tally(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRESQL_DROP if postgresql else SQLITE_DROP:
        schema_editor.execute(statement)
    schema_editor.delete_model(apps.get_model("crm", "CustomerTally"))


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0010_customer_index_pruning'),
        ('funnel', '0008_grade_change_covering_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='CustomerTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('owner', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('grade', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='funnel.grade')),
                ('customers', models.IntegerField()),
                ('expected_value', models.DecimalField(decimal_places=2, max_digits=24)),
                ('weighted_value', models.DecimalField(decimal_places=2, max_digits=24)),
            ],
            options={
                'db_table': 'crm_customertally',
                'managed': False,
            },
        ),
        migrations.RunPython(create_tally, drop_tally),
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_stagnant_idx',
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('archived_at__isnull', True)), fields=['stagnant_from'], include=('owner', 'grade'), name='customer_live_stagnant_idx'),
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_created_idx',
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['created_at'], include=('owner', 'grade'), name='customer_created_idx'),
        ),
    ]

"""The history is append-only in the database too (issue 17), on PostgreSQL: a trigger
refuses UPDATE and DELETE of security audit rows, whoever sends the SQL.

``history_is_append_only()`` is the trigger function the funnel's grade and owner
history uses as well (``funnel`` migration 0010). Called with the argument
``'purgeable'``, it lets a DELETE through when the transaction set
``funnel.allow_history_purge`` to ``on`` — the documented retention path,
``crm.audit.history_purge``. The security audit log is never purgeable. Row triggers
do not fire on TRUNCATE (only ``flush`` truncates; the application's database role
needs no TRUNCATE privilege in production).

SQLite (the embedded default) has no triggers here: the models refuse updates and
deletes, and ``verify_audit`` finds a changed audit row. Going back drops the trigger
and the function.
"""
from django.db import migrations

CREATE_FUNCTION = """
    CREATE OR REPLACE FUNCTION history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND TG_NARGS > 0 AND TG_ARGV[0] = 'purgeable'
                AND current_setting('funnel.allow_history_purge', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '% of % refused: the history is append-only', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Purges go through crm.audit.history_purge (see the README, Backups and audit).';
    END
    $$
"""
CREATE_TRIGGER = """
    CREATE TRIGGER crm_securityevent_append_only BEFORE UPDATE OR DELETE ON crm_securityevent
    FOR EACH ROW EXECUTE FUNCTION history_is_append_only()
"""
DROP = [
    "DROP TRIGGER IF EXISTS crm_securityevent_append_only ON crm_securityevent",
    "DROP FUNCTION IF EXISTS history_is_append_only()",
]


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_FUNCTION, params=None)  # its RAISE format has % signs, not parameters
        schema_editor.execute(CREATE_TRIGGER)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0013_security_event_hash_chain'),
    ]

    operations = [
        migrations.RunPython(create_trigger, drop_trigger),
    ]

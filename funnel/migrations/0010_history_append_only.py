"""The grade and owner history is append-only in the database too (issue 17), on
PostgreSQL: triggers refuse UPDATE and DELETE of grade-change and reassignment rows,
except a DELETE inside the documented retention purge (``crm.audit.history_purge``,
used by ``crm.services.purge_customer``). The trigger function is ``crm``'s
(migration 0014). A merge leaves these rows with the merged-away customer, so it needs
no way through. Going back drops the triggers.
"""
from django.db import migrations

TABLES = ("funnel_gradechange", "funnel_reassignment")


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION history_is_append_only('purgeable')")


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0014_security_event_append_only'),
        ('funnel', '0009_conflict_closed_status'),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers),
    ]

"""The forecast category a salesperson sets on a customer (issue 22; empty: the grade's
default), and an index of live customers by expected signing date for the forecast.

SQLite: adding a NOT NULL column rebuilds ``crm_customer``, which drops the tally
triggers (0011); they are created again after the change, and after going back.
PostgreSQL adds the column in place and keeps them.
"""
import importlib

from django.db import migrations, models

_tally = importlib.import_module("crm.migrations.0011_customer_tally")


def restore_sqlite_tally_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for event in ("insert", "update", "delete"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS crm_customer_tally_{event}")
    for statement in _tally.SQLITE_CREATE:
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0003_grade_forecast_category'),
        ('crm', '0019_infrastructure_in_core'),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, restore_sqlite_tally_triggers),
        migrations.AddField(
            model_name='customer',
            name='forecast_category',
            field=models.CharField(blank=True, choices=[('pipeline', 'Pipeline'), ('best_case', 'Best case'), ('commit', 'Commit'), ('omitted', 'Omitted')], default='', help_text="Empty: the grade's default. A commit needs an expected signing date and value.", max_length=10, verbose_name='forecast category'),
        ),
        migrations.AddField(
            model_name='historicalcustomer',
            name='forecast_category',
            field=models.CharField(blank=True, choices=[('pipeline', 'Pipeline'), ('best_case', 'Best case'), ('commit', 'Commit'), ('omitted', 'Omitted')], default='', help_text="Empty: the grade's default. A commit needs an expected signing date and value.", max_length=10, verbose_name='forecast category'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('archived_at__isnull', True), ('expected_signing_on__isnull', False)), fields=['expected_signing_on'], include=('owner', 'grade', 'forecast_category', 'expected_value', 'weighted_value'), name='customer_live_signing_idx'),
        ),
        migrations.RunPython(restore_sqlite_tally_triggers, migrations.RunPython.noop),
    ]

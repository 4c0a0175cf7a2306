"""The customer's grade (and the tally's, an unmanaged model the autodetector skips)
points at ``core.Grade`` (state only: same table, same column)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_initial'),
        ('crm', '0017_name_bigram_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='customer',
                    name='grade',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='customers', to='core.grade', verbose_name='grade'),
                ),
                migrations.AlterField(
                    model_name='historicalcustomer',
                    name='grade',
                    field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='core.grade', verbose_name='grade'),
                ),
                migrations.AlterField(
                    model_name='customertally',
                    name='grade',
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='core.grade'),
                ),
            ],
        ),
    ]

"""The grade flows point at ``core.Grade`` (state only), before funnel 0015 forgets its
own Grade: declared here as ``run_before``, so the funnel does not depend up on reports."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_initial'),
        ('reports', '0004_sales_meetings'),
    ]

    run_before = [('funnel', '0015_grade_moves_to_core')]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='gradeflowrollup',
                    name='from_grade',
                    field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.grade', verbose_name='from'),
                ),
                migrations.AlterField(
                    model_name='gradeflowrollup',
                    name='to_grade',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.grade', verbose_name='to'),
                ),
            ],
        ),
    ]

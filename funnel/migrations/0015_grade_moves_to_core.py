"""The funnel's references point at ``core.Grade`` and the funnel forgets its own Grade
(state only: no table changes). The content types (and so permissions and admin log
entries) follow the model to ``core``.
"""

import django.db.models.deletion
from core.migration_ops import move_content_types
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_initial'),
        ('crm', '0018_customer_grade_in_core'),
        ('funnel', '0014_won_handover_step'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='reassignment',
                    name='grade',
                    field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.grade', verbose_name='grade at the time'),
                ),
                migrations.AlterField(
                    model_name='handoverstep',
                    name='grade',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='handover_steps', to='core.grade', verbose_name='grade'),
                ),
                migrations.AlterField(
                    model_name='gradechange',
                    name='to_grade',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.grade', verbose_name='to'),
                ),
                migrations.AlterField(
                    model_name='stagnationalert',
                    name='grade',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.grade', verbose_name='grade'),
                ),
                migrations.AlterField(
                    model_name='gradechange',
                    name='from_grade',
                    field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.grade', verbose_name='from'),
                ),
                migrations.RemoveField(
                    model_name='historicalgrade',
                    name='history_user',
                ),
                migrations.DeleteModel(
                    name='Grade',
                ),
                migrations.DeleteModel(
                    name='HistoricalGrade',
                ),
            ],
        ),
        move_content_types(["grade", "historicalgrade"], "funnel", "core"),
    ]

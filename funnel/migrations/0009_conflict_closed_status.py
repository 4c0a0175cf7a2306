"""Conflict claims may be closed without a decision: the customer went to the public pool,
or the claimant left. A new choice only, no change to the table."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('funnel', '0008_grade_change_covering_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='conflictclaim',
            name='status',
            field=models.CharField(choices=[('open', 'Open'), ('kept', 'Kept by the current owner'), ('transferred', 'Transferred to the claimant'), ('shared', 'Shared as a note'), ('closed', 'Closed without a decision')], default='open', max_length=12, verbose_name='status'),
        ),
    ]

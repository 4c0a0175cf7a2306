"""The grades move here from the funnel app, in the migration state only: the tables keep
their names (``funnel_grade``, ``funnel_historicalgrade``), made by funnel 0001 on a new
database and left as they are on a running one. crm 0018, reports 0005 and funnel 0015
point the references here; funnel 0015 then drops the old state.
"""

import django.core.validators
import django.db.models.deletion
import simple_history.models
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Grade',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.CharField(max_length=10, unique=True, verbose_name='code')),
                        ('name', models.CharField(max_length=100, verbose_name='name (English)')),
                        ('name_zh', models.CharField(blank=True, max_length=100, verbose_name='name (Chinese)')),
                        ('order', models.PositiveSmallIntegerField(help_text='Position in the funnel: 1 is the top (prospects).', unique=True, verbose_name='order')),
                        ('kind', models.CharField(choices=[('open', 'Open'), ('won', 'Won'), ('lost', 'Lost')], default='open', max_length=10, verbose_name='kind')),
                        ('probability', models.DecimalField(decimal_places=2, max_digits=5, validators=[django.core.validators.MinValueValidator(Decimal('0')), django.core.validators.MaxValueValidator(Decimal('100'))], verbose_name='win probability (%)')),
                        ('stagnation_days', models.PositiveSmallIntegerField(blank=True, help_text='A customer longer than this at the grade raises a stagnation alert.', null=True, verbose_name='stagnation limit (days)')),
                        ('locked', models.BooleanField(default=False, help_text='No change of owner while a customer is at this grade.', verbose_name='locked')),
                        ('pool_return_days', models.PositiveSmallIntegerField(blank=True, help_text='Customers with no activity for this many days go back to the public pool.', null=True, verbose_name='pool-return days')),
                        ('requires_decision_maker', models.BooleanField(default=False, help_text='Customers at this grade are flagged when no decision maker is identified (C and above).', verbose_name='requires a decision maker')),
                        ('playbook', models.TextField(blank=True, help_text='What to do at this grade; shown on the customer page.', verbose_name='playbook (English)')),
                        ('playbook_zh', models.TextField(blank=True, verbose_name='playbook (Chinese)')),
                    ],
                    options={
                        'verbose_name': 'grade',
                        'verbose_name_plural': 'grades',
                        'db_table': 'funnel_grade',
                        'ordering': ['order'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('probability__gte', 0), ('probability__lte', 100)), name='grade_probability_0_100'), models.CheckConstraint(condition=models.Q(models.Q(('kind', 'won'), _negated=True), ('probability', 100), _connector='OR'), name='grade_won_is_100'), models.CheckConstraint(condition=models.Q(models.Q(('kind', 'lost'), _negated=True), ('probability', 0), _connector='OR'), name='grade_lost_is_0')],
                    },
                ),
                migrations.CreateModel(
                    name='HistoricalGrade',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('code', models.CharField(db_index=True, max_length=10, verbose_name='code')),
                        ('name', models.CharField(max_length=100, verbose_name='name (English)')),
                        ('name_zh', models.CharField(blank=True, max_length=100, verbose_name='name (Chinese)')),
                        ('order', models.PositiveSmallIntegerField(db_index=True, help_text='Position in the funnel: 1 is the top (prospects).', verbose_name='order')),
                        ('kind', models.CharField(choices=[('open', 'Open'), ('won', 'Won'), ('lost', 'Lost')], default='open', max_length=10, verbose_name='kind')),
                        ('probability', models.DecimalField(decimal_places=2, max_digits=5, validators=[django.core.validators.MinValueValidator(Decimal('0')), django.core.validators.MaxValueValidator(Decimal('100'))], verbose_name='win probability (%)')),
                        ('stagnation_days', models.PositiveSmallIntegerField(blank=True, help_text='A customer longer than this at the grade raises a stagnation alert.', null=True, verbose_name='stagnation limit (days)')),
                        ('locked', models.BooleanField(default=False, help_text='No change of owner while a customer is at this grade.', verbose_name='locked')),
                        ('pool_return_days', models.PositiveSmallIntegerField(blank=True, help_text='Customers with no activity for this many days go back to the public pool.', null=True, verbose_name='pool-return days')),
                        ('requires_decision_maker', models.BooleanField(default=False, help_text='Customers at this grade are flagged when no decision maker is identified (C and above).', verbose_name='requires a decision maker')),
                        ('playbook', models.TextField(blank=True, help_text='What to do at this grade; shown on the customer page.', verbose_name='playbook (English)')),
                        ('playbook_zh', models.TextField(blank=True, verbose_name='playbook (Chinese)')),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'historical grade',
                        'verbose_name_plural': 'historical grades',
                        'db_table': 'funnel_historicalgrade',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
            ],
        ),
    ]

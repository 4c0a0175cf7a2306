"""Customer indexes for speed at scale (issue 8), reviewed.

* ``customer_owner_grade_idx`` becomes covering: the funnel dashboard's GROUP BY owner,
  grade reads the index alone (an index-only scan, about half the time of the table scan).
* Dropped as redundant: the single-column ``owner_id`` and ``grade_id`` indexes (every
  query on them is served by an owner-first or grade-first composite), and the
  ``varchar_pattern_ops`` copies of ``name_normalized``, ``phone_digits`` and
  ``email_normalized`` (no LIKE queries on them: duplicates compare exactly, search uses
  the trigram indexes). Fewer indexes make imports and every customer write cheaper.
* ``merged_into`` and ``import_batch`` are empty for almost every customer: partial indexes.
* ``customer_owner_tier_live_idx``: the list's tier filter counts a team's live
  customers of a tier from the index alone.
* ``customer_live_follow_up_idx``: a team's or the company's most overdue follow-ups
  (the weekly report, lists sorted by follow-up) walk it instead of sorting every customer.

Reversible: going back restores the previous indexes.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0009_customer_weighted_value'),
        ('funnel', '0008_grade_change_covering_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_owner_grade_idx',
        ),
        migrations.AlterField(
            model_name='customer',
            name='email_normalized',
            field=models.CharField(blank=True, editable=False, max_length=254),
        ),
        migrations.AlterField(
            model_name='customer',
            name='grade',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='customers', to='funnel.grade', verbose_name='grade'),
        ),
        migrations.AlterField(
            model_name='customer',
            name='import_batch',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='customers', to='crm.importbatch', verbose_name='import'),
        ),
        migrations.AlterField(
            model_name='customer',
            name='merged_into',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='merged_from', to='crm.customer'),
        ),
        migrations.AlterField(
            model_name='customer',
            name='name_normalized',
            field=models.CharField(editable=False, max_length=200),
        ),
        migrations.AlterField(
            model_name='customer',
            name='owner',
            field=models.ForeignKey(blank=True, db_index=False, help_text='Empty means the customer is in the public pool.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='customers', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
        ),
        migrations.AlterField(
            model_name='customer',
            name='phone_digits',
            field=models.CharField(blank=True, editable=False, max_length=40),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['owner', 'grade', 'grade_entered_at'], include=('archived_at', 'expected_value', 'weighted_value', 'stagnant_from', 'created_at'), name='customer_owner_grade_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('archived_at__isnull', True)), fields=['next_follow_up_on', 'id'], name='customer_live_follow_up_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('archived_at__isnull', True)), fields=['owner', 'tier'], name='customer_owner_tier_live_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['name_normalized'], name='customer_name_normalized_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['phone_digits'], name='customer_phone_digits_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['email_normalized'], name='customer_email_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('merged_into__isnull', False)), fields=['merged_into'], name='customer_merged_into_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('import_batch__isnull', False)), fields=['import_batch'], name='customer_import_batch_idx'),
        ),
    ]

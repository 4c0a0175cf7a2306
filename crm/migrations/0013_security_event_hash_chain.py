"""Chain the security audit log (issue 17): every event gets ``prev_hash`` and ``row_hash``
(``crm.audit_chain``), and one ``AuditChainHead`` row holds the last event's id and hash.

The events already written are chained here in id order, in batches, and the head is
set to the last of them. Going back drops the fields and the head.
"""
from django.db import migrations, models

from core.audit_chain import GENESIS, HASHED_FIELDS, row_hash

BATCH = 2000


def chain_existing_events(apps, schema_editor):
    SecurityEvent = apps.get_model("crm", "SecurityEvent")
    AuditChainHead = apps.get_model("crm", "AuditChainHead")
    last_id, last_hash = 0, GENESIS
    while True:
        batch = list(SecurityEvent.objects.filter(pk__gt=last_id).order_by("pk")[:BATCH])
        for event in batch:
            event.prev_hash = last_hash
            event.row_hash = last_hash = row_hash({name: getattr(event, name) for name in HASHED_FIELDS},
                                                  event.prev_hash)
        SecurityEvent.objects.bulk_update(batch, ["prev_hash", "row_hash"])
        if len(batch) < BATCH:
            break
        last_id = batch[-1].pk
    newest = SecurityEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    AuditChainHead.objects.create(pk=1, last_event_id=newest, last_hash=last_hash)


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0012_security_actions_tokens_throttling_reveals'),
    ]

    operations = [
        migrations.AddField(
            model_name='securityevent',
            name='prev_hash',
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="previous event's hash"),
        ),
        migrations.AddField(
            model_name='securityevent',
            name='row_hash',
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name='hash'),
        ),
        migrations.CreateModel(
            name='AuditChainHead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('last_event_id', models.BigIntegerField(null=True)),
                ('last_hash', models.CharField(max_length=64)),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(('pk', 1)), name='auditchainhead_one_row')],
            },
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
    ]

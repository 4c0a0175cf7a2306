"""The crm forgets the outbox, the heartbeat and the security audit log, which now live
in ``core`` (state only: no table changes). Their content types (and so permissions and
admin log entries) follow the models.
"""

from core.migration_ops import move_content_types
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_infrastructure_from_crm'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('crm', '0018_customer_grade_in_core'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='AuditChainHead',
                ),
                migrations.DeleteModel(
                    name='OutboxMessage',
                ),
                migrations.RemoveField(
                    model_name='securityevent',
                    name='actor',
                ),
                migrations.DeleteModel(
                    name='WorkerHeartbeat',
                ),
                migrations.DeleteModel(
                    name='SecurityEvent',
                ),
            ],
        ),
        move_content_types(["outboxmessage", "workerheartbeat", "securityevent", "auditchainhead"], "crm", "core"),
    ]

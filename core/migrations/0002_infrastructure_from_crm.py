"""The outbox, the worker heartbeat and the security audit log move here from the crm
app, in the migration state only: their tables keep their names (``crm_outboxmessage``,
``crm_securityevent``…), made by the crm migrations on a new database and left as they
are, with their rows and PostgreSQL triggers, on a running one. crm 0019 drops the old
state and moves the content types.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='WorkerHeartbeat',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=50, unique=True)),
                        ('beat_at', models.DateTimeField()),
                    ],
                    options={
                        'db_table': 'crm_workerheartbeat',
                    },
                ),
                migrations.CreateModel(
                    name='AuditChainHead',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('last_event_id', models.BigIntegerField(null=True)),
                        ('last_hash', models.CharField(max_length=64)),
                    ],
                    options={
                        'db_table': 'crm_auditchainhead',
                        'constraints': [models.CheckConstraint(condition=models.Q(('pk', 1)), name='auditchainhead_one_row')],
                    },
                ),
                migrations.CreateModel(
                    name='OutboxMessage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('task_name', models.CharField(max_length=200)),
                        ('kwargs', models.JSONField(default=dict)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('published_at', models.DateTimeField(blank=True, null=True)),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('last_error', models.TextField(blank=True)),
                    ],
                    options={
                        'db_table': 'crm_outboxmessage',
                        'indexes': [models.Index(condition=models.Q(('published_at__isnull', True)), fields=['created_at'], name='outbox_pending_idx')],
                    },
                ),
                migrations.CreateModel(
                    name='SecurityEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='time')),
                        ('username', models.CharField(blank=True, max_length=150, verbose_name='username')),
                        ('ip', models.GenericIPAddressField(blank=True, null=True, verbose_name='IP address')),
                        ('action', models.CharField(choices=[('login', 'Log-in'), ('login_failed', 'Failed log-in'), ('lockout', 'Lockout'), ('logout', 'Log-out'), ('mfa_enrolled', 'Two-factor authentication turned on'), ('mfa_disabled', 'Two-factor authentication turned off'), ('mfa_verified', 'Second factor verified'), ('mfa_failed', 'Wrong second factor'), ('recovery_codes', 'Recovery codes renewed'), ('password_changed', 'Password changed'), ('token_issued', 'API token issued'), ('token_revoked', 'API token revoked'), ('login_throttled', 'Log-ins throttled'), ('login_unlocked', 'Log-in unlocked'), ('owner_revealed', "Duplicate check named another team's owner"), ('access_denied', 'Access denied'), ('export', 'Export'), ('import', 'Import'), ('reassign', 'Reassignment'), ('archive', 'Archive'), ('restore', 'Restore'), ('merge', 'Merge'), ('purge', 'Purge'), ('user_changed', 'User changed'), ('team_changed', 'Team changed'), ('grade_config', 'Grade configuration changed'), ('settings_changed', 'Settings changed'), ('approval', 'Approval')], max_length=30, verbose_name='action')),
                        ('outcome', models.CharField(choices=[('success', 'Success'), ('failure', 'Failure'), ('denied', 'Denied')], default='success', max_length=10, verbose_name='outcome')),
                        ('object_type', models.CharField(blank=True, max_length=60, verbose_name='object type')),
                        ('object_id', models.CharField(blank=True, max_length=64, verbose_name='object id')),
                        ('object_repr', models.CharField(blank=True, max_length=200, verbose_name='object')),
                        ('detail', models.JSONField(blank=True, default=dict, verbose_name='detail')),
                        ('prev_hash', models.CharField(blank=True, editable=False, max_length=64, verbose_name="previous event's hash")),
                        ('row_hash', models.CharField(blank=True, editable=False, max_length=64, verbose_name='hash')),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='actor')),
                    ],
                    options={
                        'verbose_name': 'security event',
                        'verbose_name_plural': 'security events',
                        'db_table': 'crm_securityevent',
                        'ordering': ['-created_at', '-pk'],
                        'indexes': [models.Index(fields=['action', 'created_at'], name='securityevent_action_idx'), models.Index(fields=['actor', 'created_at'], name='securityevent_actor_idx'), models.Index(fields=['object_type', 'object_id'], name='securityevent_object_idx')],
                    },
                ),
            ],
        ),
    ]

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The append-only security audit log (logins, denials, exports, purges…)."""

    dependencies = [
        ("crm", "0005_import_batches"),
    ]

    operations = [
        migrations.CreateModel(
            name="SecurityEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now,
                                                    verbose_name="time")),
                ("username", models.CharField(blank=True, max_length=150, verbose_name="username")),
                ("ip", models.GenericIPAddressField(blank=True, null=True, verbose_name="IP address")),
                ("action", models.CharField(choices=[
                    ("login", "Log-in"), ("login_failed", "Failed log-in"), ("lockout", "Lockout"),
                    ("logout", "Log-out"), ("mfa_enrolled", "Two-factor authentication turned on"),
                    ("mfa_disabled", "Two-factor authentication turned off"),
                    ("mfa_verified", "Second factor verified"), ("mfa_failed", "Wrong second factor"),
                    ("recovery_codes", "Recovery codes renewed"), ("password_changed", "Password changed"),
                    ("token_issued", "API token issued"), ("access_denied", "Access denied"),
                    ("export", "Export"), ("import", "Import"), ("reassign", "Reassignment"),
                    ("archive", "Archive"), ("restore", "Restore"), ("merge", "Merge"), ("purge", "Purge"),
                    ("user_changed", "User changed"), ("team_changed", "Team changed"),
                    ("grade_config", "Grade configuration changed"), ("settings_changed", "Settings changed"),
                    ("approval", "Approval"),
                ], max_length=30, verbose_name="action")),
                ("outcome", models.CharField(choices=[("success", "Success"), ("failure", "Failure"),
                                                      ("denied", "Denied")],
                                             default="success", max_length=10, verbose_name="outcome")),
                ("object_type", models.CharField(blank=True, max_length=60, verbose_name="object type")),
                ("object_id", models.CharField(blank=True, max_length=64, verbose_name="object id")),
                ("object_repr", models.CharField(blank=True, max_length=200, verbose_name="object")),
                ("detail", models.JSONField(blank=True, default=dict, verbose_name="detail")),
                ("actor", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                            related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="actor")),
            ],
            options={
                "verbose_name": "security event",
                "verbose_name_plural": "security events",
                "ordering": ["-created_at", "-pk"],
                "indexes": [
                    models.Index(fields=["action", "created_at"], name="securityevent_action_idx"),
                    models.Index(fields=["actor", "created_at"], name="securityevent_actor_idx"),
                    models.Index(fields=["object_type", "object_id"], name="securityevent_object_idx"),
                ],
            },
        ),
    ]

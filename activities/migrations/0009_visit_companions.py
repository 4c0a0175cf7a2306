import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """陪同拜访: the people who went along on a visit, and their coaching notes."""

    dependencies = [
        ("activities", "0008_fax_channel_and_proposal_sent"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="VisitCompanion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("coaching_note", models.TextField(blank=True, verbose_name="coaching note")),
                ("noted_at", models.DateTimeField(blank=True, null=True, verbose_name="noted at")),
                (
                    "added_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="added at"),
                ),
                (
                    "added_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="added by",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="visits_joined",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="companion",
                    ),
                ),
                (
                    "visit",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="companions",
                        to="activities.visit",
                        verbose_name="visit",
                    ),
                ),
            ],
            options={
                "verbose_name": "visit companion",
                "verbose_name_plural": "visit companions",
                "ordering": ["added_at", "pk"],
                "indexes": [models.Index(fields=["user", "visit"], name="visitcompanion_user_visit_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("visit", "user"), name="visitcompanion_one_per_visit_and_user"
                    )
                ],
            },
        ),
    ]

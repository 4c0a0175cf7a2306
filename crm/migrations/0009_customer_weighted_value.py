"""Store each customer's weighted value (expected value × probability) so lists sort on
an index instead of computing and sorting every row; backfilled in one UPDATE."""
from decimal import Decimal

from django.db import migrations, models
from django.db.models.functions import Coalesce, Round


def backfill(apps, schema_editor):
    """The same rounding as ``crm.services.refresh_weighted_values``, written here against
    the historical models so later changes to the app do not change this migration."""
    Customer = apps.get_model("crm", "Customer")
    Grade = apps.get_model("funnel", "Grade")
    grade = Grade.objects.filter(pk=models.OuterRef("grade_id"))
    probability = Coalesce("probability_override", models.Subquery(grade.values("probability")))
    Customer.objects.update(weighted_value=Round(
        models.F("expected_value") * probability / models.Value(Decimal(100)),
        precision=2, output_field=models.DecimalField(max_digits=18, decimal_places=2)))


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0008_customer_list_and_search_indexes"),
        ("funnel", "0008_grade_change_covering_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="weighted_value",
            field=models.DecimalField(decimal_places=2, default=Decimal("0"), editable=False, max_digits=18,
                                      verbose_name="weighted value"),
        ),
        # Reversed, the column is dropped: nothing to undo.
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(models.OrderBy(models.F("weighted_value"), descending=True), models.F("id"),
                               condition=models.Q(("archived_at__isnull", True)),
                               name="customer_live_weighted_idx"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(models.F("owner"), models.OrderBy(models.F("weighted_value"), descending=True),
                               models.F("id"), condition=models.Q(("archived_at__isnull", True)),
                               name="customer_owner_weighted_idx"),
        ),
    ]

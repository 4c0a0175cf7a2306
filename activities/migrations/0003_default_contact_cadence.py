"""Default contact cadence per tier: priority — call every 30 days, visit every 90;
normal — 90 / 180; low — 180 / 365."""
from django.db import migrations

DEFAULT_CADENCE = {
    "priority": (30, 90),
    "normal": (90, 180),
    "low": (180, 365),
}


def seed_cadence(apps, schema_editor):
    CadenceRule = apps.get_model("activities", "CadenceRule")
    for tier, (call_days, visit_days) in DEFAULT_CADENCE.items():
        CadenceRule.objects.update_or_create(
            tier=tier, defaults={"call_every_days": call_days, "visit_every_days": visit_days},
        )


def remove_cadence(apps, schema_editor):
    CadenceRule = apps.get_model("activities", "CadenceRule")
    CadenceRule.objects.filter(tier__in=list(DEFAULT_CADENCE)).delete()


class Migration(migrations.Migration):
    dependencies = [("activities", "0002_objection_catalog")]
    operations = [migrations.RunPython(seed_cadence, remove_cadence)]

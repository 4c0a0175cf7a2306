"""Default handover template of won (成交) customers: a visit by the new owner within
7 days, for every won grade that has no handover step yet."""
from django.db import migrations

KIND, DUE_IN_DAYS = "visit", 7
DESCRIPTION = ("Visit by the new owner: introduce yourself to the customer, check delivery, payment and "
               "satisfaction, and plan the repeat order.")
DESCRIPTION_ZH = "新负责人上门拜访:向客户介绍自己,确认交付、回款和满意度,计划复购。"


def create_won_step(apps, schema_editor):
    Grade = apps.get_model("funnel", "Grade")
    HandoverStep = apps.get_model("funnel", "HandoverStep")
    for grade in Grade.objects.filter(kind="won", handover_steps__isnull=True):
        HandoverStep.objects.create(grade=grade, kind=KIND, due_in_days=DUE_IN_DAYS, order=1,
                                    description=DESCRIPTION, description_zh=DESCRIPTION_ZH)


def remove_won_step(apps, schema_editor):
    HandoverStep = apps.get_model("funnel", "HandoverStep")
    HandoverStep.objects.filter(grade__kind="won", description=DESCRIPTION).delete()


class Migration(migrations.Migration):
    dependencies = [("funnel", "0013_concentration_guard_settings")]
    operations = [migrations.RunPython(create_won_step, remove_won_step)]

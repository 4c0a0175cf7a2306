"""Default handover templates of the method: A/B on-site visit within 3 days, C a phone
call within 5 days, D/E a phone call or e-mail within 14 days."""
from django.db import migrations

DEFAULT_STEPS = [
    # grade codes, kind, due in days, description, description (Chinese)
    (("A", "B"), "visit", 3,
     "On-site visit by the new owner: introduce yourself, confirm the quotation and the next step.",
     "新负责人上门拜访:自我介绍,确认报价和下一步。"),
    (("C",), "phone", 5,
     "Phone call by the new owner: introduce yourself and agree a visit.",
     "新负责人电话联系:自我介绍并约定拜访。"),
    (("D", "E"), "phone_or_email", 14,
     "Phone call or e-mail by the new owner: introduce yourself and agree the next contact.",
     "新负责人电话或邮件联系:自我介绍并约定下次联系。"),
]


def create_default_steps(apps, schema_editor):
    Grade = apps.get_model("funnel", "Grade")
    HandoverStep = apps.get_model("funnel", "HandoverStep")
    for codes, kind, due_in_days, description, description_zh in DEFAULT_STEPS:
        for grade in Grade.objects.filter(code__in=codes):
            if not HandoverStep.objects.filter(grade=grade).exists():
                HandoverStep.objects.create(grade=grade, kind=kind, due_in_days=due_in_days, order=1,
                                            description=description, description_zh=description_zh)


def remove_default_steps(apps, schema_editor):
    HandoverStep = apps.get_model("funnel", "HandoverStep")
    for _codes, _kind, _due, description, _zh in DEFAULT_STEPS:
        HandoverStep.objects.filter(description=description).delete()


class Migration(migrations.Migration):
    dependencies = [("funnel", "0004_reassignments_and_handover_tasks")]
    operations = [migrations.RunPython(create_default_steps, remove_default_steps)]

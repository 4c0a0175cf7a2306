"""The seeded objections in the method's own words (issue 18: 5; SPEC §6): three of the
seven were shortened in Chinese. Only rows that still hold the old seed word change, so
an admin's own wording stays; the reverse puts the old seed words back the same way.
The words are written here, not imported from ``crm.glossary``: a migration is history."""

from django.db import migrations

# English name: (old seed word, the method's word)
WORDS = {
    "We do it in-house": ("我们自己内部能够供应", "我们自己内部能够供应你们这种产品(服务)"),
    "We have no budget": ("我们没有这方面的预算", "我们没有购买你们产品或服务的财务预算"),
    "We used you before and were not satisfied": (
        "过去用过你们的产品,但不满意",
        "我们过去曾用过你们的产品,但觉得不满意",
    ),
}


def _rename(apps, *, forward: bool):
    Objection = apps.get_model("activities", "Objection")
    for name, (old, new) in WORDS.items():
        before, after = (old, new) if forward else (new, old)
        Objection.objects.filter(name=name, name_zh=before).update(name_zh=after)


def use_the_methods_words(apps, schema_editor):
    _rename(apps, forward=True)


def restore_the_old_words(apps, schema_editor):
    _rename(apps, forward=False)


class Migration(migrations.Migration):
    # Lead: set this to the activities app's latest migration when placing the file.
    dependencies = [("activities", "0009_visit_companions")]

    operations = [migrations.RunPython(use_the_methods_words, restore_the_old_words)]

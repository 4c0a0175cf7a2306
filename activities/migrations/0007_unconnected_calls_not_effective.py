"""Legacy rows: a call that was only dialled reached nobody, so it is not effective
(issue 16: 2). One set-based UPDATE; the reverse leaves the rows as they are (which
calls were ticked before is not kept, and ticking them again would be wrong)."""

from django.db import migrations

CONNECTED = 2  # CallStage.CONNECTED: every stage below it was only dialled


def untick_unconnected_calls(apps, schema_editor):
    Activity = apps.get_model("activities", "Activity")
    Activity.objects.filter(kind="call", call_stage__lt=CONNECTED, effective=True).update(effective=False)


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0006_visits_check_in_photos_calendar_feed"),
    ]

    operations = [
        migrations.RunPython(untick_unconnected_calls, migrations.RunPython.noop),
    ]

"""Two live customers may not share a phone (issue 17): a partial unique index on
``phone_digits`` among live customers with a phone, beside the one on the normalized
name. The duplicate check in ``crm.services`` gives the friendly message; the index
settles the race of two people creating the same company at once.

A database that already holds live customers sharing a phone cannot take the index.
The first step finds them and stops the migration with their names and ids, so an
admin merges them first (customer page → Merge, on the running version) and migrates
again; nothing is changed behind anyone's back.

SQLite: a unique constraint with a condition is a plain ``CREATE UNIQUE INDEX … WHERE``,
no table rebuild, so the tally triggers on ``crm_customer`` (0011) stay. Going back
drops the index; the check has nothing to undo.
"""
from django.db import migrations, models
from django.db.models import Count

# How many groups of duplicates the error names (the admin fixes them and runs it again).
SHOWN = 20


def refuse_live_duplicate_phones(apps, schema_editor):
    Customer = apps.get_model("crm", "Customer")
    live = Customer.objects.using(schema_editor.connection.alias).filter(archived_at__isnull=True) \
        .exclude(phone_digits="")
    shared = list(live.values("phone_digits").annotate(n=Count("id")).filter(n__gt=1)
                  .order_by("phone_digits").values_list("phone_digits", flat=True)[:SHOWN + 1])
    if not shared:
        return
    groups = []
    for digits in shared[:SHOWN]:
        customers = live.filter(phone_digits=digits).order_by("pk")
        groups.append(f"  phone {digits}: " + "; ".join(f"#{c.pk} {c.name}" for c in customers))
    more = "\n  … and more" if len(shared) > SHOWN else ""
    raise RuntimeError(
        "Live customers share a phone number, so the unique phone index cannot be created:\n"
        + "\n".join(groups) + more
        + "\nMerge each group into one customer (customer page → Merge, as a manager or admin) or "
          "archive or correct the extra ones, then run `manage.py migrate` again."
    )


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0014_security_event_append_only'),
        ('funnel', '0010_history_append_only'),
    ]

    operations = [
        migrations.RunPython(refuse_live_duplicate_phones, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name='customer',
            constraint=models.UniqueConstraint(
                condition=models.Q(('archived_at__isnull', True),
                                   models.Q(('phone_digits', ''), _negated=True)),
                fields=('phone_digits',), name='customer_live_phone_unique',
            ),
        ),
    ]

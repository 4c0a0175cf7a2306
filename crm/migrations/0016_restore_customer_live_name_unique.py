"""Brings back ``customer_live_name_unique`` (two live customers may not share a
normalized name) where it went missing: on PostgreSQL, 0010's ``AlterField`` of
``name_normalized`` (dropping its plain index) also dropped this partial unique index,
as Django drops every single-column b-tree index of the column that ``Meta.indexes``
does not name. Since then nothing but the Python check kept parallel creates of one
customer apart (issue 17: two identical creates made two customers).

Live customers that came to share a normalized name meanwhile stop the migration, named,
to be merged first (customer page → Merge) — as in 0015 for phones. ``IF NOT EXISTS``:
SQLite rebuilt the table in 0010 and kept the index, and so did a database migrated
without 0010's drop. Going back leaves the index, which 0003 made.
"""
from django.db import migrations
from django.db.models import Count

# How many groups of duplicates the error names (the admin fixes them and runs it again).
SHOWN = 20
CREATE = ('CREATE UNIQUE INDEX IF NOT EXISTS "customer_live_name_unique" ON "crm_customer" ("name_normalized") '
          'WHERE "archived_at" IS NULL')


def refuse_live_duplicate_names(apps, schema_editor):
    Customer = apps.get_model("crm", "Customer")
    live = Customer.objects.using(schema_editor.connection.alias).filter(archived_at__isnull=True)
    shared = list(live.values("name_normalized").annotate(n=Count("id")).filter(n__gt=1)
                  .order_by("name_normalized").values_list("name_normalized", flat=True)[:SHOWN + 1])
    if not shared:
        return
    groups = []
    for normalized in shared[:SHOWN]:
        customers = live.filter(name_normalized=normalized).order_by("pk")
        groups.append(f"  name “{normalized}”: " + "; ".join(f"#{c.pk} {c.name}" for c in customers))
    more = "\n  … and more" if len(shared) > SHOWN else ""
    raise RuntimeError(
        "Live customers share a name, so the unique name index cannot be created:\n"
        + "\n".join(groups) + more
        + "\nMerge each group into one customer (customer page → Merge, as a manager or admin) or "
          "archive or rename the extra ones, then run `manage.py migrate` again."
    )


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0015_customer_live_phone_unique"),
    ]

    operations = [
        migrations.RunPython(refuse_live_duplicate_names, migrations.RunPython.noop, elidable=True),
        migrations.RunSQL(CREATE, migrations.RunSQL.noop, elidable=True),
    ]

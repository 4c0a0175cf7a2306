"""Steps the migrations that move a model between apps share."""

from django.db import migrations


def move_content_types(models: list[str], source: str, target: str) -> migrations.RunPython:
    """The content types (and so permissions and admin log entries) of ``models`` follow
    them from app ``source`` to ``target``; reversible. A type already in ``target`` (a
    database migrated back and forth) keeps its row."""

    def move(apps, from_app: str, to_app: str) -> None:
        content_types = apps.get_model("contenttypes", "ContentType").objects
        taken = set(content_types.filter(app_label=to_app, model__in=models).values_list("model", flat=True))
        content_types.filter(app_label=from_app, model__in=set(models) - taken).update(app_label=to_app)

    return migrations.RunPython(
        lambda apps, schema_editor: move(apps, source, target),
        lambda apps, schema_editor: move(apps, target, source),
    )

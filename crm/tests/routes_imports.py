"""Role expectations for the import, contact-export and activity-export routes (issue 7; see
``config/tests/route_matrix.py``). Kept apart from ``crm/tests/routes.py`` so the two
can be edited at once; listed in ``APP_ROUTE_MODULES``.

The world holds an import uploaded by ``salesperson`` and waiting for confirmation:
visible to them, their manager (team tree) and the admin; only the uploader may
confirm or cancel it (the others who see it get 403, everyone else 404).
"""

from itertools import count

from django.core.files.uploadedfile import SimpleUploadedFile

from config.tests.route_matrix import API, API_OWNED, PAGE, PAGE_OWNED, Route, expect
from crm.importing import services
from funnel.tests.factories import ensure_default_grades

_names = count()

PAGE_UPLOADER_POST = expect(404, 302, salesperson=302, manager=403, admin=403)
API_UPLOADER_POST = expect(404, 401, salesperson=200, manager=403, admin=403)
# Export: salespeople are refused unless the admin allows it (as for customers).
PAGE_EXPORT = expect(403, 302, manager=200, other_manager=200, admin=200)


def build_world(world) -> None:
    ensure_default_grades()
    content = f"Name,Grade\nRoute Matrix Import {next(_names)},E\n".encode()
    world.import_batch = services.start_import(
        by=world.personas.salesperson,
        kind="customers",
        upload=SimpleUploadedFile("world.csv", content),
    )


def _batch(w):
    return {"pk": w.import_batch.pk}


ROUTES = [
    Route("imports:list", PAGE),
    Route("imports:create", PAGE),
    Route("imports:template", PAGE, query="?kind=customers&language=zh-hans"),
    Route("imports:detail", PAGE_OWNED, kwargs=_batch),
    Route("imports:progress", PAGE_OWNED, kwargs=_batch),
    Route("imports:confirm", PAGE_UPLOADER_POST, method="post", kwargs=_batch, mutates=True),
    Route("imports:cancel", PAGE_UPLOADER_POST, method="post", kwargs=_batch, mutates=True),
    Route("crm:contact-export", PAGE_EXPORT, query="?file_format=csv"),
    # The activities export (activities/exports.py) shares the export helper and policy.
    Route("activities:activity-export", PAGE_EXPORT, query="?file_format=csv"),
    Route("import-list", API),
    Route("import-detail", API_OWNED, kwargs=_batch),
    Route("import-confirm", API_UPLOADER_POST, method="post", kwargs=_batch, mutates=True),
    Route("import-cancel", API_UPLOADER_POST, method="post", kwargs=_batch, mutates=True),
]

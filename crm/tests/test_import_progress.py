"""The progress bar moves while an import's rows are being written, yet the rows stay
invisible until the one transaction commits (all or nothing).

Another connection plays the page that polls the bar. PostgreSQL only: SQLite has a
single writer, held by the import, so there the bar waits at the write's start (CI sets
DATABASE_URL to PostgreSQL)."""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from conftest import skip_or_fail
from crm.importing import customers, services
from crm.models import Customer, ImportBatch, ImportState
from funnel.tests.factories import ensure_default_grades

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROWS = 2500  # three write batches of customers.BATCH_SIZE


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://…")
    ensure_default_grades()  # an earlier transactional test may have emptied the table


def _seen_by_the_page(batch_id: int) -> tuple[int, int]:
    """(progress, customers of the batch) as another connection (the polling page) sees them."""
    seen = []

    def poll():
        from django.db import connection as own_connection

        try:
            seen.append(
                (
                    ImportBatch.objects.get(pk=batch_id).progress,
                    Customer.objects.filter(import_batch_id=batch_id).count(),
                )
            )
        finally:
            own_connection.close()

    thread = threading.Thread(target=poll)
    thread.start()
    thread.join(timeout=10)
    return seen[0]


def test_the_page_sees_progress_during_the_write_but_no_rows_before_the_commit(
    personas, settings, monkeypatch
):
    settings.IMPORT_SYNC_MAX_BYTES = 10**9  # at once, in this thread
    assert customers.BATCH_SIZE == 1000
    content = "\n".join(["Name,Contact name"] + [f"Progress {i} Ltd,Li {i}" for i in range(ROWS)]).encode()
    batch = services.start_import(
        by=personas.salesperson, kind="customers", upload=SimpleUploadedFile("p.csv", content)
    )
    seen = []
    contact_rows = customers.CustomerImporter._contact_rows

    def look_then_write(pairs, **kwargs):
        # A batch of customers is written (not committed); their contacts come next.
        seen.append(_seen_by_the_page(batch.pk))
        return contact_rows(pairs, **kwargs)

    monkeypatch.setattr(customers.CustomerImporter, "_contact_rows", staticmethod(look_then_write))

    services.confirm_import(batch=batch, by=personas.salesperson)

    # Re-checking the rows took the bar to RECHECK_END; each written batch moved it on,
    # and none of the written customers showed before the commit.
    assert seen == [(services.RECHECK_END, 0), (51, 0), (83, 0)]
    batch.refresh_from_db()
    assert (batch.state, batch.progress, batch.created_count) == (ImportState.DONE, 100, ROWS)
    assert _seen_by_the_page(batch.pk) == (100, ROWS)

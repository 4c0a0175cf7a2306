"""20,000 rows through the worker path, with a constant number of queries for the checks
(the writes are bulk inserts in batches of 1,000).

Prints its times (``pytest -s``), never asserts them: the budget (≤ 60 s, check and write)
is ``make bench``'s "20,000-row import" on PostgreSQL. Runs on whatever database the
settings use, so ``DATABASE_URL=postgres://… pytest crm/tests/test_import_scale.py -s``
shows PostgreSQL's figures.
"""

import os
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.demo import ensure_import_tags, import_workbook
from crm.importing import services
from crm.models import Contact, Customer, ImportState
from crm.tests.factories import bulk_customers
from funnel.tests.factories import grade

ROWS = 20_000


@pytest.mark.slow
def test_twenty_thousand_rows_import_through_the_worker_with_constant_checks(
    personas, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_SYNC_MAX_BYTES = 0  # through the task, as in production
    bulk_customers(owner=personas.other_salesperson, count=5000, grade=grade("E"), prefix="Existing")
    ensure_import_tags()
    started = time.perf_counter()
    content = import_workbook(ROWS, ["salesperson", "teammate", "sub_salesperson", ""])
    generated = time.perf_counter()
    cpu_started = time.process_time()

    with (
        CaptureQueriesContext(connection) as preview_queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        batch = services.start_import(
            by=personas.manager, kind="customers", upload=SimpleUploadedFile("scale.xlsx", content)
        )
    batch.refresh_from_db()
    previewed = time.perf_counter()
    assert (batch.state, batch.create_count, batch.error_count) == (ImportState.PREVIEWED, ROWS, 0)

    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_import(batch=batch, by=personas.manager)
    batch.refresh_from_db()
    committed = time.perf_counter()

    assert (batch.state, batch.created_count) == (ImportState.DONE, ROWS)
    assert Customer.objects.filter(import_batch=batch).count() == ROWS
    assert Contact.objects.filter(import_batch=batch).count() == ROWS
    preview_s, commit_s = previewed - generated, committed - previewed
    cpu_s = time.process_time() - cpu_started
    print(
        f"\n[import scale] {connection.vendor}: {ROWS} rows ({len(content) / 1e6:.1f} MB xlsx, "
        f"generated in {generated - started:.1f}s) preview {preview_s:.1f}s, confirm+commit {commit_s:.1f}s, "
        f"total {preview_s + commit_s:.1f}s wall, {cpu_s:.1f}s CPU of this process; "
        f"preview ran {len(preview_queries)} queries; load average {os.getloadavg()[0]:.1f}"
    )
    # The checks run a constant number of queries: progress updates are one per 500 rows.
    assert len(preview_queries) < 30 + ROWS // 500

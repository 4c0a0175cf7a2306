"""Moving off the spreadsheet: upload → progress bar (htmx polling) → preview → confirm
→ progress → result, leaving the page and coming back through the import history.

The worker is played by the test: publishing to the broker is switched off, so the
batch waits (as it would for a busy worker) and the test runs the task bodies itself,
which shows the progress bar polling and then stopping when the work is done. The
acceptance run imports a 20,000-row workbook the same way, timed, and checks the
percentages the page showed along the way.
"""

import re
import time

import pytest
from django.db import connection
from playwright.sync_api import expect

from core import outbox
from crm.demo import ensure_import_tags, import_workbook
from crm.importing import services
from crm.models import Customer, ImportBatch, ImportState
from crm.tests.factories import TeamFactory, UserFactory
from funnel.tests.factories import ensure_default_grades

from .conftest import csp_violations, login

PASSWORD = "correct-horse-battery"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROWS = 300
SCALE_ROWS = 20_000

# Every state and percentage the progress fragment showed, kept across page reloads.
_RECORD_PROGRESS = """
document.addEventListener("DOMContentLoaded", function () {
  function record() {
    var bar = document.querySelector("[data-testid=import-progress]");
    var percent = document.querySelector("[data-testid=import-percent]");
    if (!bar || !percent) return;
    var seen = JSON.parse(sessionStorage.getItem("importProgress") || "[]");
    var entry = bar.dataset.state + " " + parseInt(percent.textContent, 10);
    if (seen[seen.length - 1] !== entry) {
      seen.push(entry);
      sessionStorage.setItem("importProgress", JSON.stringify(seen));
    }
  }
  record();
  new MutationObserver(record).observe(document.body, {childList: true, subtree: true});
});
"""

pytestmark = pytest.mark.e2e


@pytest.fixture
def importer(transactional_db, settings, monkeypatch):
    ensure_default_grades()  # an earlier transactional test may have emptied the table
    ensure_import_tags()
    settings.IMPORT_SYNC_MAX_BYTES = 0  # every file goes through the worker
    monkeypatch.setattr(outbox, "publish", lambda message_ids: 0)  # the worker is "busy"
    return UserFactory(
        username="sales_import", first_name="Fang", last_name="Wang", team=TeamFactory(name="East")
    )


def _csv() -> bytes:
    lines = ["客户名称,客户等级,客户分类,联系人姓名,关键人角色"]
    lines += [f"浙江进口测试{i}有限公司,{'EDC'[i % 3]},优先考虑,陈{i},决策型" for i in range(ROWS)]
    lines.append("浙江进口测试1 有限公司,E,,,")  # a duplicate within the file
    lines.append(",E,,,")  # a row without a name
    return ("\n".join(lines) + "\n").encode("gbk")


def test_import_with_progress_bar_preview_confirm_and_result(page, importer):
    login(page, "sales_import", PASSWORD)
    page.goto("/customers/")
    page.click("[data-testid=imports-link]")
    expect(page.locator("[data-testid=empty-state]")).to_be_visible()
    page.click("[data-testid=new-import]")

    # Upload a GBK-encoded CSV: nothing is written, the batch waits for the worker.
    page.select_option("#id_kind", "customers")
    page.set_input_files("#id_file", files=[{"name": "客户.csv", "mimeType": "text/csv", "buffer": _csv()}])
    with page.expect_navigation():
        page.click("[data-testid=import-form] button[type=submit]")
    batch = ImportBatch.objects.get()
    expect(page).to_have_url(re.compile(rf"/imports/{batch.pk}/$"))
    progress = page.locator("[data-testid=import-progress]")
    expect(progress).to_have_attribute("hx-trigger", "every 500ms")
    expect(progress.locator("progress")).to_have_attribute("value", "0")

    # The bar follows the worker's progress (htmx polls the fragment twice a second).
    ImportBatch.objects.filter(pk=batch.pk).update(state=ImportState.VALIDATING, progress=40)
    expect(page.locator("[data-testid=import-percent]")).to_have_text("40%")
    expect(progress.locator("progress")).to_have_attribute("value", "40")
    ImportBatch.objects.filter(pk=batch.pk).update(state=ImportState.UPLOADED, progress=0)

    # The worker checks the rows: polling stops and the page shows the preview.
    services.preview_batch(batch.pk)
    expect(page.locator("[data-testid=count-create]")).to_have_text(str(ROWS))
    expect(page.locator("[data-testid=count-duplicate]")).to_have_text("1")
    expect(page.locator("[data-testid=count-error]")).to_have_text("1")
    expect(page.locator("[data-testid=error-rows]")).to_contain_text("The name is missing.")
    expect(page.locator("[data-testid=duplicate-rows]")).to_contain_text(
        "Same customer as row 3 of this file."
    )
    expect(page.locator("[data-testid=import-progress]")).to_have_count(0)
    assert not Customer.objects.exists()

    # Confirm: the batch is queued for the worker and the progress bar is back.
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("[data-testid=confirm-import]")
    expect(page.locator("[data-testid=import-progress]")).to_have_attribute("data-state", "queued")

    # Leave the page; the import goes on; come back through the history list.
    page.goto("/imports/")
    expect(page.locator("[data-testid=import-list]")).to_contain_text("客户.csv")
    services.commit_batch(batch.pk)
    page.reload()
    expect(page.locator("[data-testid=import-state]").first).to_have_text("Imported")
    page.click(f"a[href='/imports/{batch.pk}/']")
    expect(page.locator("[data-testid=import-result]")).to_contain_text(f"{ROWS} created")
    assert Customer.objects.filter(import_batch=batch, owner=importer).count() == ROWS
    assert Customer.objects.filter(name="浙江进口测试7有限公司").exists()

    assert csp_violations(page) == []
    assert page.page_errors == []


@pytest.mark.slow
def test_twenty_thousand_rows_import_with_a_moving_progress_bar_well_under_two_minutes(page, importer):
    """Acceptance: a 20,000-row workbook, uploaded through the page; the bar moves while
    the rows are checked and while they are written; everything is created."""
    page.context.add_init_script(_RECORD_PROGRESS)
    login(page, "sales_import", PASSWORD)
    page.goto("/imports/new/")
    page.select_option("#id_kind", "customers")
    page.set_input_files(
        "#id_file",
        files=[{"name": "scale.xlsx", "mimeType": XLSX, "buffer": import_workbook(SCALE_ROWS, [""])}],
    )
    started = time.perf_counter()
    with page.expect_navigation():
        page.click("[data-testid=import-form] button[type=submit]")
    batch = ImportBatch.objects.get()

    services.preview_batch(batch.pk)  # the worker, while the page polls
    expect(page.locator("[data-testid=count-create]")).to_have_text(str(SCALE_ROWS))
    previewed = time.perf_counter()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("[data-testid=confirm-import]")
    services.commit_batch(batch.pk)
    expect(page.locator("[data-testid=import-result]")).to_contain_text(f"{SCALE_ROWS} created")
    finished = time.perf_counter()

    assert Customer.objects.filter(import_batch=batch, owner=importer).count() == SCALE_ROWS
    seen = [entry.split() for entry in page.evaluate("JSON.parse(sessionStorage.getItem('importProgress'))")]
    during = {state: [int(p) for s, p in seen if s == state and 0 < int(p) < 100] for state, _p in seen}
    assert during.get("validating"), seen  # the bar moved while the rows were checked…
    assert during.get("committing"), seen  # …and while they were written
    if connection.vendor == "postgresql":  # progress of the write itself, seen before its commit
        assert max(during["committing"]) > services.RECHECK_END, seen
    print(
        f"\n[import e2e] {connection.vendor}: {SCALE_ROWS} rows, upload+preview {previewed - started:.1f}s, "
        f"confirm+commit {finished - previewed:.1f}s; the page showed {len(seen)} states/percentages"
    )
    assert finished - started < 120
    assert csp_violations(page) == []
    assert page.page_errors == []

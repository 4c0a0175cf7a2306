"""Spreadsheet imports: upload → preview → confirm → commit, recorded as an ``ImportBatch``.

* ``start_import`` refuses a wrong, oversized or unreadable file, or one beyond the caps
  (rows, columns, cell length, what a workbook unpacks to: ``limits``), before anything
  is written, then records the batch. Small files (``IMPORT_SYNC_MAX_BYTES``) are checked
  at once; larger ones by the worker (``crm.tasks.preview_import``).
* ``confirm_import`` is for the uploader only; it queues the commit (worker for large
  files, at once for small ones).
* ``commit_batch`` re-checks every row against the database as it is now: if anything
  changed since the preview (a new duplicate…), nothing is written and the new preview
  is shown. Otherwise the planned creates and updates are written in ONE transaction:
  all or nothing. Duplicates and rows with errors are never written. The progress bar
  moves during that transaction too (see ``_write_progress``).

Both worker steps claim their batch with a conditional UPDATE on its state, so a task
delivered twice does its work once.
"""

import contextlib
import io
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from openpyxl import Workbook
from openpyxl.styles import Font

from core import outbox
from core.audit import Action, Outcome, audit
from crm.models import ImportBatch, ImportState, User

from . import reading, registry

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 200  # rows of each kind kept for the preview tables
MAX_ISSUES = 1000  # error messages kept (the counts are always complete)
HEADER_PROBE_ROWS = 50  # rows read at upload to check the header row
# Progress bar (%) while committing: re-checking the rows, then writing them.
RECHECK_END = 20


def start_import(*, by: User, kind: str, upload) -> ImportBatch:
    """Record an import of ``upload`` (a Django ``UploadedFile``) by ``by``.

    Raises ``ValidationError`` (nothing written) for an unknown kind, a file of the
    wrong type, too large, beyond the caps (``limits``: the whole file is checked), empty,
    unreadable, or without the required columns. The worker checks the caps again.
    """
    importer = registry.get(kind)
    if importer is None:
        raise ValidationError({"kind": _("Choose what the file contains.")})
    head = upload.read(8)
    upload.seek(0)
    try:
        file_format = reading.file_format_for(upload.name, upload.size, head)
        content = upload.read()
        probe = reading.read_table(content, file_format, max_rows=HEADER_PROBE_ROWS)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from error
    mapped = set(importer.header_map(probe.headers).values())
    missing = [column for column in importer.columns if column.required and column not in mapped]
    if missing:
        raise ValidationError(
            {
                "file": _(
                    "The first row must hold the column headers, and the “%(column)s” column is missing. "
                    "Download the template and copy your data into it."
                )
                % {"column": missing[0].header_en.rstrip("*")}
            }
        )
    if not probe.rows:
        raise ValidationError({"file": _("The file has headers but no rows to import.")})
    in_background = len(content) > settings.IMPORT_SYNC_MAX_BYTES
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            user=by,
            kind=kind,
            file_name=upload.name[:255],
            file_format=file_format,
            file_size=len(content),
            content=content,
        )
        if in_background:
            outbox.enqueue("crm.tasks.preview_import", batch_id=batch.pk)
    if not in_background:
        preview_batch(batch.pk)
    batch.refresh_from_db()
    return batch


def preview_batch(batch_id: int) -> None:
    """Check every row and store the preview. Idempotent: claims uploaded → validating."""
    now = timezone.now()
    if not ImportBatch.objects.filter(pk=batch_id, state=ImportState.UPLOADED).update(
        state=ImportState.VALIDATING, started_at=now, progress=0
    ):
        return
    batch = ImportBatch.objects.select_related("user").get(pk=batch_id)
    try:
        plan = _plan(batch, start=0, end=100)
    except ValidationError as error:
        _fail(batch, " ".join(error.messages))
        return
    _store_preview(batch, plan, ImportState.PREVIEWED)


def confirm_import(*, batch: ImportBatch, by: User) -> ImportBatch:
    """The uploader confirms the preview: the valid rows are written (all or nothing)."""
    if batch.user_id != by.pk:
        raise PermissionDenied(_("Only the person who uploaded the file can confirm or cancel the import."))
    in_background = batch.file_size > settings.IMPORT_SYNC_MAX_BYTES
    with transaction.atomic():
        if not ImportBatch.objects.filter(pk=batch.pk, state=ImportState.PREVIEWED).update(
            state=ImportState.QUEUED, progress=0, message=""
        ):
            raise ValidationError(_("This import is not waiting for confirmation."))
        audit(
            actor=by,
            action=Action.IMPORT,
            obj=batch,
            detail={"kind": batch.kind, "rows": batch.total_rows, "stage": "confirmed"},
        )
        if in_background:
            outbox.enqueue("crm.tasks.commit_import", batch_id=batch.pk)
    if not in_background:
        commit_batch(batch.pk)
    batch.refresh_from_db()
    return batch


def cancel_import(*, batch: ImportBatch, by: User) -> ImportBatch:
    """The uploader drops an import that is not written yet; its file is discarded."""
    if batch.user_id != by.pk:
        raise PermissionDenied(_("Only the person who uploaded the file can confirm or cancel the import."))
    if not ImportBatch.objects.filter(
        pk=batch.pk, state__in=[ImportState.UPLOADED, ImportState.PREVIEWED]
    ).update(state=ImportState.CANCELLED, content=None, rows=None, finished_at=timezone.now()):
        raise ValidationError(_("This import can no longer be cancelled."))
    batch.refresh_from_db()
    return batch


def commit_batch(batch_id: int) -> None:
    """Write a confirmed batch. Idempotent: claims queued → committing (or a commit whose
    worker died: still "committing" after the task time limit, its transaction rolled back)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    if not ImportBatch.objects.filter(
        Q(state=ImportState.QUEUED) | Q(state=ImportState.COMMITTING, started_at__lt=stale), pk=batch_id
    ).update(state=ImportState.COMMITTING, started_at=now, progress=0):
        return
    batch = ImportBatch.objects.select_related("user").get(pk=batch_id)
    try:
        plan = _plan(batch, start=0, end=RECHECK_END)
    except ValidationError as error:
        _fail(batch, " ".join(error.messages))
        return
    counts = (plan.count("create"), plan.count("update"), plan.count("duplicate"), plan.count("error"))
    if counts != (batch.create_count, batch.update_count, batch.duplicate_count, batch.error_count):
        _store_preview(
            batch,
            plan,
            ImportState.PREVIEWED,
            message=_(
                "The customer data changed since the preview, so nothing was imported. Check the new preview "
                "and confirm again."
            ),
        )
        return
    importer = registry.get(batch.kind)
    written = counts[0] + counts[1]
    try:
        with _write_progress(batch.pk, written) as progress, transaction.atomic():
            created, updated = importer.commit(batch=batch, user=batch.user, plan=plan, progress=progress)
            ImportBatch.objects.filter(pk=batch.pk).update(
                state=ImportState.DONE,
                progress=100,
                created_count=created,
                updated_count=updated,
                finished_at=timezone.now(),
                content=None,
                rows=None,
            )
            audit(
                actor=batch.user,
                action=Action.IMPORT,
                obj=batch,
                detail={"kind": batch.kind, "created": created, "updated": updated, "stage": "done"},
            )
    except IntegrityError:
        # Someone created one of these customers between the check and the write; the
        # unique constraint refused it and the whole transaction rolled back.
        _fail(
            batch,
            _(
                "Someone created one of these records while the import ran, so nothing was imported. "
                "Upload the file again to see the new preview."
            ),
        )


def _plan(batch: ImportBatch, *, start: int, end: int) -> registry.Plan:
    importer = registry.get(batch.kind)
    if importer is None:
        raise ValidationError(_("This kind of import is no longer available."))
    if not batch.user.is_active:
        raise ValidationError(_("The person who uploaded this file can no longer sign in."))
    if batch.rows is None:
        # First step: read the file once (refused beyond the caps), keep its rows, drop the file.
        batch.rows = reading.pack_rows(bytes(batch.content or b""), batch.file_format)
        ImportBatch.objects.filter(pk=batch.pk).update(rows=batch.rows, content=None)
    file_headers, file_rows = reading.unpack_rows(bytes(batch.rows))
    mapping = importer.header_map(file_headers)
    headers = {column.key: str(file_headers[index]).strip().rstrip("*") for index, column in mapping.items()}
    # Only the importer's columns are kept, a row at a time.
    rows = [
        (number, {column.key: values[index] for index, column in mapping.items() if index < len(values)})
        for number, values in file_rows
    ]
    ImportBatch.objects.filter(pk=batch.pk).update(total_rows=len(rows))
    progress = _progress(batch.pk, len(rows), start, end)
    return importer.plan(batch=batch, user=batch.user, rows=rows, progress=progress, headers=headers)


def _progress(batch_id: int, total: int, start: int, end: int, using=None) -> Callable[[int], None]:
    """A callback the importer calls every few hundred rows: the batch's ``progress``
    column, which the page polls twice a second, goes from ``start`` to ``end`` %.

    The UPDATE runs on ``using`` (see ``_write_progress``) when given, else on the
    import's connection, autocommitted and seen at once. The bar is informational: an
    update the database refuses at that moment (SQLite locked by a reader) is skipped
    and never fails the import."""

    def report(done: int) -> None:
        percent = min(start + (end - start) * done // max(total, 1), 100)
        try:
            if using is None:
                ImportBatch.objects.filter(pk=batch_id).update(progress=percent)
                return
            quote = using.ops.quote_name
            meta = ImportBatch._meta
            table, column, pk = meta.db_table, meta.get_field("progress").column, meta.pk.column
            with using.cursor() as cursor:
                # Only quoted names from the model's metadata go into the SQL; values are parameters.
                cursor.execute(
                    f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE {quote(pk)} = %s",  # noqa: S608
                    [percent, batch_id],
                )
        except OperationalError as error:
            logger.info("Import %s: progress update skipped (%s)", batch_id, error)

    return report


@contextlib.contextmanager
def _write_progress(batch_id: int, total: int) -> Iterator[Callable[[int], None]]:
    """The progress callback for the write, which runs in one transaction (all or
    nothing) that hides its own updates from the polling page until the commit.

    On PostgreSQL the updates go through a second connection to the same database, in
    autocommit. The written rows lock the batch row only against key changes (their
    foreign key: KEY SHARE) and a progress UPDATE changes no key, so the two connections
    never wait for each other. SQLite allows one writer at a time and the
    import holds it: there the bar waits at ``RECHECK_END`` until the commit."""
    if connection.vendor != "postgresql":
        yield lambda done: None
        return
    own = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        yield _progress(batch_id, total, RECHECK_END, 99, using=own)
    finally:
        own.close()


def _store_preview(batch: ImportBatch, plan: registry.Plan, state: str, message: str = "") -> None:
    def rows(action):
        return [
            {"row": row.row, "label": row.label, "message": str(row.message)}
            for row in plan.of(action)[:PREVIEW_ROWS]
        ]

    issues = [issue.as_dict() for row in plan.of("error") for issue in row.issues][:MAX_ISSUES]
    ImportBatch.objects.filter(pk=batch.pk).update(
        state=state,
        progress=100,
        total_rows=len(plan.rows),
        create_count=plan.count("create"),
        update_count=plan.count("update"),
        duplicate_count=plan.count("duplicate"),
        error_count=plan.count("error"),
        preview={"create": rows("create"), "update": rows("update"), "duplicate": rows("duplicate")},
        errors=issues,
        message=message,
    )


def _fail(batch: ImportBatch, message: str) -> None:
    """Nothing was imported: the batch keeps the reason, not the file (a refused one may be a bomb)."""
    ImportBatch.objects.filter(pk=batch.pk).update(
        state=ImportState.FAILED,
        message=message,
        finished_at=timezone.now(),
        progress=100,
        content=None,
        rows=None,
    )
    audit(
        actor=batch.user,
        action=Action.IMPORT,
        obj=batch,
        outcome=Outcome.FAILURE,
        detail={"kind": batch.kind, "stage": "failed", "message": message[:200]},
    )


def template_workbook(kind: str, language: str) -> bytes:
    """An empty import template: the header row in English or Chinese, and a second
    sheet explaining each column and the accepted values."""
    importer = registry.get(kind)
    chinese = language.startswith("zh")
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "导入" if chinese else "Import"
    sheet.append([column.header_zh if chinese else column.header_en for column in importer.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(importer.columns, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(
            12, len(column.header_en) + 4
        )
    with override("zh-hans" if chinese else "en"):
        notes = workbook.create_sheet("说明" if chinese else "Instructions")
        notes.append([_("Column"), _("Required"), _("What to write")])
        for cell in notes[1]:
            cell.font = Font(bold=True)
        for column in importer.columns:
            notes.append(
                [
                    column.header_zh if chinese else column.header_en,
                    _("yes") if column.required else "",
                    str(column.help),
                ]
            )
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()

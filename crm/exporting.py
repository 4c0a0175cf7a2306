"""Tables out to CSV/Excel, safely: text that a spreadsheet would run as a formula is
neutralised (CSV/formula injection), and every export is recorded by the caller."""

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

import tablib
from django.http import Http404, HttpResponse
from django.utils import timezone

from . import services

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def neutralise(value):
    """Prefix text that starts like a formula with an apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, Decimal):
        return float(value)
    if value is None:
        return ""
    return value


def export_response(
    request,
    *,
    kind: str,
    queryset,
    headers: Sequence[str],
    row: Callable[[object], Sequence],
    filename: str | None = None,
) -> HttpResponse:
    """The one export path for every list (customers, contacts, activities…).

    ``queryset`` must already be scoped by the viewer's visibility rule and filtered;
    here the export policy is applied (salespeople only where the admin allows it:
    403 otherwise), the rows are capped at ``CrmSettings.export_row_cap``, the export is
    recorded (``record_export``) and the table is written with formula neutralisation.
    ``?file_format=`` is ``xlsx`` (default) or ``csv``; anything else is a 404.
    """
    file_format = request.GET.get("file_format", "xlsx")
    if file_format not in CONTENT_TYPES:
        raise Http404
    crm_settings = services.ensure_may_export(request.user)
    rows = [row(record) for record in queryset[: crm_settings.export_row_cap]]
    filters = {key: value for key, value in request.GET.items() if key != "file_format"}
    services.record_export(
        user=request.user, kind=kind, file_format=file_format, row_count=len(rows), filters=filters
    )
    return table_response(headers=headers, rows=rows, file_format=file_format, filename=filename or kind)


def table_response(
    *, headers: Sequence[str], rows: Iterable[Sequence], file_format: str, filename: str
) -> HttpResponse:
    dataset = tablib.Dataset(headers=[str(h) for h in headers])
    for row in rows:
        dataset.append([neutralise(value) for value in row])
    # CSV starts with a BOM so Excel opens UTF-8 Chinese text correctly.
    content = dataset.export("xlsx") if file_format == "xlsx" else "\ufeff" + dataset.export("csv")
    response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
    stamp = date.today().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.{file_format}"'
    return response

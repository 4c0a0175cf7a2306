"""Tables out to CSV/Excel, safely: text that a spreadsheet would run as a formula is
neutralised (CSV/formula injection), and every export is recorded by the caller."""
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

import tablib
from django.http import HttpResponse
from django.utils import timezone

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


def table_response(*, headers: Sequence[str], rows: Iterable[Sequence], file_format: str,
                   filename: str) -> HttpResponse:
    dataset = tablib.Dataset(headers=[str(h) for h in headers])
    for row in rows:
        dataset.append([neutralise(value) for value in row])
    if file_format == "xlsx":
        content = dataset.export("xlsx")
    else:
        # A BOM so Excel opens UTF-8 Chinese text correctly.
        content = "\ufeff" + dataset.export("csv")
    response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
    stamp = date.today().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.{file_format}"'
    return response

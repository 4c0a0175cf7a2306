"""Reading an uploaded spreadsheet into rows, safely.

Only ``.xlsx`` and ``.csv`` are accepted. Workbooks are read by python-calamine (a
Rust reader, about ten times faster than openpyxl's read-only mode on a 20,000-row
sheet): a formula cell gives its last saved value and is never evaluated; a workbook
carrying macros (``xl/vbaProject.bin``) is refused, as is ``.xlsm``/``.xls``. CSV text
is decoded as UTF-8 (with or without BOM), else as GB18030 (a superset of GBK/GB2312),
which is what Excel in Chinese saves.

Every file is held to the caps of ``limits`` (rows, columns, characters in a cell, and for a
workbook what it unpacks to), checked before a workbook is opened and while rows are read,
on the upload and again in the worker.
"""

import csv
import io
import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from . import limits

FORMATS = {".xlsx": "xlsx", ".csv": "csv"}
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
ZIP_MAGIC = b"PK\x03\x04"
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")  # a CSV line, as a file opened with newline="" reads it


@dataclass
class Table:
    headers: list[Any]
    rows: list[tuple[int, list[Any]]]  # (spreadsheet row number, cell values)


def pack_rows(content: bytes, file_format: str) -> bytes:
    """The file's non-empty rows as compressed JSON lines, the header row first, then
    ``[row number, cells]`` (dates as ISO text, which the cell parsers read). Packed as
    they are read, so that the rows are never all in memory at once; refused as
    ``read_table`` refuses."""
    compressor = zlib.compressobj(1)
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_value).encode
    packed = []
    for number, values in _filled_rows(content, file_format, limits.Caps.from_settings()):
        line = [number, values] if packed else values
        packed.append(compressor.compress(encode(line).encode() + b"\n"))
    if not packed:
        raise _no_rows()
    packed.append(compressor.flush())
    return b"".join(packed)


def unpack_rows(data: bytes) -> tuple[list[Any], Iterator[tuple[int, list[Any]]]]:
    """The header row and the rows (one at a time) that ``pack_rows`` packed. A batch
    packed whole by an earlier version (``[headers, rows]``) reads too."""
    lines = _unpacked_lines(data)
    first = json.loads(next(lines))
    if first and isinstance(first[0], list):
        headers, rows = first
        return headers, ((number, values) for number, values in rows)
    return first, ((number, values) for number, values in map(json.loads, lines))


def _unpacked_lines(data: bytes) -> Iterator[bytes]:
    decompressor = zlib.decompressobj()
    rest = b""
    for offset in range(0, len(data), limits.CHUNK):
        lines = (rest + decompressor.decompress(data[offset : offset + limits.CHUNK])).split(b"\n")
        rest = lines.pop()
        yield from lines
    rest += decompressor.flush()
    if rest:
        yield rest


def _json_value(value):
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def file_format_for(file_name: str, size: int, head: bytes) -> str:
    """The format of an upload, or a ValidationError saying why it is refused."""
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise ValidationError(
            _("The file is %(size)s; the limit is %(limit)s. Split it into smaller files.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    suffix = PurePath(file_name or "").suffix.lower()
    file_format = FORMATS.get(suffix)
    if file_format is None:
        raise ValidationError(
            _(
                "Files of type “%(suffix)s” cannot be imported. Upload an Excel workbook (.xlsx) or a "
                "CSV file (.csv); workbooks with macros (.xlsm) are refused."
            )
            % {"suffix": suffix or "?"},
            code="wrong_type",
        )
    if file_format == "xlsx" and not head.startswith(ZIP_MAGIC):
        raise ValidationError(
            _(
                "This file is not a real Excel workbook (.xlsx). Save it again from Excel "
                "as “Excel Workbook”, or as CSV."
            ),
            code="malformed",
        )
    return file_format


def read_table(content: bytes, file_format: str, max_rows: int | None = None) -> Table:
    """Every non-empty row of the first sheet (or the first ``max_rows``); the first row holds
    the headers. The whole file is checked against the caps (``limits.Caps``) even when
    only the first rows are kept: a file beyond them is refused (``ValidationError``)."""
    numbered = []
    rows = _filled_rows(content, file_format, limits.Caps.from_settings(), enough=max_rows)
    for number, values in rows:
        if max_rows is None or len(numbered) < max_rows:
            numbered.append((number, values))
    if not numbered:
        raise _no_rows()
    (_header_number, headers), *data = numbered
    return Table(headers=list(headers), rows=[(number, list(values)) for number, values in data])


def _filled_rows(
    content: bytes, file_format: str, caps: limits.Caps, enough: int | None = None
) -> Iterator[tuple[int, list]]:
    """The rows holding a value, numbered as in the file, refused beyond the caps. With
    ``enough``, a workbook whose check proved every cap stops after that many."""
    rows = _xlsx_rows(content, caps, enough) if file_format == "xlsx" else _csv_rows(content, caps)
    for number, values in rows:
        if any(value not in (None, "") for value in values):
            if number - 1 > caps.rows:  # the first row holds the headers
                raise caps.too_many_rows()
            yield number, values


def _no_rows() -> ValidationError:
    return ValidationError(_("The file has no rows. Fill in the template and upload it again."), code="empty")


def _xlsx_rows(content: bytes, caps: limits.Caps, enough: int | None = None) -> Iterator[tuple[int, list]]:
    """The first sheet's rows, numbered as in the spreadsheet, each cell as ``_cell_value``
    gives it (the first ``enough`` rows holding a value, when the check of the zip proved
    that no cell is too long). The zip is checked against the caps before the reader
    opens it; the cells' lengths, when it could not prove them, as they are read."""
    # Imported here: only imports read workbooks.
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            raise ValidationError(
                _(
                    "This workbook contains macros, which are never run here. Save it as "
                    "a plain Excel workbook (.xlsx) without macros."
                ),
                code="macros",
            )
        long_cells = limits.check_workbook(content, caps)
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
    except ValidationError:
        raise
    except (CalamineError, zipfile.BadZipFile, KeyError, ValueError, TypeError, IndexError, OSError) as exc:
        raise limits.malformed() from exc
    # Rows come from row 1, cells from the first column in use: padded, so that every
    # row's cells line up from column A.
    padding = [None] * (sheet.start[1] if sheet.start else 0)
    filled = 0
    for number, row in enumerate(sheet.iter_rows(), start=1):
        values = [_cell_value(value) for value in row]
        if long_cells and any(isinstance(value, str) and len(value) > caps.cell_chars for value in values):
            raise caps.cell_too_long(number)
        yield number, padding + values
        filled += any(value is not None for value in values)
        if enough is not None and not long_cells and filled >= enough:
            return


def _cell_value(value):
    """Cells as openpyxl gives them, which the cell parsers expect: an empty cell is
    ``None`` and a whole number an ``int`` (a workbook stores every number as a float)."""
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def decode_csv(content: bytes) -> str:
    if b"\x00" in content[:4096]:
        raise ValidationError(
            _("This file is not a text CSV file. Save it from Excel as “CSV (UTF-8)”."), code="malformed"
        )
    for encoding in CSV_ENCODINGS:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(
        _("The CSV file's text encoding is not recognised; save it as “CSV (UTF-8)”."), code="encoding"
    )


def _csv_rows(content: bytes, caps: limits.Caps) -> Iterator[tuple[int, list[str]]]:
    """The records, numbered from 1, refused beyond the caps as they are read: no line
    longer than the widest row the caps allow reaches the parser, no field longer than
    a cell may be."""
    text = decode_csv(content)
    first_line = text[:65536].split("\n", 1)[0]
    delimiter = ","
    if "," not in first_line:
        delimiter = next((d for d in (";", "\t") if d in first_line), ",")
    widest_line = caps.columns * (caps.cell_chars + 3) + 2  # quoted, escaped fields

    def lines() -> Iterator[str]:
        # One line at a time, cut as a file opened with newline="" cuts them (a StringIO
        # would copy the whole text first).
        for match in _LINE.finditer(text):
            line = match.group()
            if not line:
                continue
            if len(line) > widest_line:
                wide = line.count(delimiter) >= caps.columns
                raise caps.too_many_columns() if wide else caps.cell_too_long()
            yield line

    # Process-wide, and the same for every import: the importer is the only CSV reader.
    csv.field_size_limit(caps.cell_chars)
    number = 0
    try:
        for number, row in enumerate(csv.reader(lines(), delimiter=delimiter), start=1):
            if len(row) > caps.columns:
                raise caps.too_many_columns()
            yield number, row
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise caps.cell_too_long(number + 1) from exc
        raise ValidationError(
            _("The CSV file is malformed: %(error)s") % {"error": exc}, code="malformed"
        ) from exc

"""The caps on one import, and the check of a workbook's zip before anything parses it.

An upload is small on disk and can be huge once read: an ``.xlsx`` is a zip of XML parts,
and a 300 KB part can unpack to 300 MB of one cell's text. Three things decide what the
reader (python-calamine) holds in memory, and each is bounded here *before* it opens the
workbook, from the zip's parts alone, in one streamed pass of constant memory:

* the unpacked size of the parts: declared sizes (each part and their sum), the
  compression ratio of large parts, and the real unpacked size of every part, which must
  not exceed what the zip declares (a lying header would get past the first checks);
* the used area of a sheet (rows × columns, from the first to the last cell that holds a
  value): calamine keeps a sheet as one dense grid, so two cells at A1 and GR50000 cost as
  much as ten million;
* the text the cells hold: the sheets' own bytes, and the shared strings their cells refer
  to, each time: the reader copies a shared string into every cell that refers to it, so
  one 30 KB string referred to by 100,000 cells is 3 GB.

With the default caps the reader holds at most a 32 MB grid and 64 MB of text, and
the Python rows built from it stay well under the 300 MB a web or worker process may use
(measured in ``crm/tests/test_import_bombs.py``).

The rows, columns and cell lengths of a CSV file are checked while it is read (see
``reading``), as is every cell's length once a workbook is read.
"""

import io
import re
import struct
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import zip_longest

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

CHUNK = 1024 * 1024
MAX_PARTS = 10_000  # a workbook has a few dozen parts; a zip of many tiny ones is a bomb too
MAX_RATIO = 100  # unpacked : packed, for parts of at least RATIO_FROM bytes unpacked
RATIO_FROM = 1024 * 1024
SHARED_STRINGS = "xl/sharedstrings.xml"  # the path calamine reads, compared lower-cased
LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, …, file name length, extra field length
# A shared string is stored as XML text: at most 4 bytes (UTF-8) a character, plus some markup.
MARKUP_ALLOWANCE = 4096

_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
KEEP_BACK = 64 * 1024  # the most of a chunk held back for the next one (a cell, a tag)
# Fast path, for sheets as Excel, WPS, LibreOffice and openpyxl write them: every cell's
# reference first, double quotes, no namespace prefix, a shared string's number right in
# its cell. A chunk where any cell or shared-string cell is written otherwise takes the
# slow path.
_VALUE_CELL = re.compile(rb'<c r="([A-Z]{1,4})([0-9]{1,8})"[^>/]*>')
_EMPTY_CELL = re.compile(rb'<c r="[A-Z]{1,4}[0-9]{1,8}"[^>]*/>')
_ANY_CELL = re.compile(rb"<c[\s/>]")
_PREFIXED = re.compile(rb"<[A-Za-z_][\w.-]*:(?:c|row|v|is|t)[\s/>]")
_SHARED_CELL = re.compile(rb' t="s"[^>]*><v>([0-9]{1,12})<')
_ANY_SHARED = re.compile(rb"""t\s*=\s*["']s["']""")
_CDATA = b"<![CDATA["
_NUMBER_TAG = re.compile(rb"<" + _PREFIX + rb"v>[^<]*$")
# Any other sheet: each tag in turn.
_TAG = re.compile(rb"<(/?)" + _PREFIX + rb"(row|c|v)(?=[\s/>])([^>]*)>")
_ATTRIBUTE = re.compile(rb"""\s(?:[\w.-]+:)?(r|t)\s*=\s*(["'])(.*?)\2""")
_REFERENCE = re.compile(rb"([A-Za-z]*)([0-9]*)")
_SHARED_STRING = re.compile(rb"<(/?)" + _PREFIX + rb"si(?=[\s/>])[^>]*?(/?)>")
_RICH_RUN = re.compile(rb"<" + _PREFIX + rb"r[\s/>]")
_TEXT = re.compile(rb"<" + _PREFIX + rb"t[\s/>]")
_PHONETIC = re.compile(rb"<" + _PREFIX + rb"rPh[\s>].*?</" + _PREFIX + rb"rPh>", re.DOTALL)


@dataclass(frozen=True)
class Caps:
    """What one import may hold (settings ``IMPORT_MAX_*``; the upload's size,
    ``IMPORT_MAX_BYTES``, is checked first, by ``reading.file_format_for``)."""

    rows: int
    columns: int
    cell_chars: int
    cells: int
    unpacked_bytes: int

    @classmethod
    def from_settings(cls) -> "Caps":
        return cls(
            rows=settings.IMPORT_MAX_ROWS,
            columns=settings.IMPORT_MAX_COLUMNS,
            cell_chars=settings.IMPORT_MAX_CELL_CHARS,
            cells=settings.IMPORT_MAX_CELLS,
            unpacked_bytes=settings.IMPORT_MAX_UNPACKED_BYTES,
        )

    # --- the refusals, each naming its cap ---------------------------------------------

    def too_many_rows(self) -> ValidationError:
        return ValidationError(
            _("This file has more than %(limit)s rows; the most one import takes is %(limit)s. Split it.")
            % {"limit": f"{self.rows:,}"},
            code="too_many_rows",
        )

    def too_many_columns(self) -> ValidationError:
        return ValidationError(
            _(
                "This file has more than %(limit)s columns; the most one import takes is %(limit)s. "
                "Delete the columns you do not import."
            )
            % {"limit": f"{self.columns:,}"},
            code="too_many_columns",
        )

    def cell_too_long(self, row: int | None = None) -> ValidationError:
        values = {"limit": f"{self.cell_chars:,}", "row": row}
        if row is None:
            message = _(
                "A cell of this file holds more than %(limit)s characters; the most one cell may "
                "hold is %(limit)s."
            )
        else:
            message = _(
                "A cell in row %(row)s holds more than %(limit)s characters; the most one cell may "
                "hold is %(limit)s."
            )
        return ValidationError(message % values, code="cell_too_long")

    def area_too_large(self, rows: int, columns: int) -> ValidationError:
        return ValidationError(
            _(
                "The data of this sheet spans %(rows)s rows by %(columns)s columns; the most one "
                "import takes is %(limit)s cells. Delete the empty rows and columns around the data, "
                "or split it."
            )
            % {"rows": f"{rows:,}", "columns": f"{columns:,}", "limit": f"{self.cells:,}"},
            code="too_many_cells",
        )

    def unpacks_too_large(self) -> ValidationError:
        return ValidationError(
            _(
                "This workbook unpacks to more than %(limit)s; the most one import takes is %(limit)s. "
                "Split it, or save it as CSV."
            )
            % {"limit": filesizeformat(self.unpacked_bytes)},
            code="unpacks_too_large",
        )

    def too_much_text(self) -> ValidationError:
        return ValidationError(
            _(
                "The cells of this workbook hold more than %(limit)s of text in all (a text repeated "
                "in many cells counts each time); the most one import takes is %(limit)s. Split it."
            )
            % {"limit": filesizeformat(self.unpacked_bytes)},
            code="too_much_text",
        )


def compressed_too_much() -> ValidationError:
    return ValidationError(
        _(
            "This workbook is compressed more than %(ratio)s to 1, which no spreadsheet is; it was "
            "refused as a possible zip bomb. Save it again from Excel, or as CSV."
        )
        % {"ratio": MAX_RATIO},
        code="zip_bomb",
    )


def malformed() -> ValidationError:
    return ValidationError(
        _(
            "This file could not be read as an Excel workbook (.xlsx): it is damaged or "
            "not a workbook. Save it again from Excel, or as CSV."
        ),
        code="malformed",
    )


# --- the workbook check ------------------------------------------------------------------


def check_workbook(content: bytes, caps: Caps) -> bool:
    """Refuse (``ValidationError``) an ``.xlsx`` whose parts unpack too large or too far,
    or whose sheets hold more rows, columns, cells or text than ``caps`` allow; read
    nothing but the zip's parts, a megabyte at a time.

    Returns whether a cell may be longer than ``caps.cell_chars``: if not, the rows need
    not be measured once read, and a check of the first rows may stop there."""
    if content.count(b"PK\x01\x02") > MAX_PARTS:  # central directory entries (or more)
        raise malformed()
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise malformed() from exc
    _check_declared_sizes(parts, caps)
    names = [part.filename.lower() for part in parts]
    if len(set(names)) != len(names):  # which one would the reader take?
        raise malformed()
    # Shared strings first: the sheets' text is counted in their lengths.
    parts.sort(key=lambda part: part.filename.lower() != SHARED_STRINGS)
    string_sizes = array("Q")
    sheet = _SheetScan(caps)
    for part in parts:
        chunks = _unpacked(content, part)
        if part.filename.lower() == SHARED_STRINGS:
            string_sizes = _shared_string_sizes(chunks, caps)
        elif part.filename.lower().endswith(".xml"):
            sheet.scan(lambda part=part: _unpacked(content, part), string_sizes)
        else:
            for _chunk in chunks:  # proves the part unpacks to no more than it declares
                pass
    return sheet.long_text or max(string_sizes, default=0) > caps.cell_chars


def _check_declared_sizes(parts: list[zipfile.ZipInfo], caps: Caps) -> None:
    total = 0
    for part in parts:
        if part.flag_bits & 0x1 or part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise malformed()  # encrypted, or a compression no spreadsheet program writes
        total += part.file_size
        if part.file_size > caps.unpacked_bytes or total > caps.unpacked_bytes:
            raise caps.unpacks_too_large()
        if part.file_size >= RATIO_FROM and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise compressed_too_much()


def _unpacked(content: bytes, part: zipfile.ZipInfo) -> Iterator[bytes]:
    """The part's bytes, unpacked a chunk at a time, refusing any byte beyond its declared
    size (the reader trusts the stream, not the header)."""
    start = part.header_offset
    try:
        signature, name_length, extra_length = LOCAL_HEADER.unpack_from(content, start)
    except struct.error as exc:
        raise malformed() from exc
    if signature != b"PK\x03\x04":
        raise malformed()
    start += LOCAL_HEADER.size + name_length + extra_length
    packed = memoryview(content)[start : start + part.compress_size]
    if len(packed) != part.compress_size:
        raise malformed()
    if part.compress_type == zipfile.ZIP_STORED:
        if part.compress_size != part.file_size:
            raise malformed()
        for offset in range(0, len(packed), CHUNK):
            yield bytes(packed[offset : offset + CHUNK])
        return
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    for offset in range(0, len(packed), CHUNK):
        pending = packed[offset : offset + CHUNK]
        while pending:
            try:
                chunk = inflate.decompress(pending, CHUNK)
            except zlib.error as exc:
                raise malformed() from exc
            produced += len(chunk)
            if produced > part.file_size:
                raise malformed()
            if chunk:
                yield chunk
            pending = inflate.unconsumed_tail
            if inflate.eof:
                break
        if inflate.eof:
            break
    if produced != part.file_size:
        raise malformed()


def _pieces(chunks: Iterator[bytes], *, whole_cells: bool = False) -> Iterator[bytes]:
    """The chunks, cut so that no tag is split and a ``<v>`` keeps its whole number; with
    ``whole_cells``, each is cut before its last cell, so that a cell and its value come
    together. Long text runs on through: only tags are kept back, and none is that long."""
    tail = b""
    for chunk in chunks:
        data = tail + chunk if tail else chunk
        cut = len(data)
        if whole_cells:
            cell = data.rfind(b"<c ")
            if cell > 0 and len(data) - cell <= KEEP_BACK:
                cut = cell
        if cut == len(data):
            last = data.rfind(b"<")
            if last >= 0 and (data.find(b">", last) < 0 or _NUMBER_TAG.match(data, last)):
                cut = last
        tail = data[cut:]
        if len(tail) > KEEP_BACK:
            raise malformed()  # a tag or a number this long is no spreadsheet's
        if cut:
            yield data[:cut]
    if tail:
        yield tail


def _shared_string_sizes(chunks: Iterator[bytes], caps: Caps) -> array:
    """The size in bytes (text and markup: at least its UTF-8 length) of each shared
    string. Readers number them two ways: every ``<si>`` (python-calamine 0.9), or only
    those holding text (calamine has skipped an ``<si>`` without any), which shifts the
    numbers after it; each number gets the larger of its two sizes."""
    every, with_text = array("Q"), array("Q")
    longest = 4 * caps.cell_chars + MARKUP_ALLOWANCE
    content: list[bytes] | None = None  # the open <si>'s content so far
    length = 0
    for data in _pieces(chunks):
        position = 0
        for match in _SHARED_STRING.finditer(data):
            closing, empty = match.group(1), match.group(2)
            if content is not None:
                content.append(data[position : match.start()])
                length += match.start() - position
            if empty:
                every.append(0)
                content = None
            elif not closing:
                content, length = [], 0
            elif content is not None:
                if length > longest:
                    raise caps.cell_too_long()
                every.append(length)
                if _holds_text(b"".join(content)):
                    with_text.append(length)
                content = None
            position = match.end()
        if content is not None:
            content.append(data[position:])
            length += len(data) - position
            if length > longest:
                raise caps.cell_too_long()
    return array("Q", map(max, zip_longest(every, with_text, fillvalue=0)))


def _holds_text(content: bytes) -> bool:
    return bool(_RICH_RUN.search(content) or _TEXT.search(_PHONETIC.sub(b"", content)))


class _SheetScan:
    """The used area and the text of every sheet-like part, checked against the caps."""

    def __init__(self, caps: Caps):
        self.caps = caps
        # Whether a cell may hold more than a cell may: only then is each cell measured as
        # it is read. Text between two tags is at least as long in bytes as in characters.
        self.long_text = False
        self._run = 0  # bytes of text since the last tag, on to the next chunk
        self._long_run = re.compile(rb">[^<]{%d}" % (caps.cell_chars + 1))
        # The sheets' bytes, and the shared strings their cells refer to, once per cell.
        self.text = 0
        self.column_numbers: dict[bytes, int] = {}

    def scan(self, chunks: Callable[[], Iterator[bytes]], string_sizes: array) -> None:
        self.string_sizes = string_sizes
        self.rows = self.columns = self._run = 0
        text = self.text
        try:
            for data in _pieces(chunks(), whole_cells=True):
                self._fast(data)
        except _Unusual:
            self.rows = self.columns = self._run = 0
            self.text = text
            self._slow(chunks())

    def _fast(self, data: bytes) -> None:
        self.text += len(data)
        cells = _VALUE_CELL.findall(data)
        shared = _SHARED_CELL.findall(data)
        if (
            len(cells) + len(_EMPTY_CELL.findall(data)) != len(_ANY_CELL.findall(data))
            or len(shared) != len(_ANY_SHARED.findall(data))
            or _PREFIXED.search(data)
        ):
            raise _Unusual
        if cells:
            self.rows = max(self.rows, max(map(int, [digits for _letters, digits in cells])))
            self.columns = max(self.columns, *map(self._column, {letters for letters, _digits in cells}))
        self._check_area()
        self._count_text(map(int, shared))
        self._measure_text_runs(data)

    def _slow(self, chunks: Iterator[bytes]) -> None:
        """Tag by tag, for any sheet the fast path does not recognise (references left out,
        single quotes, namespace prefixes…), placing cells as calamine does."""
        row = column = 0
        shared = False
        for data in _pieces(chunks):
            self.text += len(data)
            shared_indexes = []
            for match in _TAG.finditer(data):
                closing, name, attributes = match.groups()
                if closing:
                    shared = shared and name != b"c"
                    continue
                values = {key: value for key, _quote, value in _ATTRIBUTE.findall(attributes)}
                if name == b"row":
                    digits = _REFERENCE.match(values.get(b"r", b"")).group(2)
                    row = _number(digits) if digits else row + 1
                    column = 0
                elif name == b"c":
                    letters, digits = _REFERENCE.match(values.get(b"r", b"")).groups()
                    column = self._column(letters[:4].upper()) if letters else column + 1
                    cell_row = _number(digits) if digits else row
                    shared = values.get(b"t") == b"s"
                    if not attributes.endswith(b"/"):
                        self.rows, self.columns = max(self.rows, cell_row), max(self.columns, column)
                elif shared:  # <v>: the number of the shared string
                    end = data.find(b"<", match.end())
                    text = data[match.end() : end if end >= 0 else None].strip()
                    if text.isdigit():
                        shared_indexes.append(_number(text))
            self._check_area()
            self._count_text(shared_indexes)
            self._measure_text_runs(data)

    def _measure_text_runs(self, data: bytes) -> None:
        if self.long_text:
            return
        if _CDATA in data:  # a CDATA section may hold "<" in its text
            self.long_text = True
            return
        first_tag = data.find(b"<")
        if first_tag < 0:
            self._run += len(data)
        else:
            self._run += first_tag
            self.long_text = self._run > self.caps.cell_chars or bool(self._long_run.search(data))
            last_end = data.rfind(b">")
            self._run = len(data) - last_end - 1 if last_end > data.rfind(b"<") else 0
        self.long_text = self.long_text or self._run > self.caps.cell_chars

    def _column(self, letters: bytes) -> int:
        number = self.column_numbers.get(letters)
        if number is None:
            number = 0
            for letter in letters:
                number = number * 26 + letter - 64
            self.column_numbers[letters] = number
        return number

    def _check_area(self) -> None:
        caps = self.caps
        if self.rows - 1 > caps.rows:  # the first row holds the headers
            raise caps.too_many_rows()
        if self.columns > caps.columns:
            raise caps.too_many_columns()
        if self.rows * self.columns > caps.cells:
            raise caps.area_too_large(self.rows, self.columns)

    def _count_text(self, indexes: Iterable[int]) -> None:
        sizes = self.string_sizes
        count = len(sizes)
        self.text += sum(sizes[index] for index in indexes if index < count)
        if self.text > self.caps.unpacked_bytes:
            raise self.caps.too_much_text()


class _Unusual(Exception):
    """The sheet is not written as the fast path expects: read it tag by tag."""


def _number(digits: bytes) -> int:
    """A row or string number; a huge one (beyond every cap) without Python's digit limit."""
    digits = digits.lstrip(b"0") or b"0"
    return int(digits) if len(digits) <= 12 else 10**12

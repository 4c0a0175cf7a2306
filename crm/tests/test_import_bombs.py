"""Import bombs: files small on disk that would be huge once read are refused with a
message naming the cap, before anything is written, on the page, the API and the worker;
reading any file stays under 300 MB of memory (measured in a fresh process).

Every bomb is generated here, a part at a time (never committed, never whole in memory).
"""

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterable

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.importing import reading, services
from crm.models import Customer, ImportBatch, ImportState
from funnel.tests.factories import ensure_default_grades

MB = 1024 * 1024
MEMORY_BUDGET_MB = 300

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
    b'"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
    b'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxml'
    b'formats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    b'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    b'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship '
    b'Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    b'Target="sharedStrings.xml"/></Relationships>'
)
MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@pytest.fixture(autouse=True)
def default_grades(db):
    ensure_default_grades()


def workbook(
    rows: Iterable[bytes], strings: Iterable[Iterable[bytes]] = (), shared_before: bytes = b""
) -> bytes:
    """An .xlsx as Excel writes one, its sheet and shared strings streamed in pieces:
    ``rows`` the sheet's ``<row>`` elements, ``strings`` each shared string's text pieces
    (after the raw XML ``shared_before``)."""
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0" encoding="UTF-8"?><sst ' + MAIN + b">" + shared_before)
            for pieces in strings:
                part.write(b"<si><t>")
                for piece in pieces:
                    part.write(piece)
                part.write(b"</t></si>")
            part.write(b"</sst>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet ' + MAIN + b"><sheetData>")
            for row in rows:
                part.write(row)
            part.write(b"</sheetData></worksheet>")
    return output.getvalue()


def text_cell(reference: str, text: str) -> bytes:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def column(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def names_workbook(count: int) -> bytes:
    """A customer import of ``count`` rows: the header "Name" and one name a row."""
    rows = [b'<row r="1">' + text_cell("A1", "Name") + b"</row>"]
    rows += (
        f'<row r="{n}">'.encode() + text_cell(f"A{n}", f"Bomb test {n}") + b"</row>"
        for n in range(2, count + 2)
    )
    return workbook(rows)


def incompressible_text(size: int) -> bytes:
    """Letters that compress about 1.6 to 1, like real text does at best."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(str(counter).encode()).hexdigest().encode()
        counter += 1
    return bytes(out[:size])


def huge_cell_workbook(megabytes: int) -> bytes:
    """One cell holding ``megabytes`` MB of "a": it packs to about a thousandth of that."""
    header = b'<row r="1">' + text_cell("A1", "Name") + b'</row><row r="2"><c r="A2" t="s"><v>0</v></c></row>'
    return workbook([header], strings=[(b"a" * MB for _ in range(megabytes))])


def declare_size(content: bytes, name: str, size: int) -> bytes:
    """The workbook with ``name``'s unpacked size declared as ``size`` in both its headers
    (a lying zip: the real part is larger)."""
    data = bytearray(content)
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo(name)
    struct.pack_into("<I", data, info.header_offset + 22, size)  # local header
    entry = data.find(b"PK\x01\x02")
    encoded = name.encode()
    while entry >= 0:
        name_length = struct.unpack_from("<H", data, entry + 28)[0]
        if bytes(data[entry + 46 : entry + 46 + name_length]) == encoded:
            struct.pack_into("<I", data, entry + 24, size)  # central directory
            break
        entry = data.find(b"PK\x01\x02", entry + 4)
    return bytes(data)


def refused_upload(client, name: str, content: bytes, *, api: bool = False) -> str:
    """POST the file to the upload page (or the API); the refusal's message on the file
    field, after checking that nothing was written."""
    customers = Customer.objects.count()
    upload = SimpleUploadedFile(name, content)
    if api:
        response = client.post("/api/imports/", {"kind": "customers", "file": upload})
        assert response.status_code == 400, response.content[:500]
        message = " ".join(response.json()["file"])
    else:
        response = client.post(reverse("imports:create"), {"kind": "customers", "file": upload})
        assert response.status_code == 400
        message = " ".join(response.context["form"].errors["file"])
    assert not ImportBatch.objects.exists()
    assert Customer.objects.count() == customers
    return message


# --- Refused at upload, naming the cap ---------------------------------------------------


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_a_cell_of_fifty_megabytes_is_refused_before_it_is_read(client_as, api):
    content = huge_cell_workbook(50)
    assert len(content) < MB  # 50 MB of text in a file of some 50 KB

    message = refused_upload(client_as("salesperson"), "bomb.xlsx", content, api=api)

    assert "compressed more than 100 to 1" in message


def test_a_workbook_declaring_a_huge_part_is_refused_by_its_unpacked_size(client_as, settings):
    settings.IMPORT_MAX_UNPACKED_BYTES = 10 * MB
    message = refused_upload(client_as("salesperson"), "bomb.xlsx", huge_cell_workbook(12))
    assert "unpacks to more than 10.0\xa0MB" in message


def test_a_part_larger_than_its_zip_header_says_is_refused(client_as):
    """The declared size is a claim: the unpacked bytes are counted too."""
    honest = huge_cell_workbook(2)
    lying = declare_size(honest, "xl/sharedStrings.xml", 1000)
    assert zipfile.ZipFile(io.BytesIO(lying)).getinfo("xl/sharedStrings.xml").file_size == 1000

    message = refused_upload(client_as("salesperson"), "liar.xlsx", lying)

    assert "could not be read as an Excel workbook" in message


def test_a_shared_string_longer_than_a_cell_may_hold_is_refused(client_as):
    text = incompressible_text(200_000)  # too long to be a cell, too random to be a bomb
    header = b'<row r="1">' + text_cell("A1", "Name") + b'</row><row r="2"><c r="A2" t="s"><v>0</v></c></row>'
    message = refused_upload(client_as("salesperson"), "long.xlsx", workbook([header], [[text]]))
    assert "holds more than 32,768 characters; the most one cell may hold is 32,768" in message


@pytest.mark.parametrize("length", [32_769, 40_000])
def test_a_cell_longer_than_the_cap_is_refused_naming_its_row(client_as, length):
    rows = [
        b'<row r="1">' + text_cell("A1", "Name") + b"</row>",
        b'<row r="2">' + text_cell("A2", "Acme") + b"</row>",
        b'<row r="3">' + text_cell("A3", "x" * length) + b"</row>",
    ]
    message = refused_upload(client_as("salesperson"), "long.xlsx", workbook(rows))
    assert "A cell in row 3 holds more than 32,768 characters" in message


def test_a_cell_of_exactly_the_cap_is_read(personas):
    rows = [
        b'<row r="1">' + text_cell("A1", "Name") + text_cell("B1", "Notes") + b"</row>",
        b'<row r="2">' + text_cell("A2", "Acme") + text_cell("B2", "x" * 32_768) + b"</row>",
    ]
    table = reading.read_table(workbook(rows), "xlsx")
    assert len(table.rows[0][1][1]) == 32_768


def test_a_csv_cell_longer_than_the_cap_is_refused(client_as):
    content = b"Name,Notes\nAcme,ok\nBeta," + b"x" * 40_000 + b"\n"
    message = refused_upload(client_as("salesperson"), "long.csv", content)
    assert "A cell in row 3 holds more than 32,768 characters" in message


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_a_workbook_16000_columns_wide_is_refused(client_as, api):
    header = (
        b'<row r="1">'
        + text_cell("A1", "Name")
        + b"".join(f'<c r="{column(n)}1"><v>{n}</v></c>'.encode() for n in range(2, 16_001))
        + b"</row>"
    )
    content = workbook([header, b'<row r="2">' + text_cell("A2", "Acme") + b"</row>"])

    message = refused_upload(client_as("salesperson"), "wide.xlsx", content, api=api)

    assert "more than 200 columns; the most one import takes is 200" in message


def test_a_wide_sheet_without_cell_references_is_measured_too(client_as):
    """Cells may leave out their reference ("A1"): they are then counted one after another."""
    header = b"<row>" + b'<c t="inlineStr"><is><t>Name</t></is></c>' + b"<c><v>1</v></c>" * 300 + b"</row>"
    content = workbook([header, b'<row><c t="inlineStr"><is><t>Acme</t></is></c></row>'])
    message = refused_upload(client_as("salesperson"), "wide.xlsx", content)
    assert "more than 200 columns" in message


def test_a_csv_of_a_million_columns_is_refused(client_as):
    content = b"Name" + b"," * 1_000_000 + b"\nAcme\n"
    message = refused_upload(client_as("salesperson"), "wide.csv", content)
    assert "more than 200 columns; the most one import takes is 200" in message


def test_a_csv_line_wider_than_any_allowed_row_is_refused_before_it_is_parsed(client_as, settings):
    settings.IMPORT_MAX_CELL_CHARS = 100  # a row may then be 200 × 103 characters at most
    content = b"Name,Notes\nAcme," + b"y" * 30_000 + b"\n"
    message = refused_upload(client_as("salesperson"), "wide.csv", content)
    assert "holds more than 100 characters" in message


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_rows_beyond_the_cap_are_refused_and_the_cap_itself_is_accepted(
    client_as, personas, settings, file_format
):
    settings.IMPORT_MAX_ROWS = 10

    def content(count):
        if file_format == "csv":
            return ("Name\n" + "".join(f"Bomb test {n}\n" for n in range(count))).encode()
        return names_workbook(count)

    message = refused_upload(client_as("salesperson"), f"rows.{file_format}", content(11))
    assert message == "This file has more than 10 rows; the most one import takes is 10. Split it."

    batch = services.start_import(
        by=personas.salesperson,
        kind="customers",
        upload=SimpleUploadedFile(f"rows.{file_format}", content(10)),
    )
    assert (batch.state, batch.create_count) == (ImportState.PREVIEWED, 10)


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_the_default_row_cap_is_fifty_thousand(client_as, file_format):
    if file_format == "csv":
        content = ("Name\n" + "".join(f"Bomb test {n}\n" for n in range(50_001))).encode()
    else:
        content = names_workbook(50_001)
    message = refused_upload(client_as("salesperson"), f"rows.{file_format}", content)
    assert message == "This file has more than 50,000 rows; the most one import takes is 50,000. Split it."


def test_blank_rows_below_the_data_do_not_count(personas, settings):
    settings.IMPORT_MAX_ROWS = 3
    content = b"Name\nAcme\nBeta\n" + b",\n" * 100
    table = reading.read_table(content, "csv")
    assert [values for _number, values in table.rows] == [["Acme"], ["Beta"]]


def test_two_cells_far_apart_are_refused_by_the_area_they_span(client_as):
    """A1 and GR50000: within the row and column caps, but the reader would hold a grid of
    ten million cells (about 320 MB) for them."""
    content = workbook(
        [
            b'<row r="1">' + text_cell("A1", "Name") + b"</row>",
            b'<row r="50000"><c r="GR50000"><v>1</v></c></row>',
        ]
    )
    message = refused_upload(client_as("salesperson"), "sparse.xlsx", content)
    assert "spans 50,000 rows by 200 columns; the most one import takes is 1,000,000 cells" in message


def test_one_text_repeated_in_many_cells_is_refused_by_the_text_it_makes(client_as):
    """Each cell gets its own copy of a shared string: 4,000 × 30 KB is 120 MB."""
    text = incompressible_text(30_000)
    rows = [b'<row r="1">' + text_cell("A1", "Name") + b"</row>"]
    rows += (f'<row r="{n}"><c r="A{n}" t="s"><v>0</v></c></row>'.encode() for n in range(2, 4002))
    message = refused_upload(client_as("salesperson"), "repeat.xlsx", workbook(rows, [[text]]))
    assert "hold more than 64.0\xa0MB of text in all" in message


@pytest.mark.parametrize(
    "sheet_cell",
    [
        '<c r="A{n}" t="s"><v>0</v></c>',  # as Excel writes it
        "<c t='s'><f/><v>0</v></c>",  # no reference, single quotes, a formula in between
        '<x:c r="A{n}" t="s"><x:v>0</x:v></x:c>',  # a namespace prefix
    ],
    ids=["excel", "unusual", "prefixed"],
)
def test_shared_strings_are_counted_as_the_reader_numbers_them(client_as, sheet_cell):
    """Some calamine versions skip an ``<si>`` without text, which shifts the numbers after
    it: each number counts the larger text it may stand for, so the cells' number 0 counts
    as the 30 KB text after a thousand empty ones: refused, however the cells are written."""
    text = incompressible_text(30_000)
    rows = [b'<row r="1">' + text_cell("A1", "Name") + b"</row>"]
    rows += (f'<row r="{n}">{sheet_cell.format(n=n)}</row>'.encode() for n in range(2, 4002))
    content = workbook(rows, [[text]], shared_before=b"<si/>" * 500 + b"<si><rPh><t>x</t></rPh></si>" * 500)
    message = refused_upload(client_as("salesperson"), "shifted.xlsx", content)
    assert "hold more than 64.0\xa0MB of text in all" in message


# --- The worker applies the same caps ---------------------------------------------------------


def test_the_worker_refuses_a_file_beyond_the_caps_and_keeps_nothing(
    personas, settings, django_capture_on_commit_callbacks
):
    """A file accepted at upload under other caps (a worker configured differently, a batch
    uploaded before an upgrade) is refused by the worker's own check."""
    settings.IMPORT_SYNC_MAX_BYTES = 0  # checked by the worker
    with django_capture_on_commit_callbacks(execute=False) as queued:
        batch = services.start_import(
            by=personas.salesperson,
            kind="customers",
            upload=SimpleUploadedFile("rows.xlsx", names_workbook(20)),
        )
    assert batch.state == ImportState.UPLOADED and len(queued) == 1

    settings.IMPORT_MAX_ROWS = 5
    from crm.tasks import preview_import

    preview_import(batch_id=batch.pk)

    batch.refresh_from_db()
    assert batch.state == ImportState.FAILED
    assert batch.message == "This file has more than 5 rows; the most one import takes is 5. Split it."
    assert (batch.content, batch.rows, batch.create_count) == (None, None, 0)
    assert not Customer.objects.filter(import_batch=batch).exists()


def test_a_refused_file_reads_the_same_through_read_table():
    with pytest.raises(ValidationError, match="compressed more than 100 to 1"):
        reading.read_table(huge_cell_workbook(50), "xlsx")


# --- Peak memory, measured in a fresh process -------------------------------------------------

MEASURE = """
import json, sys
import django
django.setup()
from django.core.exceptions import ValidationError
from crm.importing import reading
content = open(sys.argv[1], "rb").read()
outcome = "read"
try:
    reading.read_table(content, sys.argv[2], max_rows=50)  # the upload's check (web)
    packed = reading.pack_rows(content, sys.argv[2])  # the worker's read, then its rows
    headers, rows = reading.unpack_rows(packed)
    rows = len(list(rows))
except ValidationError as error:
    outcome, rows = " ".join(error.messages), 0
# VmHWM is this process's own peak: ru_maxrss would also count the pytest process it
# was started from (Linux carries the larger figure over the exec of a vfork'ed child).
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"outcome": outcome, "rows": rows, "peak_mb": peak_kb / 1024}))
"""


def peak_memory(tmp_path, content: bytes, file_format: str) -> dict:
    path = tmp_path / f"upload.{file_format}"
    path.write_bytes(content)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DJANGO_ENV": "test"}
    finished = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", MEASURE, str(path), file_format],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    return json.loads(finished.stdout.strip().splitlines()[-1])


def realistic_rows(count: int) -> Iterable[bytes]:
    """Template-like rows: 15 columns, names and addresses as shared strings."""
    headers = [
        "Name",
        "Grade",
        "Owner",
        "Tier",
        "Industry",
        "Region",
        "Phone",
        "Email",
        "Expected value",
        "Notes",
        "Tags",
        "Contact name",
        "Contact role",
        "Contact phone",
        "Contact email",
    ]
    yield (
        b'<row r="1">' + b"".join(text_cell(f"{column(i)}1", h) for i, h in enumerate(headers, 1)) + b"</row>"
    )
    for n in range(2, count + 2):
        cells = [f'<c r="A{n}" t="s"><v>{n - 2}</v></c>', f'<c r="B{n}" t="inlineStr"><is><t>C</t></is></c>']
        cells += [
            f'<c r="{column(i)}{n}" t="inlineStr"><is><t>value {n} in column {i}, '
            f"long enough to be real</t></is></c>"
            for i in range(3, 9)
        ]
        cells += [f'<c r="I{n}"><v>{50000 + n}</v></c>']
        cells += [
            f'<c r="{column(i)}{n}" t="inlineStr"><is><t>客户备注 {n} 第{i}列</t></is></c>'
            for i in range(10, 16)
        ]
        yield f'<row r="{n}">{"".join(cells)}</row>'.encode()


@pytest.mark.slow
def test_reading_a_refused_bomb_stays_under_the_memory_budget(tmp_path):
    measured = peak_memory(tmp_path, huge_cell_workbook(300), "xlsx")  # 300 MB in one cell
    assert "unpacks to more than 64.0\xa0MB" in measured["outcome"]
    assert measured["peak_mb"] < MEMORY_BUDGET_MB, measured


@pytest.mark.slow
def test_reading_the_largest_accepted_file_stays_under_the_memory_budget(tmp_path):
    count = 50_000  # the row cap, 15 columns filled
    content = workbook(realistic_rows(count), [[f"规模测试客户{n}有限公司".encode()] for n in range(count)])
    measured = peak_memory(tmp_path, content, "xlsx")
    assert (measured["outcome"], measured["rows"]) == ("read", count), measured
    assert measured["peak_mb"] < MEMORY_BUDGET_MB, measured


@pytest.mark.slow
def test_reading_refused_csv_and_sparse_bombs_stays_under_the_memory_budget(tmp_path):
    wide = peak_memory(tmp_path, b"Name" + b"," * (19 * MB) + b"\nAcme\n", "csv")
    sparse = peak_memory(
        tmp_path,
        workbook(
            [
                b'<row r="1">' + text_cell("A1", "Name") + b"</row>",
                b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
            ]
        ),
        "xlsx",
    )
    assert "columns" in wide["outcome"] and "more than 50,000 rows" in sparse["outcome"]
    assert max(wide["peak_mb"], sparse["peak_mb"]) < MEMORY_BUDGET_MB, (wide, sparse)

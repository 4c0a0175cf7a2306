"""Spreadsheet imports: template, preview (create / update / duplicate / error with row
numbers), all-or-nothing confirm, encodings, refused files, roles, API, query counts."""

import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from core.models import SecurityAction, SecurityEvent
from crm.importing import services
from crm.models import (
    Contact,
    CrmSettings,
    Customer,
    ImportBatch,
    ImportState,
    Tag,
)
from crm.tests.factories import ContactFactory, CustomerFactory
from funnel.tests.factories import ensure_default_grades, grade


@pytest.fixture(autouse=True)
def default_grades(db):
    """Transactional tests elsewhere empty the grades table; imports resolve codes in it."""
    ensure_default_grades()


@pytest.fixture(autouse=True)
def shared_tags(db):
    """The tags an admin has added: others may only pick these (see test_tags.py)."""
    Tag.objects.bulk_create([Tag(name=name) for name in ("国企", "重点", "steel")])


def workbook_from_template(rows: list[dict], language: str = "zh-hans") -> bytes:
    """The downloaded template, filled in: ``rows`` map header text → value."""
    workbook = load_workbook(io.BytesIO(services.template_workbook("customers", language)))
    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    for row in rows:
        sheet.append([row.get(header) for header in headers])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def upload(content: bytes, name: str = "客户.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def zh_row(i: int, **extra) -> dict:
    row = {
        "客户名称*": f"华东新客户{i}有限公司",
        "客户等级": "EDC"[i % 3],
        "客户分类": "优先考虑",
        "预计年成交额(元)": 100000 + i,
        "预计签约日期": "2026-06-30",
        "标签": "国企，重点",
        "电话": f"021-5555{i:04d}",
        "联系人姓名": f"张{i}",
        "关键人角色": "决策型",
        "联系人电话": f"139{i:08d}",
    }
    row.update(extra)
    return row


def test_a_confirmed_import_goes_to_the_security_audit_log(personas):
    batch = services.start_import(
        by=personas.salesperson, kind="customers", upload=upload(workbook_from_template([zh_row(1)]))
    )
    services.confirm_import(batch=batch, by=personas.salesperson)

    events = SecurityEvent.objects.filter(action=SecurityAction.IMPORT).order_by("pk")
    assert [(e.actor, e.object_id, e.detail["stage"]) for e in events] == [
        (personas.salesperson, str(batch.pk), "confirmed"),
        (personas.salesperson, str(batch.pk), "done"),
    ]


# --- The acceptance journey ------------------------------------------------------------


def test_chinese_template_500_rows_previews_exact_counts_and_confirm_creates_the_rest(personas, client_as):
    # given: five customers of another team that the file repeats
    west = [CustomerFactory(owner=personas.other_salesperson, name=f"西区老客户{n}") for n in range(5)]
    rows = [
        zh_row(i, **{"负责人(用户名)": ["salesperson", "teammate", "sub_salesperson", None][i % 4]})
        for i in range(485)
    ]
    # 5 duplicates of live customers (normalized: full-width, suffix) and 5 within the file
    rows += [
        zh_row(1000 + n, **{"客户名称*": f"西区老客户{n}有限公司", "电话": None, "联系人电话": None})
        for n in range(5)
    ]
    rows += [
        zh_row(2000 + n, **{"客户名称*": f"华东新客户{n} 有限公司", "电话": None, "联系人电话": None})
        for n in range(5)
    ]
    # 5 bad rows
    rows += [
        zh_row(3000, **{"客户等级": "Z"}),
        zh_row(3001, **{"预计签约日期": "2026-13-45"}),
        zh_row(3002, **{"预计年成交额(元)": -5}),
        zh_row(3003, **{"客户名称*": None}),
        zh_row(3004, **{"负责人(用户名)": "other_salesperson"}),
    ]
    client = client_as("manager")
    assert (
        client.get(reverse("imports:template"), {"kind": "customers", "language": "zh-hans"}).status_code
        == 200
    )
    before = Customer.objects.count()

    # when: upload → preview
    response = client.post(
        reverse("imports:create"), {"kind": "customers", "file": upload(workbook_from_template(rows))}
    )

    # then: nothing written yet, exact counts with row-numbered messages
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("imports:detail", args=[batch.pk])
    assert Customer.objects.count() == before
    assert (batch.state, batch.total_rows) == (ImportState.PREVIEWED, 500)
    assert (batch.create_count, batch.update_count, batch.duplicate_count, batch.error_count) == (
        485,
        0,
        10,
        5,
    )
    owner_name = personas.other_salesperson.display_name
    duplicates = {row["row"]: row["message"] for row in batch.preview["duplicate"]}
    assert duplicates[487] == f"This customer already exists and is owned by {owner_name}."
    assert duplicates[492] == "Same customer as row 2 of this file."
    errors = {(issue["row"], issue["column"]): issue["message"] for issue in batch.errors}
    assert errors == {
        (497, "客户等级"): "Unknown grade “Z”; use one of: E, D, C, B, A.",
        (498, "预计签约日期"): "“2026-13-45” is not a date; write it as 2025-03-31.",
        (499, "预计年成交额(元)"): "Must not be negative.",
        (500, "客户名称"): "The name is missing.",
        (501, "负责人(用户名)"): "other_salesperson is not in your team.",
    }
    page = client.get(reverse("imports:detail", args=[batch.pk]))
    assert page.status_code == 200
    assert "Unknown grade “Z”" in page.content.decode()

    # when: confirm
    response = client.post(reverse("imports:confirm", args=[batch.pk]))

    # then: the 485 valid rows and nothing else, traced to the batch, with contacts and tags
    batch.refresh_from_db()
    assert response.status_code == 302
    assert (batch.state, batch.created_count, batch.progress) == (ImportState.DONE, 485, 100)
    assert batch.content is None
    assert Customer.objects.count() == before + 485
    imported = Customer.objects.filter(import_batch=batch)
    assert imported.count() == 485
    assert Contact.objects.filter(import_batch=batch, role="decision_maker").count() == 485
    assert not Customer.objects.filter(name__in=["华东新客户3000有限公司", "华东新客户3004有限公司"]).exists()
    first = imported.get(name="华东新客户0有限公司")
    assert (first.owner, first.grade.code, first.tier, first.expected_value) == (
        personas.salesperson,
        "E",
        "priority",
        Decimal("100000.00"),
    )
    assert first.name_normalized == "华东新客户0" and first.phone_digits == "02155550000"
    assert first.stagnant_from is not None and first.created_by == personas.manager
    assert sorted(first.tags.values_list("name", flat=True)) == ["国企", "重点"]
    assert imported.get(name="华东新客户3有限公司").owner == personas.manager  # empty owner: the importer
    created = first.history.get()
    assert (created.history_type, created.history_user, created.history_change_reason, created.name) == (
        "+",
        personas.manager,
        "Imported from 客户.xlsx",
        "华东新客户0有限公司",
    )
    assert first.contacts.get().history.get().history_user == personas.manager
    assert all(
        c.owner == personas.other_salesperson for c in Customer.objects.filter(pk__in=[w.pk for w in west])
    )


def test_confirm_rechecks_and_writes_nothing_when_the_data_changed_since_the_preview(personas):
    content = workbook_from_template([zh_row(1), zh_row(2)])
    batch = services.start_import(by=personas.salesperson, kind="customers", upload=upload(content))
    assert batch.create_count == 2
    CustomerFactory(owner=personas.teammate, name="华东新客户2")  # someone was faster

    batch = services.confirm_import(batch=batch, by=personas.salesperson)

    assert batch.state == ImportState.PREVIEWED
    assert (batch.create_count, batch.duplicate_count) == (1, 1)
    assert "changed since the preview" in batch.message
    assert not Customer.objects.filter(import_batch=batch).exists()


def test_a_row_with_a_visible_customers_id_updates_it_and_adds_a_contact(personas):
    customer = CustomerFactory(owner=personas.salesperson, name="Acme Trading", industry="")
    customer.tags.add(Tag.objects.create(name="vip"))
    other = CustomerFactory(owner=personas.other_salesperson, name="West Steel")
    rows = [
        {
            "ID": customer.pk,
            "Industry": "Steel",
            "Tags": "vip, steel",
            "Contact name": "Li Lei",
            "Key-person role": "recommender",
        },
        {"ID": other.pk, "Industry": "Glass"},
        {"ID": customer.pk, "Grade": "A"},
    ]
    batch = services.start_import(
        by=personas.salesperson,
        kind="customers",
        upload=upload(workbook_from_template(rows, "en"), "update.xlsx"),
    )
    assert (batch.update_count, batch.error_count) == (1, 2)
    messages = {issue["row"]: issue["message"] for issue in batch.errors}
    assert messages[3] == f"No customer with ID {other.pk} that you can see."
    assert messages[4].startswith("Grades change in the funnel")

    services.confirm_import(batch=batch, by=personas.salesperson)

    customer.refresh_from_db()
    assert customer.industry == "Steel"
    assert sorted(customer.tags.values_list("name", flat=True)) == ["steel", "vip"]
    contact = customer.contacts.get()
    assert (contact.name, contact.history.get().history_type) == ("Li Lei", "+")
    assert other.__class__.objects.get(pk=other.pk).industry == ""


def test_a_salesperson_imports_only_into_their_own_name(personas):
    rows = [{"Name*": "Mine Ltd"}, {"Name*": "Theirs Ltd", "Owner (username)": "teammate"}]
    batch = services.start_import(
        by=personas.salesperson,
        kind="customers",
        upload=upload(workbook_from_template(rows, "en"), "mine.xlsx"),
    )
    assert (batch.create_count, batch.error_count) == (1, 1)
    assert batch.errors == [
        {
            "row": 3,
            "column": "Owner (username)",
            "message": "You may import customers only into your own name.",
        }
    ]


def test_contact_phone_of_another_live_customer_is_a_conflict(personas):
    ContactFactory(customer=CustomerFactory(owner=personas.teammate), phone="+86 138 0000 1111")
    rows = [{"Name*": "New Co", "Contact name": "Wang", "Contact phone": "13800001111"}]
    batch = services.start_import(
        by=personas.salesperson, kind="customers", upload=upload(workbook_from_template(rows, "en"), "c.xlsx")
    )
    assert batch.duplicate_count == 1
    assert batch.preview["duplicate"][0]["message"] == (
        f"This customer already exists and is owned by {personas.teammate.display_name}."
    )


# --- Encodings and refused files ---------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_csv_in_chinese_encodings_imports_the_names_exactly(personas, encoding):
    text = "客户名称,客户等级,客户分类,联系人姓名\n北京华夏科技有限公司,D,一般考虑,王芳\n上海浦江贸易,E,,\n"
    batch = services.start_import(
        by=personas.salesperson, kind="customers", upload=upload(text.encode(encoding), "客户.csv")
    )
    assert (batch.create_count, batch.error_count) == (2, 0), batch.errors

    services.confirm_import(batch=batch, by=personas.salesperson)

    huaxia = Customer.objects.get(import_batch=batch, grade__code="D")
    assert (huaxia.name, huaxia.tier) == ("北京华夏科技有限公司", "normal")
    assert huaxia.contacts.get().name == "王芳"
    assert Customer.objects.filter(name="上海浦江贸易").exists()


def _macro_workbook() -> bytes:
    output = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook_from_template([{"Name*": "X"}], "en"))) as source,
        zipfile.ZipFile(output, "w") as target,
    ):
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("xl/vbaProject.bin", b"Attribute VB_Name")
    return output.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "could not be read as an Excel workbook"),
        ("fake.xlsx", b"Name\nAcme\n", "not a real Excel workbook"),
        ("macro.xlsm", b"PK\x03\x04", "Files of type “.xlsm” cannot be imported"),
        ("old.xls", b"\xd0\xcf\x11\xe0", "Files of type “.xls” cannot be imported"),
        ("macro.xlsx", None, "contains macros"),
        ("binary.csv", b"\x00\x01\x02Name", "not a text CSV file"),
        ("empty.csv", b"", "file is empty."),
        ("headers.csv", b"Name\n", "headers but no rows"),
        ("nameless.csv", b"Phone,Region\n123,East\n", "the “Name” column is missing"),
    ],
)
def test_a_malformed_file_gets_a_clear_message_and_writes_nothing(client_as, name, content, message):
    content = _macro_workbook() if content is None else content
    before = Customer.objects.count()

    response = client_as("salesperson").post(
        reverse("imports:create"), {"kind": "customers", "file": upload(content, name)}
    )

    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["file"])
    assert not ImportBatch.objects.exists()
    assert Customer.objects.count() == before


def test_an_oversized_file_is_refused_with_the_limit(client_as, settings):
    settings.IMPORT_MAX_BYTES = 1024
    response = client_as("salesperson").post(
        reverse("imports:create"),
        {"kind": "customers", "file": upload(b"Name\n" + b"Acme\n" * 400, "big.csv")},
    )

    assert response.status_code == 400
    assert "the limit is 1.0\xa0KB" in response.context["form"].errors["file"][0]
    assert not ImportBatch.objects.exists()


def test_formulas_are_never_run_and_exports_neutralise_them(personas, client_as):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Notes"])
    sheet.append(['=HYPERLINK("http://evil","x")', "formula in name"])  # no cached value → empty
    sheet.append(["'=1+1", "text"])
    sheet.append(["Plain Co", "=1+1"])
    output = io.BytesIO()
    workbook.save(output)
    batch = services.start_import(
        by=personas.manager, kind="customers", upload=upload(output.getvalue(), "f.xlsx")
    )
    assert batch.errors == [{"row": 2, "column": "Name", "message": "The name is missing."}]
    services.confirm_import(batch=batch, by=personas.manager)
    assert Customer.objects.get(name="Plain Co").notes == ""  # a formula's value, never its result

    Customer.objects.filter(import_batch=batch).update(industry="@SUM(A1)")
    response = client_as("manager").get(reverse("crm:customer-export"), {"file_format": "csv"})
    assert "'@SUM(A1)" in response.content.decode("utf-8-sig")


# --- Large files through the worker ------------------------------------------------------


def test_a_large_file_goes_through_the_worker_with_progress(
    personas, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_SYNC_MAX_BYTES = 0
    content = workbook_from_template([zh_row(i) for i in range(1200)])

    with django_capture_on_commit_callbacks(execute=True):
        batch = services.start_import(by=personas.salesperson, kind="customers", upload=upload(content))
    batch.refresh_from_db()
    assert (batch.state, batch.progress, batch.create_count) == (ImportState.PREVIEWED, 100, 1200)

    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_import(batch=batch, by=personas.salesperson)
    batch.refresh_from_db()
    assert (batch.state, batch.created_count) == (ImportState.DONE, 1200)

    # a task delivered twice does its work once
    from crm.tasks import commit_import, preview_import

    preview_import(batch_id=batch.pk)
    commit_import(batch_id=batch.pk)
    assert Customer.objects.filter(import_batch=batch).count() == 1200


def test_progress_fragment_polls_while_running_and_stops_when_done(personas, client_as, settings):
    settings.IMPORT_SYNC_MAX_BYTES = 0
    batch = services.start_import(
        by=personas.salesperson, kind="customers", upload=upload(workbook_from_template([zh_row(1)]))
    )
    client = client_as("salesperson")
    url = reverse("imports:progress", args=[batch.pk])

    running = client.get(url, HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 500ms"' in running.content.decode()
    assert "HX-Refresh" not in running

    services.preview_batch(batch.pk)
    done = client.get(url, HTTP_HX_REQUEST="true")
    assert "hx-trigger" not in done.content.decode()
    assert done["HX-Refresh"] == "true"


def test_a_progress_update_the_database_refuses_does_not_stop_the_import(personas, monkeypatch):
    """The bar is informational: SQLite locked by a reader (the polling page) at that
    moment skips one update, and the preview and the commit go on."""
    update = QuerySet.update

    def locked_for_progress(queryset, **values):
        if set(values) == {"progress"}:
            raise OperationalError("database table is locked: crm_importbatch")
        return update(queryset, **values)

    monkeypatch.setattr(QuerySet, "update", locked_for_progress)
    batch = services.start_import(
        by=personas.salesperson,
        kind="customers",
        upload=upload(workbook_from_template([zh_row(i) for i in range(3)])),
    )
    assert (batch.state, batch.create_count) == (ImportState.PREVIEWED, 3)
    batch = services.confirm_import(batch=batch, by=personas.salesperson)
    assert (batch.state, batch.created_count) == (ImportState.DONE, 3)


# --- Who may confirm; the API ------------------------------------------------------------


def test_only_the_uploader_confirms(personas, client_as):
    batch = services.start_import(
        by=personas.salesperson, kind="customers", upload=upload(workbook_from_template([zh_row(1)]))
    )
    assert client_as("manager").post(reverse("imports:confirm", args=[batch.pk])).status_code == 403
    assert client_as("teammate").post(reverse("imports:confirm", args=[batch.pk])).status_code == 404
    batch.refresh_from_db()
    assert batch.state == ImportState.PREVIEWED


def test_api_upload_returns_the_preview_then_confirm_and_read(personas, client_as):
    client = client_as("salesperson")
    content = workbook_from_template([zh_row(1), zh_row(2, **{"客户等级": "Q"})])

    response = client.post("/api/imports/", {"kind": "customers", "file": upload(content)})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["state"], body["create_count"], body["error_count"]) == ("previewed", 1, 1)
    assert body["errors"][0]["row"] == 3
    confirmed = client.post(f"/api/imports/{body['id']}/confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["created_count"] == 1
    read = client.get(f"/api/imports/{body['id']}/").json()
    assert (read["state"], read["progress"]) == ("done", 100)
    assert client.post(f"/api/imports/{body['id']}/confirm/").status_code == 400


def test_api_refuses_a_bad_file_with_a_message(client_as):
    response = client_as("salesperson").post(
        "/api/imports/", {"kind": "customers", "file": upload(b"junk", "x.pdf")}
    )
    assert response.status_code == 400
    assert "cannot be imported" in response.json()["file"][0]


# --- Exports ---------------------------------------------------------------------------


def test_a_salespersons_contact_export_never_contains_another_salespersons(personas, client_as):
    CrmSettings.objects.update_or_create(pk=1, defaults={"salespeople_may_export": True})
    ContactFactory(customer=CustomerFactory(owner=personas.salesperson, name="Mine Co"), name="Mine Person")
    ContactFactory(customer=CustomerFactory(owner=personas.teammate, name="Team Co"), name="Team Person")
    ContactFactory(
        customer=CustomerFactory(owner=personas.other_salesperson, name="West Co"), name="West Person"
    )

    mine = client_as("salesperson").get(reverse("crm:contact-export"), {"file_format": "csv"})
    team = client_as("manager").get(reverse("crm:contact-export"), {"file_format": "csv", "search": "Co"})

    assert mine.status_code == 200
    assert "Mine Person" in mine.content.decode("utf-8-sig")
    assert "Team Person" not in mine.content.decode("utf-8-sig")
    assert "West Person" not in mine.content.decode("utf-8-sig")
    assert "West Person" not in team.content.decode("utf-8-sig")
    assert "Team Person" in team.content.decode("utf-8-sig")


def test_contact_export_follows_the_export_policy_and_cap(personas, client_as):
    assert client_as("salesperson").get(reverse("crm:contact-export")).status_code == 403
    CrmSettings.objects.update_or_create(pk=1, defaults={"export_row_cap": 1})
    customer = CustomerFactory(owner=personas.salesperson)
    ContactFactory(customer=customer, name="A")
    ContactFactory(customer=customer, name="=cmd|' /C calc'!A0")
    response = client_as("manager").get(reverse("crm:contact-export"), {"file_format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2  # header + the cap
    assert rows[1][1] == "'=cmd|' /C calc'!A0"


# --- Query counts --------------------------------------------------------------------------


def _make_batches(user, count):
    ImportBatch.objects.bulk_create(
        [
            ImportBatch(
                user=user,
                kind="customers",
                file_name=f"f{n}.xlsx",
                file_format="xlsx",
                state=ImportState.DONE,
            )
            for n in range(count)
        ]
    )


@pytest.mark.parametrize("url", ["/imports/", "/api/imports/"])
def test_import_lists_run_a_constant_number_of_queries(personas, client_as, url):
    client = client_as("manager")
    _make_batches(personas.salesperson, 2)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _make_batches(personas.teammate, 20)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    # session, user, the manager's team tree, count, the page of batches joined with their
    # users; the page adds the bell's unread count and the session save (savepoint + update)
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
    assert len(small) <= (8 if url.startswith("/api/") else 10)
    assert (
        response.json()["count"] if url.startswith("/api/") else response.context["paginator"].count
    ) == 22


def test_the_import_history_shows_only_visible_batches(personas, client_as):
    _make_batches(personas.salesperson, 1)
    _make_batches(personas.other_salesperson, 1)
    assert client_as("salesperson").get("/api/imports/").json()["count"] == 1
    assert client_as("manager").get("/api/imports/").json()["count"] == 1
    assert client_as("other_manager").get("/api/imports/").json()["count"] == 1
    assert client_as("admin").get("/api/imports/").json()["count"] == 2
    assert client_as("teammate").get("/api/imports/").json()["count"] == 0


def test_grade_codes_resolve_through_the_customer_grade_relation(personas):
    rows = [
        {"Name*": "By code", "Grade": "b"},
        {"Name*": "By name", "Grade": grade("C").name},
        {"Name*": "Won", "Grade": "WON"},
    ]
    batch = services.start_import(
        by=personas.salesperson, kind="customers", upload=upload(workbook_from_template(rows, "en"), "g.xlsx")
    )
    assert batch.create_count == 2
    assert batch.errors[0]["message"].startswith("Customers are imported at an open grade")

"""Exports: off for salespeople by default, only visible rows, capped, always recorded,
and safe to open in a spreadsheet (no formula injection)."""

import csv
import io

import pytest
from django.urls import reverse

from crm.models import CrmSettings, ExportRecord
from crm.tests.factories import CustomerFactory


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _allow_salespeople(cap: int = 10000) -> None:
    CrmSettings.objects.update_or_create(
        pk=1, defaults={"salespeople_may_export": True, "export_row_cap": cap}
    )


@pytest.fixture
def customers(personas):
    return [
        CustomerFactory(owner=personas.salesperson, name="Alpha Ltd"),
        CustomerFactory(owner=personas.salesperson, name="Beta Ltd"),
        CustomerFactory(owner=personas.teammate, name="Gamma Ltd"),
        CustomerFactory(owner=personas.other_salesperson, name="Delta Ltd"),
    ]


def test_a_salesperson_is_refused_by_default_and_nothing_is_recorded(customers, client_as):
    client = client_as("salesperson")

    response = client.get(reverse("crm:customer-export"), {"file_format": "csv"})

    assert response.status_code == 403
    assert not ExportRecord.objects.exists()
    assert not client.get(reverse("crm:customer-list")).context["can_export"]


def test_a_salesperson_exports_only_their_own_customers_when_allowed(personas, customers, client_as):
    _allow_salespeople()

    response = client_as("salesperson").get(reverse("crm:customer-export"), {"file_format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = _rows(response)
    assert rows[0][:2] == ["Name", "Grade"]
    assert [row[0] for row in rows[1:]] == ["Alpha Ltd", "Beta Ltd"]
    record = ExportRecord.objects.get()
    assert (record.user, record.kind, record.file_format, record.row_count) == (
        personas.salesperson,
        "customers",
        "csv",
        2,
    )


def test_a_manager_exports_the_team_tree_in_excel_and_it_is_recorded(personas, customers, client_as):
    response = client_as("manager").get(
        reverse("crm:customer-export"), {"file_format": "xlsx", "search": "a"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    record = ExportRecord.objects.get()
    assert (record.user, record.file_format, record.row_count, record.filters) == (
        personas.manager,
        "xlsx",
        3,
        {"search": "a"},
    )


def test_the_export_follows_the_lists_filters(personas, customers, client_as):
    response = client_as("manager").get(
        reverse("crm:customer-export"), {"file_format": "csv", "search": "gamma"}
    )

    assert [row[0] for row in _rows(response)[1:]] == ["Gamma Ltd"]
    assert ExportRecord.objects.get().row_count == 1


def test_the_row_cap_is_respected_and_the_record_says_how_many_left(personas, customers, client_as):
    CrmSettings.objects.update_or_create(pk=1, defaults={"export_row_cap": 2})

    response = client_as("admin").get(reverse("crm:customer-export"), {"file_format": "csv"})

    assert [row[0] for row in _rows(response)[1:]] == ["Alpha Ltd", "Beta Ltd"]
    assert ExportRecord.objects.get().row_count == 2


def test_an_unknown_format_answers_404_and_records_nothing(customers, client_as):
    response = client_as("manager").get(reverse("crm:customer-export"), {"file_format": "pdf"})

    assert response.status_code == 404
    assert not ExportRecord.objects.exists()


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil")', "+1+cmd", "-2+3", "@SUM(A1)"])
def test_text_that_looks_like_a_formula_is_neutralised(personas, client_as, name):
    _allow_salespeople()
    CustomerFactory(owner=personas.salesperson, name=name, industry="=cmd|' /C calc'!A0", region="Jiangsu")

    rows = _rows(client_as("salesperson").get(reverse("crm:customer-export"), {"file_format": "csv"}))

    header, row = rows[0], rows[1]
    assert row[0] == "'" + name
    assert row[header.index("Industry")] == "'=cmd|' /C calc'!A0"
    assert row[header.index("Region")] == "Jiangsu"
    # Numbers stay numbers (a negative number is not text to neutralise).
    assert row[header.index("Expected yearly value")] == "0.0"

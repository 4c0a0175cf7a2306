"""A report's columns, declared once beside its result dataclass: the page table, the
Excel export and the API serializer are built from the same tuple, so adding a column
is one edit and the three cannot disagree.

A column reads its value from a row by a dotted path (``source``, the key by default) and
its ``kind`` says how that value is shown and typed: a page writes money as ``¥1.2万``,
the export and the API keep the full number; a status is a badge on the page, its label
in the export and its code in the API; so is a grade (its code in both)."""

from dataclasses import dataclass
from enum import StrEnum

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class Kind(StrEnum):
    TEXT = "text"
    ID = "id"
    COUNT = "count"
    MONEY = "money"
    PERCENT = "percent"
    RATE = "rate"  # a fraction 0..1: the export writes it in percent, the API keeps it
    NUMBER = "number"  # days, hours, a ratio: shown as it is
    STATUS = "status"
    FLAG = "flag"  # a yes or no
    GRADE = "grade"  # a Grade: its badge and name on the page, its code in the export and the API


# A target's status (``selectors.target_status``); one named schema wherever it is answered.
TARGET_STATUSES = ["met", "exceeded", "short", "none"]


@extend_schema_field({"type": "string", "enum": TARGET_STATUSES}, component_name="TargetStatus")
class TargetStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=TARGET_STATUSES, **kwargs)


@extend_schema_field(OpenApiTypes.STR)
class GradeCodeField(serializers.Field):
    """A grade answered as its code."""

    def to_representation(self, value):
        return value.code


def number_field(**kwargs) -> serializers.DecimalField:
    """A decimal that stays a JSON number (the answers were built by hand with numbers)."""
    return serializers.DecimalField(
        max_digits=None, decimal_places=None, coerce_to_string=False, allow_null=True, **kwargs
    )


# The API field of each kind.
_FIELDS = {
    Kind.TEXT: lambda **kw: serializers.CharField(allow_null=True, **kw),
    Kind.ID: lambda **kw: serializers.IntegerField(allow_null=True, **kw),
    Kind.COUNT: lambda **kw: serializers.IntegerField(**kw),
    Kind.MONEY: number_field,
    Kind.PERCENT: number_field,
    Kind.RATE: number_field,
    Kind.NUMBER: number_field,
    Kind.STATUS: TargetStatusField,
    Kind.FLAG: serializers.BooleanField,
    Kind.GRADE: GradeCodeField,
}


@dataclass(frozen=True)
class Column:
    """``label``: the export's header (and the page's unless ``heading`` is shorter);
    ``page``/``export``/``api``: where it shows (an id only in the API, a name only for people)."""

    key: str
    label: str
    kind: Kind = Kind.TEXT
    source: str = ""
    heading: str = ""
    page: bool = True
    export: bool = True
    api: bool = True

    def value(self, row):
        value = row
        for name in (self.source or self.key).split("."):
            value = getattr(value, name) if value is not None else None
        return value

    @property
    def page_heading(self) -> str:
        return self.heading or self.label

    @property
    def numeric(self) -> bool:
        return self.kind in (Kind.COUNT, Kind.MONEY, Kind.PERCENT, Kind.RATE, Kind.NUMBER)


def page_columns(columns: tuple[Column, ...]) -> list[Column]:
    return [column for column in columns if column.page]


def export_columns(columns: tuple[Column, ...]) -> list[Column]:
    return [column for column in columns if column.export]


def export_cell(column: Column, row, status_labels: dict):
    value = column.value(row)
    if column.kind == Kind.STATUS:
        return str(status_labels[value])
    if column.kind == Kind.GRADE:
        return value.code
    if column.kind == Kind.TEXT:
        return "" if value is None else str(value)
    if column.kind == Kind.RATE and value is not None:
        return value * 100
    return value


def export_table(columns: tuple[Column, ...], rows, status_labels: dict) -> tuple[list, list]:
    """The export's (headers, rows) of ``rows`` under the export columns."""
    shown = export_columns(columns)
    return (
        [column.label for column in shown],
        [[export_cell(column, row, status_labels) for column in shown] for row in rows],
    )


def page_table(columns: tuple[Column, ...], rows, total=None) -> dict:
    """What ``reports/_table.html`` renders: the headings, each row's (column, value)
    cells, and the total row's under them."""
    shown = page_columns(columns)

    def cells(row):
        return [(column, column.value(row)) for column in shown]

    return {
        "columns": shown,
        "rows": [(row, cells(row)) for row in rows],
        "total": cells(total) if total is not None else None,
    }


def row_serializer(name: str, columns: tuple[Column, ...]) -> type[serializers.Serializer]:
    """A serializer of the API columns, so the schema documents each field's type."""
    fields = {
        column.key: _FIELDS[column.kind](**({"source": column.source} if column.source else {}))
        for column in columns
        if column.api
    }
    return type(name, (serializers.Serializer,), fields)

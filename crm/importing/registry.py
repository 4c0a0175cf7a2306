"""The kinds of spreadsheet import, registered by the app that owns the rows.

``crm`` registers customers (with their contacts); ``activities`` registers its
activity importer in its ``AppConfig.ready()``. The shared machinery (batches, file
reading, preview, progress, the task) lives in ``crm.importing`` and never imports a
higher app: it only looks importers up here.
"""

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class Column:
    """One column of an import file: its key, its headers in English and Chinese (the
    templates' header rows; either is recognised, as is the key), and help for the
    template's instructions sheet."""

    key: str
    header_en: str
    header_zh: str
    required: bool = False
    help: str | Promise = ""

    def headers(self) -> set[str]:
        return {_header_key(self.key), _header_key(self.header_en), _header_key(self.header_zh)}


def _header_key(text: str) -> str:
    """Headers compare without spaces, case, width (（ ）→ ( )) or the required mark (*)."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).casefold().rstrip("*")


@dataclass
class RowIssue:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": str(self.message)}


@dataclass
class PlannedRow:
    """What the preview decided for one data row: ``create``, ``update``, ``duplicate`` or ``error``."""

    row: int
    action: str
    label: str = ""
    message: str = ""
    issues: list[RowIssue] = field(default_factory=list)
    payload: Any = None  # the importer's own prepared objects, used by ``commit``


@dataclass
class Plan:
    rows: list[PlannedRow] = field(default_factory=list)

    def of(self, action: str) -> list[PlannedRow]:
        return [row for row in self.rows if row.action == action]

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)


class Importer:
    """Base class: ``plan`` validates every row in memory with a constant number of
    queries; ``commit`` writes the planned creates and updates (the caller holds the
    transaction). ``kind`` is the registry key; ``label`` what users read."""

    kind: str = ""
    label: str | Promise = ""
    columns: Sequence[Column] = ()

    def plan(
        self,
        *,
        batch,
        user,
        rows: Iterable[tuple[int, dict[str, Any]]],
        progress: Callable[[int], None],
        headers: dict[str, str] | None = None,
    ) -> Plan:  # pragma: no cover - interface
        """``rows``: (row number, {column key: cell}); ``headers``: column key → the file's
        header text, for messages; ``progress(rows_done)`` every few hundred rows."""
        raise NotImplementedError

    def commit(
        self, *, batch, user, plan: Plan, progress: Callable[[int], None]
    ) -> tuple[int, int]:  # pragma: no cover - interface
        """Write the plan; returns ``(created, updated)``. ``progress(rows_written)`` after
        each batch of rows: the page sees it while the transaction is still open."""
        raise NotImplementedError

    def header_map(self, headers: Sequence[Any]) -> dict[int, Column]:
        """Position in the file's header row → column (unknown headers are ignored)."""
        lookup = {}
        for column in self.columns:
            for header in column.headers():
                lookup[header] = column
        return {
            index: lookup[_header_key(h)]
            for index, h in enumerate(headers)
            if h is not None and _header_key(h) in lookup
        }


_importers: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    _importers[importer.kind] = importer
    return importer


def get(kind: str) -> Importer | None:
    return _importers.get(kind)


def choices() -> list[tuple[str, str]]:
    return [(importer.kind, importer.label) for importer in _importers.values()]

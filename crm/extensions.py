"""Hooks through which higher apps add to the customer page, and to what archiving a
customer means, without crm importing them.

Apps register in their ``AppConfig.ready()``: the funnel adds grade changes and
reassignments to the timeline, activities add calls and visits, and so on.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "grade", "order", "edit", "activity", "reassignment" …
    title: str
    detail: str = ""
    actor: str = ""
    icon: str = "•"


TimelineSource = Callable[[object, int], Iterable[TimelineEntry]]
_timeline_sources: list[TimelineSource] = []


def register_timeline_source(source: TimelineSource) -> TimelineSource:
    """``source(customer, limit)`` returns that many newest entries, in one query."""
    if source not in _timeline_sources:
        _timeline_sources.append(source)
    return source


def timeline_sources() -> list[TimelineSource]:
    return list(_timeline_sources)


@dataclass(frozen=True)
class CustomerPanel:
    """A block of the customer page rendered from another app's template.

    ``context(request, customer)`` returns the template's context (or ``None`` to hide
    the panel); it runs a constant number of queries.
    """

    key: str
    template_name: str
    context: Callable[[object, object], dict | None]
    column: str = "main"  # "main", "side" or "actions" (right under the header: quick actions)
    order: int = 50


_customer_panels: dict[str, CustomerPanel] = {}


def register_customer_panel(panel: CustomerPanel) -> None:
    _customer_panels[panel.key] = panel


def customer_panels() -> list[CustomerPanel]:
    return sorted(_customer_panels.values(), key=lambda panel: panel.order)


@dataclass(frozen=True)
class PagePanel:
    """A block another app adds to a lower app's page (e.g. the reports' stuck commits on
    the funnel's alerts page). ``context(request)`` returns the template's context, or
    ``None`` to hide it; it runs a constant number of queries."""

    key: str
    template_name: str
    context: Callable[[object], dict | None]
    order: int = 50


_page_panels: dict[str, dict[str, PagePanel]] = {}


def register_page_panel(page: str, panel: PagePanel) -> None:
    """Add ``panel`` to the page named ``page`` (its URL name, e.g. "funnel:alert-list")."""
    _page_panels.setdefault(page, {})[panel.key] = panel


def page_panels(page: str, request) -> list[tuple[PagePanel, dict]]:
    """The panels of ``page`` shown to ``request``'s user, with their contexts, in order."""
    shown = []
    for panel in sorted(_page_panels.get(page, {}).values(), key=lambda panel: panel.order):
        context = panel.context(request)
        if context is not None:
            shown.append((panel, context))
    return shown


# Annotations a panel needs on the page's one customer query (e.g. a value from another
# app's table as a subquery), so the panel does not run a query of its own.
CustomerAnnotations = Callable[[], Mapping[str, object]]
_customer_annotations: list[CustomerAnnotations] = []


def register_customer_annotations(annotations: CustomerAnnotations) -> CustomerAnnotations:
    """``annotations()`` returns ``{name: expression}`` added to the customer page's query."""
    if annotations not in _customer_annotations:
        _customer_annotations.append(annotations)
    return annotations


def customer_annotations() -> dict[str, object]:
    return {name: expression for source in _customer_annotations for name, expression in source().items()}


# What other apps do when a customer is archived, or archived by being merged into
# another (``merged_into``; before the duplicate's rows move there): e.g. the funnel
# cancels its open handover tasks. ``step(customer, by=…, now=…, merged_into=…)``, in the
# archiving transaction.
ArchiveStep = Callable[..., None]
_archive_steps: list[ArchiveStep] = []


def register_archive_step(step: ArchiveStep) -> ArchiveStep:
    if step not in _archive_steps:
        _archive_steps.append(step)
    return step


def archive_steps() -> list[ArchiveStep]:
    return list(_archive_steps)


# Rows of other apps that stay with a duplicate customer when it is merged away, instead
# of moving to the one kept: chains that replay from the customer's creation (the
# funnel's grade and owner history), and rows keyed on the customer's own stays.
_stays_when_merged: set[type] = set()


def register_stays_when_merged(*models: type) -> None:
    _stays_when_merged.update(models)


def stays_when_merged(model: type) -> bool:
    return model in _stays_when_merged


@dataclass(frozen=True)
class CustomerAction:
    """A button on each customer found by the quick search, opening another app's page
    for that customer (activities: "Log call"). ``view_name`` takes the customer's ``pk``;
    ``query`` is appended as is (e.g. ``kind=call``); ``label`` may be a lazy translation."""

    key: str
    label: str
    view_name: str
    query: str = ""
    order: int = 50


_search_actions: dict[str, CustomerAction] = {}


def register_search_action(action: CustomerAction) -> None:
    _search_actions[action.key] = action


def search_actions() -> list[CustomerAction]:
    return sorted(_search_actions.values(), key=lambda action: action.order)

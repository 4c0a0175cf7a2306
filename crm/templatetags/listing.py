"""Parts of list pages built in Python: a list renders them many times per request, and
each include of a small template cost as much as a table row."""

from urllib.parse import quote

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label: str) -> str:
    """A sortable column header: ``key`` is the ordering name; a click toggles ascending
    and descending and keeps the other filters (not the page number)."""
    query = context["request"].GET
    current = query.get("ordering")
    kept = format_html_join(
        "",
        "{}={}&amp;",
        ((name, quote(value)) for name, value in query.items() if name not in ("ordering", "page")),
    )
    toggle = "-" if current == key else ""
    arrow = " ▲" if current == key else " ▼" if current == f"-{key}" else ""
    return format_html(
        '<a class="link-body-emphasis text-decoration-none" href="?{}ordering={}{}">{}{}</a>',
        kept,
        toggle,
        key,
        label,
        arrow,
    )


@register.simple_tag(takes_context=True)
def filters_in_use(context) -> bool:
    """Does the URL narrow the list (a search or any filter; the sort and the page do
    not)? An empty list then says nothing matches, never "add your first customer"."""
    return any(value for name, value in context["request"].GET.items() if name not in ("ordering", "page"))

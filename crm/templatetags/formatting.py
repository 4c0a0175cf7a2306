"""Numbers as sales people read them: ¥1,250,000 (¥125万 in Chinese), 40.0 %."""
from decimal import Decimal, InvalidOperation
from html import escape

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

TEN_THOUSAND = Decimal(10000)


@register.filter
def money(value) -> str:
    """CNY with thousands separators; in Chinese, large amounts in 万."""
    if value in (None, ""):
        return "—"
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    language = translation.get_language() or ""
    if language.startswith("zh") and abs(amount) >= 100 * TEN_THOUSAND:
        wan = (amount / TEN_THOUSAND).quantize(Decimal("0.1")).normalize()
        return f"¥{intcomma(f'{wan:f}', use_l10n=False)}万"
    return f"¥{intcomma(int(amount.quantize(Decimal(1))), use_l10n=False)}"


@register.filter
def percent(value) -> str:
    if value in (None, ""):
        return "—"
    return f"{Decimal(value):.1f} %"


@register.simple_tag
def grade_badge(grade):
    """The grade's colour class is the same everywhere (E→A cool to warm, won green, lost grey)."""
    css = {"won": "grade-won", "lost": "grade-lost"}.get(grade.kind, f"grade-{grade.code}")
    return format_html('<span class="badge grade-badge {}" title="{}">{}</span>',
                       css, grade.display_name, grade.code)


@register.simple_tag
def select_options(options) -> SafeString:
    """``<option>`` elements from (value, label, selected) triples, in one pass: a picker
    of every salesperson is hundreds of options, too many for template tags each, and
    even for ``format_html`` each (its lazy-aware escaping cost milliseconds here)."""
    return SafeString("".join(  # values and labels are escaped right here
        f'<option value="{escape(str(value))}"{" selected" if selected else ""}>{escape(str(label))}</option>'
        for value, label, selected in options))

"""Numbers as sales people read them: ¥1,250,000 (¥125万 in Chinese), 40.0 %."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from html import escape

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

WAN = Decimal(10_000)
YI = Decimal(100_000_000)
UNIT_PLACES = Decimal("0.01")


def _round(amount: Decimal, places: Decimal = Decimal(1)) -> Decimal:
    """Half-way rounds up (on the size, the sign is added after), as ``Math.round`` does in
    static/js/charts.js; ``quantize`` alone would round half to even."""
    return amount.quantize(places, rounding=ROUND_HALF_UP)


def _in_chinese_units(size: Decimal) -> str:
    """``size`` (≥ 1万) in 万 or 亿 with at most two decimals, trailing zeros dropped
    (1.23万, 100万, 1.5亿). 99,999,999 rounds to 1亿, not 10000万."""
    scaled, unit = _round(size / WAN, UNIT_PLACES), "万"
    if scaled >= WAN:
        scaled, unit = _round(size / YI, UNIT_PLACES), "亿"
    return f"{scaled.normalize():f}{unit}"


@register.filter
def money(value) -> str:
    """The one way a page shows an amount of CNY (exports and the API keep full numbers).

    English: whole yuan with thousands separators (¥1,234,568). Chinese: from 1万 on in
    万, from 1亿 on in 亿, with at most two decimals (¥1.23万, ¥100万, ¥1.23亿); below 1万
    whole yuan (¥9,999). Negative amounts lead with the sign (-¥1.5万). The charts draw
    their axes and tooltips with the same rule (``money`` in static/js/charts.js)."""
    if value in (None, ""):
        return "—"
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    if not amount.is_finite():
        return str(value)
    size = abs(amount)
    whole = _round(size)
    if not whole:
        return "¥0"  # -0.4 too, not -¥0
    if whole >= WAN and (translation.get_language() or "").startswith("zh"):
        text = _in_chinese_units(size)
    else:
        text = intcomma(int(whole), use_l10n=False)
    return f"{'-' if amount < 0 else ''}¥{text}"


@register.filter
def percent(value) -> str:
    if value in (None, ""):
        return "—"
    return f"{Decimal(value):.1f} %"


@register.simple_tag
def grade_badge(grade):
    """The grade's colour class is the same everywhere (E→A cool to warm, won green, lost grey)."""
    css = {"won": "grade-won", "lost": "grade-lost"}.get(grade.kind, f"grade-{grade.code}")
    return format_html(
        '<span class="badge grade-badge {}" title="{}">{}</span>', css, grade.display_name, grade.label
    )


@register.simple_tag
def select_options(options) -> SafeString:
    """``<option>`` elements from (value, label, selected) triples, in one pass: a picker
    of every salesperson is hundreds of options, too many for template tags each, and
    even for ``format_html`` each (its lazy-aware escaping cost milliseconds here)."""
    return SafeString(
        "".join(  # values and labels are escaped right here
            f'<option value="{escape(str(value))}"{" selected" if selected else ""}>'
            f"{escape(str(label))}</option>"
            for value, label, selected in options
        )
    )

"""Tap-to-call and tap-to-mail: a phone number is a ``tel:`` link and an e-mail a ``mailto:``
link wherever a page shows one (``{{ contact.phone|tel_link }}``, ``{{ contact.email|mailto_link }}``).
Both give back the plain (escaped) text when there is nothing to dial or mail."""

import re
import unicodedata
from urllib.parse import quote

from django import template
from django.utils.html import format_html

register = template.Library()

# What starts an extension in a written number: "021-5555-1234转8", "ext. 8", "x8", "#8".
_EXTENSION = re.compile(r"转|分机|ext\.?|x|#", re.IGNORECASE)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch in "0123456789")


def tel_href(phone: str) -> str:
    """The ``tel:`` address of a number as people write it: digits and a leading +, full-width
    folded; an extension is dialled after a pause. '+86 139-0310-8888' → 'tel:+8613903108888',
    '021-5555-1234转8' → 'tel:02155551234,8'; '' when there are no digits."""
    number, *extension = _EXTENSION.split(unicodedata.normalize("NFKC", phone or "").strip(), maxsplit=1)
    digits = _digits(number)
    if not digits:
        return ""
    extension_digits = _digits("".join(extension))
    pause = f",{extension_digits}" if extension_digits else ""
    return f"tel:{'+' if number.startswith('+') else ''}{digits}{pause}"


@register.filter
def tel_link(phone):
    """``<a href="tel:…">`` around the number as written; kept whole on one line (app.css)."""
    href = tel_href(phone)
    if not href:
        return phone or ""
    return format_html('<a class="tel-link" href="{}">{}</a>', href, phone.strip())


@register.filter
def mailto_link(email):
    """``<a href="mailto:…">``; a value that is no address stays plain text."""
    email = (email or "").strip()
    if "@" not in email:
        return email
    return format_html('<a class="mailto-link" href="mailto:{}">{}</a>', quote(email, safe="@+"), email)

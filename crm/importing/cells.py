"""Turning spreadsheet cells into values, with the message a person can act on.

Each parser takes the raw cell (a workbook gives numbers, dates and text; CSV gives text)
and returns the value or raises ``CellError`` with a translated message. Shared by
every importer (customers here, activities in their app).
"""

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override


class CellError(ValueError):
    pass


def text(value, *, max_length: int | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone typed as a number comes back as 13800138000.0
    result = str(value).strip()
    if max_length is not None and len(result) > max_length:
        raise CellError(_("Too long: at most %(max)s characters.") % {"max": max_length})
    return result


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# 2025-03-31, 2025/3/31, 2025.3.31, 2025年3月31日; a time after the date is ignored.
_DATE_PATTERN = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
)


def parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = _DATE_PATTERN.match(text(value))
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise CellError(_("“%(value)s” is not a date; write it as 2025-03-31.") % {"value": text(value)})


_DATETIME_PATTERN = re.compile(r"^(.+?)(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_datetime(value) -> datetime:
    """A date and time in the company's time zone ("2025-03-31 14:30"); a bare date means midnight."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        match = _DATETIME_PATTERN.match(text(value))
        if not match:
            raise CellError(
                _("“%(value)s” is not a date and time; write it as 2025-03-31 14:30.")
                % {"value": text(value)}
            )
        day_part, hour, minute, second = match.groups()
        try:
            day = parse_date(day_part)
        except CellError:
            raise CellError(
                _("“%(value)s” is not a date and time; write it as 2025-03-31 14:30.")
                % {"value": text(value)}
            ) from None
        try:
            moment = datetime.combine(day, time(int(hour or 0), int(minute or 0), int(second or 0)))
        except ValueError:
            raise CellError(
                _("“%(value)s” is not a date and time; write it as 2025-03-31 14:30.")
                % {"value": text(value)}
            ) from None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def parse_decimal(
    value, *, minimum: Decimal | None = Decimal(0), max_digits: int = 14, decimal_places: int = 2
) -> Decimal:
    if isinstance(value, bool):
        raise CellError(_("“%(value)s” is not a number.") % {"value": value})
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
    else:
        raw = text(value).replace(",", "").replace("，", "").replace("¥", "").replace("￥", "").strip()
        try:
            number = Decimal(raw)
        except InvalidOperation:
            raise CellError(_("“%(value)s” is not a number.") % {"value": text(value)}) from None
    if not number.is_finite():
        raise CellError(_("“%(value)s” is not a number.") % {"value": text(value)})
    if minimum is not None and number < minimum:
        raise CellError(
            _("Must not be negative.")
            if minimum == 0
            else _("Must be at least %(minimum)s.") % {"minimum": minimum}
        )
    number = number.quantize(Decimal(1).scaleb(-decimal_places))
    if len(number.as_tuple().digits) > max_digits:
        raise CellError(_("Too large."))
    return number


def parse_int(value, *, minimum: int | None = 0) -> int:
    number = parse_decimal(value, minimum=None, max_digits=30)
    if number != number.to_integral_value():
        raise CellError(_("“%(value)s” is not a whole number.") % {"value": text(value)})
    if minimum is not None and number < minimum:
        raise CellError(
            _("Must not be negative.")
            if minimum == 0
            else _("Must be at least %(minimum)s.") % {"minimum": minimum}
        )
    return int(number)


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    raw = text(value).casefold()
    if raw in {"1", "yes", "y", "true", "x", "✓", "是", "有", "有效", "对"}:
        return True
    if raw in {"0", "no", "n", "false", "否", "无", "无效", "不"}:
        return False
    raise CellError(_("“%(value)s” is not yes or no.") % {"value": text(value)})


def parse_email(value) -> str:
    email = text(value, max_length=254)
    try:
        validate_email(email)
    except ValidationError:
        raise CellError(_("“%(value)s” is not a valid e-mail address.") % {"value": email}) from None
    return email


def choice_lookup(choices) -> dict[str, str]:
    """Value, English label and Chinese label (casefolded) → value, for a TextChoices."""
    lookup: dict[str, str] = {}
    for value, label in choices:
        lookup[str(value).casefold()] = value
        with override("en"):
            lookup[str(label).casefold()] = value
        with override("zh-hans"):
            lookup[str(label).casefold()] = value
    return lookup


def parse_choice(value, lookup: dict[str, str], extra: dict[str, str] | None = None) -> str:
    raw = text(value).casefold()
    found = lookup.get(raw) or (extra or {}).get(raw)
    if found is None:
        allowed = ", ".join(sorted(set(lookup.values())))
        raise CellError(
            _("“%(value)s” is not one of: %(allowed)s.") % {"value": text(value), "allowed": allowed}
        )
    return found

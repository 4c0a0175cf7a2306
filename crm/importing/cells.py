"""Turning spreadsheet cells into values, with the message a person can act on.

Each parser takes the raw cell (a workbook gives numbers, dates and text; CSV gives text)
and returns the value or raises ``CellError`` with a translated message; ``RowCells``
reads one row with them, collecting the messages as the row's issues. Shared by every
importer (customers here, activities in their app).
"""

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from crm import permissions
from crm.models import User

from .registry import Column, RowIssue


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


def parse_owner(value, *, users: Mapping[str, User], by: User, own_name_only: str) -> User:
    """The active user named by username (``users``: casefolded username → user) to whom
    ``by`` may give rows (``crm.permissions.can_own``): a manager their team, anyone
    else themselves; ``own_name_only`` is the importer's message for the latter."""
    owner = parse_user(value, users=users)
    if not permissions.can_own(by, owner):
        raise CellError(
            _("%(owner)s is not in your team.") % {"owner": owner.username}
            if by.is_manager
            else own_name_only
        )
    return owner


def parse_user(value, *, users: Mapping[str, User]) -> User:
    """The active user named by username (``users``: casefolded username → user)."""
    username = text(value)
    user = users.get(username.casefold())
    if user is None or not user.is_active:
        raise CellError(_("No active user with the username “%(owner)s”.") % {"owner": username})
    return user


class RowCells:
    """One data row read cell by cell: a blank cell reads as ``None``, and so does a
    wrong one, whose message becomes an issue of the row under the column as the file
    names it (English or Chinese header) — reading goes on, so a row tells all its
    problems at once."""

    def __init__(
        self,
        number: int,
        values: Mapping[str, Any],
        headers: Mapping[str, str],
        columns: Mapping[str, Column],
    ):
        self.number = number
        self.values = values
        self.issues: list[RowIssue] = []
        self._headers = headers
        self._columns = columns

    def column(self, key: str) -> str:
        return self._headers.get(key) or self._columns[key].header_en.rstrip("*")

    def get(self, key: str, parse: Callable[..., Any], *args, **kwargs) -> Any:
        raw = self.values.get(key)
        if is_blank(raw):
            return None
        try:
            return parse(raw, *args, **kwargs)
        except CellError as error:
            self.add_issue(key, str(error))
            return None

    def require(self, key: str, value) -> None:
        """A required cell left blank is an issue (a wrong one has its own already)."""
        if value is None and not any(issue.column == self.column(key) for issue in self.issues):
            self.add_issue(key, _("This column is required."))

    def add_issue(self, key: str, message: str) -> None:
        self.issues.append(RowIssue(self.number, self.column(key), message))

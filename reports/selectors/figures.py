"""Small figures every report shares: zero money, the length of a list on a page, and a
percentage to one decimal."""

from decimal import Decimal

ZERO = Decimal(0)
LIST_LIMIT = 10


def pct(numerator, denominator) -> Decimal | None:
    """``numerator`` as a percentage of ``denominator`` to 0.1 (None when there is nothing to divide by)."""
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.1"))

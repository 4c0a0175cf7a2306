"""The one lifecycle rule (客户生命周期): a customer's stage from the dates of its orders.

Pure: no queries. The order services apply it to one customer as its orders change
(``crm.services.refresh_lifecycle``), the nightly sweep to every customer whose stage
the passing of time may change (``crm.services.refresh_lifecycles``), the demo to the
customers it seeds — so all of them agree.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from .models import CrmSettings, Lifecycle


@dataclass(frozen=True)
class LifecycleRule:
    """The company's settings of the rule (``CrmSettings``), defaults as the method's."""

    repeat_window_days: int = 365
    loyal_quarters: int = 3
    loyal_of_quarters: int = 4
    fall_back_months: int = 12

    @classmethod
    def of(cls, crm_settings: CrmSettings) -> "LifecycleRule":
        return cls(
            repeat_window_days=crm_settings.lifecycle_repeat_window_days,
            loyal_quarters=crm_settings.lifecycle_loyal_quarters,
            loyal_of_quarters=crm_settings.lifecycle_loyal_of_quarters,
            fall_back_months=crm_settings.lifecycle_fall_back_months,
        )


def _quarter(day: date) -> int:
    """Quarters counted from year 0, so consecutive quarters are consecutive numbers."""
    return day.year * 4 + (day.month - 1) // 3


def lifecycle_stage(order_dates: Iterable[date], *, on: date, rule: LifecycleRule) -> Lifecycle:
    """The stage on the day ``on``, from the signing dates of the customer's orders.

    - prospect: no order signed yet (orders dated after ``on`` count from their day);
    - first purchase, fallen back: no order for ``fall_back_months`` — a past buyer to
      win back, whatever it was before (a loyal customer whose orders stop usually falls
      to repeat first, as its quarters pass, then here);
    - loyal: orders in at least ``loyal_quarters`` of the last ``loyal_of_quarters``
      calendar quarters, the current one included (default 3 of 4);
    - repeat: two orders signed at most ``repeat_window_days`` apart;
    - first purchase: otherwise (one order, or orders further apart than the window).
    """
    signed = sorted(day for day in order_dates if day <= on)
    if not signed:
        return Lifecycle.PROSPECT
    if signed[-1] <= on - relativedelta(months=rule.fall_back_months):
        return Lifecycle.FIRST_PURCHASE
    this_quarter = _quarter(on)
    quarters_with_orders = {
        _quarter(day) for day in signed if this_quarter - _quarter(day) < rule.loyal_of_quarters
    }
    if len(quarters_with_orders) >= rule.loyal_quarters:
        return Lifecycle.LOYAL
    window = timedelta(days=rule.repeat_window_days)
    if any(later - earlier <= window for earlier, later in zip(signed, signed[1:], strict=False)):
        return Lifecycle.REPEAT
    return Lifecycle.FIRST_PURCHASE

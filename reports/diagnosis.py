"""Funnel shape diagnosis (漏斗形态诊断) — a pure function over counts and conversion rates.

The method compares the count at each grade with what the neighbouring grades need,
given the conversion rates. In a healthy funnel every layer shrinks by its conversion
rate: E × (E→D) ≈ D, D × (D→C) ≈ C, …, A × (A→won) ≈ orders. We therefore express
each layer (and the orders) in units of that ideal funnel (count ÷ the product of
the rates above it) and compare it with the median layer — the funnel's own scale:

* a layer holding far more than its ideal share is a **pile-up** (convert them);
* a middle layer holding far less is a **shortage** that leaves a gap in orders
  later (青黄不接) — move the layers above it up;
* a top layer holding far less is **too few prospects** (replenish);
* otherwise the funnel is **healthy** (理想的客户构成).

Findings carry a code and params only; ``finding_text`` translates them at render time.
"""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

# A layer is "too many" from this multiple of its ideal share, "too few" below that one.
PILE_UP_FROM = Decimal("1.5")
SHORT_BELOW = Decimal("0.6")
MIN_RATE = Decimal("0.01")

PILE_UP_AND_REPLENISH = "pile_up_and_replenish"
PILE_UP = "pile_up"
GAP_AHEAD = "gap_ahead"
REPLENISH = "replenish"
HEALTHY = "healthy"
EMPTY = "empty"


@dataclass(frozen=True)
class Layer:
    code: str  # grade code, e.g. "C"
    count: int  # open customers at the grade now
    rate: Decimal  # conversion to the next layer (A's is A→won), as a fraction 0..1


@dataclass(frozen=True)
class LayerShape:
    code: str
    count: int
    ideal_share: Decimal
    actual_share: Decimal
    ratio: Decimal  # actual ÷ ideal share: 1 is exactly the healthy shape


@dataclass(frozen=True)
class Finding:
    code: str
    params: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return finding_text(self)


def _ratios(layers: Sequence[Layer], orders: int) -> list[LayerShape]:
    weights = [Decimal(1)]
    for layer in layers:
        weights.append(weights[-1] * max(Decimal(layer.rate), MIN_RATE))
    counts = [layer.count for layer in layers] + [orders]
    codes = [layer.code for layer in layers] + ["orders"]
    total_weight, total_count = sum(weights), sum(counts)
    # Each layer's count in "ideal funnel units": the median of them is the funnel's
    # scale, so one thin or swollen layer does not distort how the others are judged.
    units = [Decimal(count) / weight for count, weight in zip(counts, weights, strict=True)]
    scale = statistics.median(units) or sum(units) / len(units)
    shapes = []
    for code, count, weight, unit in zip(codes, counts, weights, units, strict=True):
        shapes.append(
            LayerShape(
                code,
                count,
                (weight / total_weight).quantize(Decimal("0.001")),
                (Decimal(count) / Decimal(total_count)).quantize(Decimal("0.001")),
                (unit / scale).quantize(Decimal("0.01")),
            )
        )
    return shapes


def shape(layers: Sequence[Layer], orders: int) -> list[LayerShape]:
    """Each layer's (and the orders') actual vs ideal share of the funnel."""
    if not layers or sum(layer.count for layer in layers) + orders == 0:
        return []
    return _ratios(layers, orders)


def diagnose(layers: Sequence[Layer], orders: int) -> list[Finding]:
    """Name the funnel's situation. ``layers`` run from the top (E) to the bottom (A);
    ``orders`` is the number of orders won in the period looked at.

    Returns findings, most important first: a pile-up (with "replenish" when the top is
    also thin), else gaps ahead at middle grades and/or too few prospects, else healthy.
    """
    shapes = shape(layers, orders)
    if not shapes:
        return [Finding(EMPTY)]
    grades = shapes[:-1]  # the open grades, top first; shapes[-1] is the orders
    top_short = grades[0].ratio < SHORT_BELOW
    piled = [s for s in grades if s.ratio >= PILE_UP_FROM]
    if piled:
        worst = max(piled, key=lambda s: s.ratio)
        code = PILE_UP_AND_REPLENISH if top_short and worst is not grades[0] else PILE_UP
        return [Finding(code, {"grade": worst.code, "ratio": worst.ratio})]
    findings = [
        Finding(GAP_AHEAD, {"grade": s.code, "ratio": s.ratio}) for s in grades[1:] if s.ratio < SHORT_BELOW
    ]
    if top_short:
        findings.append(Finding(REPLENISH, {"grade": grades[0].code, "ratio": grades[0].ratio}))
    return findings or [Finding(HEALTHY)]


def finding_text(finding: Finding) -> str:
    """The finding in the viewer's language (the method's own words in Chinese)."""
    grade = finding.params.get("grade", "")
    if finding.code == PILE_UP_AND_REPLENISH:
        return _(
            "Customers pile up at %(grade)s: convert the %(grade)s customers into orders quickly, "
            "and replenish prospects at the same time."
        ) % {"grade": grade}
    if finding.code == PILE_UP:
        return _("Customers pile up at %(grade)s: convert the %(grade)s customers into orders quickly.") % {
            "grade": grade
        }
    if finding.code == GAP_AHEAD:
        return _(
            "A gap ahead: too few customers at %(grade)s, so orders will dry up in a few weeks — "
            "move the customers above %(grade)s up now."
        ) % {"grade": grade}
    if finding.code == REPLENISH:
        return _("Too few prospects at the top (%(grade)s): replenish prospects.") % {"grade": grade}
    if finding.code == HEALTHY:
        return _("A healthy funnel: each layer shrinks by its conversion rate.")
    return _("No customers yet: add prospects to start the funnel.")

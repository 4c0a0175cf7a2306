"""Funnel shape diagnosis (漏斗形态诊断) — a pure function over counts and conversion rates.

In the method's ideal funnel (its picture 4) every layer shrinks by its conversion rate:
E × (E→D) ≈ D, D × (D→C) ≈ C, …, A × (A→won) ≈ orders, the orders of the last 30 days
standing for the layer below A. So a layer's count ÷ the product of the rates above it —
its *unit* — is the same at every layer of an ideal funnel: the size of funnel that layer
implies. The median unit is the funnel's own scale (one swollen or thin layer does not
move it); a layer from 1.5× that scale, holding more than its share at the current rates,
is **high**; one below 0.6×, holding less than its share, is **low**.

The verdict is the first of these that fits, after the method's four pictures:

1. **empty** — no customers and no recent orders;
2. **orders will dry up** (picture 1) — orders are flowing, but every grade from the top
   down to the middle grade (C) holds less than 0.6× what those orders need behind them;
3. **pile-up** — a high grade, named at the bottom of its run of high grades, where the
   flow stops (picture 2 when that is the middle grade and the top grade is low);
4. **gap ahead** (青黄不接) — a low grade below a grade that is not low (picture 3 when it
   is the middle grade and the orders are not low);
5. **few orders** — the orders are low while the last grade is not: it does not sign;
6. **few prospects** — the top grade is low;
7. **ideal** (picture 4).

The advice fits the grade named: bare prospects are qualified and contacted, never
"turned into orders". ``rules`` are the numbers the verdict rests on, for the page.
Everything carries codes and params; the words are declared once below (``*_WORDS``) and
translated at render time.
"""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

RECENT_ORDER_DAYS = 30
# A layer is high from this multiple of the funnel's scale, low below that one.
PILE_UP_FROM = Decimal("1.5")
SHORT_BELOW = Decimal("0.6")
MIN_RATE = Decimal("0.01")

HIGH, LOW, FAIR = "high", "low", "fair"
STATUSES = (HIGH, LOW, FAIR)

# Verdicts
EMPTY = "empty"
ORDERS_WILL_DRY_UP = "orders_will_dry_up"
PILE_UP = "pile_up"
GAP_AHEAD = "gap_ahead"
FEW_ORDERS = "few_orders"
FEW_PROSPECTS = "few_prospects"
IDEAL = "ideal"
VERDICTS = (EMPTY, ORDERS_WILL_DRY_UP, PILE_UP, GAP_AHEAD, FEW_ORDERS, FEW_PROSPECTS, IDEAL)

# Advice
START = "start"
ADD_PROSPECTS_WHILE_SIGNING = "add_prospects_while_signing"
MOVE_UP = "move_up"
QUALIFY = "qualify"
PRESENT = "present"
CONVERT = "convert"
CLOSE = "close"
SIGN = "sign"
REPLENISH = "replenish"
KEEP_RATIO = "keep_ratio"

# Rules: a layer's share vs its share at the current rates; the customers a grade holds vs
# those the recent orders need behind them; the orders won vs those the last grade should give.
SHARE_RULE = "share"
NEED_RULE = "need"
YIELD_RULE = "yield"
RULE_KINDS = (SHARE_RULE, NEED_RULE, YIELD_RULE)


@dataclass(frozen=True)
class Layer:
    code: str  # grade code, e.g. "C"
    count: int  # open customers at the grade now
    rate: Decimal  # conversion to the next layer (A's is A→won), as a fraction 0..1
    measured: bool = True  # False: too few customers left the grade, the rate is assumed


@dataclass(frozen=True)
class LayerShape:
    code: str  # a grade code, or "orders"
    count: int
    actual_share: Decimal | None  # of the open funnel, 0..1 (None for the orders)
    ideal_share: Decimal | None  # at the current rates: the ideal funnel's share
    expected: int  # what the funnel's scale asks of the layer at the current rates
    ratio: Decimal  # count ÷ expected: 1 is exactly the ideal shape
    status: str  # HIGH, LOW or FAIR


@dataclass(frozen=True)
class Advice:
    code: str
    params: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return advice_text(self)


@dataclass(frozen=True)
class Rule:
    kind: str  # SHARE_RULE, NEED_RULE or YIELD_RULE
    code: str  # the grade
    count: int  # customers at the grade now
    actual_share: Decimal | None = None  # SHARE_RULE
    ideal_share: Decimal | None = None  # SHARE_RULE
    needed: int | None = None  # NEED_RULE: customers needed; YIELD_RULE: orders expected
    orders: int | None = None  # NEED_RULE, YIELD_RULE: the recent orders
    rate: Decimal | None = None  # YIELD_RULE: the last grade's rate

    @property
    def text(self) -> str:
        return rule_text(self)


@dataclass(frozen=True)
class Diagnosis:
    verdict: str
    picture: int | None  # the method's picture 1–4 this shape is, if any
    grade: str  # the grade the verdict names ("" when none)
    params: dict  # the verdict's words' parameters
    advice: tuple[Advice, ...]
    rules: tuple[Rule, ...]
    layers: tuple[LayerShape, ...]  # the open grades, top first (empty for an empty funnel)
    orders: LayerShape | None
    rates: tuple[Layer, ...]  # the inputs: counts, rates and whether each rate was measured

    @property
    def text(self) -> str:
        return verdict_text(self)

    @property
    def assumed(self) -> list[str]:
        """Grades whose rate was assumed, not measured."""
        return [layer.code for layer in self.rates if not layer.measured]

    @property
    def assumed_note(self) -> str:
        """Which rates the rule rests on are assumed, not measured ("" when none is)."""
        if not self.assumed:
            return ""
        return _(
            "The rates of %(grades)s are assumed (the ratio of the grade probabilities), not measured."
        ) % {"grades": grade_list(self.assumed)}

    @property
    def picture_note(self) -> str:
        """Which of the method's four pictures this is ("" for other shapes)."""
        return _("The method's picture %(n)s of 4.") % {"n": self.picture} if self.picture else ""

    @property
    def lines(self) -> list[str]:
        """The verdict, its advice and the rule behind it: what an export writes."""
        notes = [self.picture_note, self.assumed_note]
        return [
            self.text,
            *(a.text for a in self.advice),
            *(r.text for r in self.rules),
            *filter(None, notes),
        ]


# --- Shape ---------------------------------------------------------------------------------


def _status(ratio: Decimal, actual: Decimal | None, ideal: Decimal | None) -> str:
    # Besides the ratio to the scale, a grade must sit on the same side of its share at
    # the current rates, so the share shown on the page never contradicts the verdict.
    above = actual is None or actual > ideal
    below = actual is None or actual < ideal
    if ratio >= PILE_UP_FROM and above:
        return HIGH
    if ratio < SHORT_BELOW and below:
        return LOW
    return FAIR


def _weights(layers: Sequence[Layer]) -> list[Decimal]:
    """The ideal funnel with one customer at the top: each layer's size, then the orders'."""
    weights = [Decimal(1)]
    for layer in layers:
        weights.append(weights[-1] * max(Decimal(layer.rate), MIN_RATE))
    return weights


def shape(layers: Sequence[Layer], orders: int) -> tuple[list[LayerShape], LayerShape]:
    """Each grade's (top first) and the orders' count against the ideal funnel's."""
    weights = _weights(layers)
    counts = [layer.count for layer in layers] + [orders]
    units = [Decimal(count) / weight for count, weight in zip(counts, weights, strict=True)]
    scale = statistics.median(units) or sum(units) / len(units)
    open_count, open_weight = sum(counts[:-1]), sum(weights[:-1])
    shapes = []
    for index, (count, weight, unit) in enumerate(zip(counts, weights, units, strict=True)):
        is_orders = index == len(layers)
        actual = ideal = None
        if not is_orders:
            actual = (Decimal(count) / open_count if open_count else Decimal(0)).quantize(Decimal("0.001"))
            ideal = (weight / open_weight).quantize(Decimal("0.001"))
        ratio = (unit / scale).quantize(Decimal("0.01"))
        shapes.append(
            LayerShape(
                "orders" if is_orders else layers[index].code,
                count,
                actual,
                ideal,
                int((scale * weight).to_integral_value(ROUND_HALF_UP)),
                ratio,
                _status(unit / scale, actual, ideal),
            )
        )
    return shapes[:-1], shapes[-1]


# --- Verdict -------------------------------------------------------------------------------


def _grade_advice(codes: Sequence[str], index: int) -> Advice:
    """What to do with customers sitting at ``codes[index]``: the method's step for it."""
    code, last, middle = codes[index], len(codes) - 1, len(codes) // 2
    if index == last:
        return Advice(SIGN, {"grade": code})
    step = QUALIFY if index == 0 else PRESENT if index < middle else CONVERT if index == middle else CLOSE
    return Advice(step, {"grade": code, "next": codes[index + 1]})


def _share_rules(grades: Sequence[LayerShape]) -> tuple[Rule, ...]:
    return tuple(Rule(SHARE_RULE, s.code, s.count, s.actual_share, s.ideal_share) for s in grades)


def _run(grades: Sequence[LayerShape], index: int, status: str) -> list[int]:
    """The indexes of the run of ``status`` grades around ``index``."""
    start = end = index
    while start > 0 and grades[start - 1].status == status:
        start -= 1
    while end + 1 < len(grades) and grades[end + 1].status == status:
        end += 1
    return list(range(start, end + 1))


def diagnose(layers: Sequence[Layer], orders: int) -> Diagnosis:
    """Name the funnel's situation after the method's four pictures, with advice for the
    grade it names and the numbers it rests on. ``layers`` run from the top (E) to the
    bottom (A); ``orders`` is the number of orders won in the last ``RECENT_ORDER_DAYS``.
    The pictures are tried in the order of the module docstring; the first that fits wins."""
    layers = tuple(layers)
    codes = [layer.code for layer in layers]
    if not layers or sum(layer.count for layer in layers) + orders == 0:
        top = codes[0] if codes else "E"
        return Diagnosis(EMPTY, None, "", {}, (Advice(START, {"grade": top}),), (), (), None, layers)
    grades, flow = shape(layers, orders)
    funnel = _Funnel(layers, orders, codes, grades, flow, len(grades) // 2, _weights(layers))
    for picture in (_orders_will_dry_up, _pile_up, _gap_ahead, _few_orders, _few_prospects):
        found = picture(funnel)
        if found is not None:
            return found
    # The ideal: replenish each layer by the ratio.
    per_order = math.ceil(Decimal(1) / funnel.weights[-1])
    return funnel.verdict(IDEAL, 4, advice=[Advice(KEEP_RATIO, {"n": per_order, "grade": codes[0]})])


@dataclass(frozen=True)
class _Funnel:
    """What every picture is judged on: the inputs and their shape against the ideal funnel."""

    layers: tuple[Layer, ...]
    orders: int
    codes: list[str]
    grades: list[LayerShape]
    flow: LayerShape
    middle: int  # index of the middle grade (C)
    weights: list[Decimal]

    def verdict(self, code, picture=None, grade="", params=None, advice=(), rules=()) -> Diagnosis:
        return Diagnosis(
            code,
            picture,
            grade,
            params or {},
            tuple(advice),
            tuple(rules),
            tuple(self.grades),
            self.flow,
            self.layers,
        )

    def replenish(self, named: int) -> list[Advice]:
        """Replenish prospects too, when the top is thin and is not the grade named."""
        if named > 0 and self.grades[0].status == LOW:
            return [Advice(REPLENISH, {"grade": self.codes[0]})]
        return []


def _orders_will_dry_up(f: _Funnel) -> Diagnosis | None:
    """Picture 1: orders flowing, but every grade down to the middle is thin behind them."""
    behind, weights, orders = f.grades[: f.middle + 1], f.weights, f.orders
    if not orders or not all(
        Decimal(s.count) < SHORT_BELOW * orders * weights[i] / weights[-1] for i, s in enumerate(behind)
    ):
        return None
    rules = [
        Rule(NEED_RULE, s.code, s.count, needed=math.ceil(orders * weights[i] / weights[-1]), orders=orders)
        for i, s in reversed(list(enumerate(behind)))
    ]
    codes, middle = f.codes, f.middle
    advice = [Advice(ADD_PROSPECTS_WHILE_SIGNING, {"grade": codes[0]})]
    if middle > 0:
        advice.append(Advice(MOVE_UP, {"grades": codes[:middle], "targets": codes[middle : middle + 2]}))
    return f.verdict(ORDERS_WILL_DRY_UP, 1, params={"grades": codes[middle::-1]}, advice=advice, rules=rules)


def _pile_up(f: _Funnel) -> Diagnosis | None:
    """A pile-up: where a run of swollen grades stops flowing down (picture 2 at the middle
    grade with a thin top)."""
    grades, codes = f.grades, f.codes
    high = [i for i, s in enumerate(grades) if s.status == HIGH]
    if not high:
        return None
    run = _run(grades, max(high, key=lambda i: grades[i].ratio), HIGH)
    at = run[-1]
    below = [at + 1] if at + 1 < len(grades) and grades[at + 1].status == LOW else []
    above_low = [i for i in range(at) if grades[i].status == LOW]
    picture = 2 if at == f.middle and grades[0].status == LOW else None
    return f.verdict(
        PILE_UP,
        picture,
        codes[at],
        {"grade": codes[at]},
        [_grade_advice(codes, at), *f.replenish(at)],
        _share_rules([grades[i] for i in [*above_low, at, *below]]),
    )


def _gap_ahead(f: _Funnel) -> Diagnosis | None:
    """A gap ahead: a thin grade below one that is not thin (picture 3 at the middle grade
    while orders still come)."""
    grades, codes, middle = f.grades, f.codes, f.middle
    gaps = [
        i
        for i in range(1, len(grades))
        if grades[i].status == LOW and any(s.status != LOW for s in grades[:i])
    ]
    if not gaps:
        return None
    at = middle if middle in gaps else gaps[0]
    run = _run(grades, at, LOW)
    picture = 3 if at == middle and f.flow.status != LOW else None
    # Up to the middle grade the prospects are moved up; below it, the grade above the gap.
    sources = codes[: run[0]] if at <= middle else [codes[run[0] - 1]]
    return f.verdict(
        GAP_AHEAD,
        picture,
        codes[at],
        {"grade": codes[at]},
        [Advice(MOVE_UP, {"grades": sources, "targets": [codes[i] for i in run]}), *f.replenish(at)],
        _share_rules([grades[i] for i in run]),
    )


def _few_orders(f: _Funnel) -> Diagnosis | None:
    """Few orders from a last grade that is not thin: it is not signing."""
    if f.flow.status != LOW:
        return None
    last = f.grades[-1]
    rate = Decimal(f.layers[-1].rate)
    expected = int((last.count * rate).to_integral_value(ROUND_HALF_UP))
    return f.verdict(
        FEW_ORDERS,
        grade=last.code,
        params={"grade": last.code},
        advice=[_grade_advice(f.codes, len(f.codes) - 1), *f.replenish(len(f.codes) - 1)],
        rules=[Rule(YIELD_RULE, last.code, last.count, needed=expected, orders=f.orders, rate=rate)],
    )


def _few_prospects(f: _Funnel) -> Diagnosis | None:
    """Too few prospects at the top."""
    if f.grades[0].status != LOW:
        return None
    return f.verdict(
        FEW_PROSPECTS,
        grade=f.codes[0],
        params={"grade": f.codes[0]},
        advice=[Advice(REPLENISH, {"grade": f.codes[0]})],
        rules=_share_rules(f.grades[:1]),
    )


# --- Words ---------------------------------------------------------------------------------
# Declared once, translated at render time: ``gettext(WORDS[key]) % params``.

VERDICT_WORDS = {
    (EMPTY, None): gettext_noop("The funnel is empty: no customers and no recent orders."),
    (ORDERS_WILL_DRY_UP, 1): gettext_noop(
        "Orders are flowing now, but few %(grades)s customers are left behind them: as these "
        "orders close, orders will get fewer and fewer."
    ),
    (PILE_UP, 2): gettext_noop("Few orders and few prospects: customers pile up at %(grade)s."),
    (PILE_UP, None): gettext_noop("Customers pile up at %(grade)s."),
    (GAP_AHEAD, 3): gettext_noop(
        "Many orders now and many prospects, but too few customers at %(grade)s: a gap will follow."
    ),
    (GAP_AHEAD, None): gettext_noop("Too few customers at %(grade)s: a gap will follow."),
    (FEW_ORDERS, None): gettext_noop("Few orders: the customers at %(grade)s are not signing."),
    (FEW_PROSPECTS, None): gettext_noop("Too few prospects at the top (%(grade)s)."),
    (IDEAL, 4): gettext_noop("A healthy funnel: each layer shrinks by its conversion rate."),
}

ADVICE_WORDS = {
    START: gettext_noop("Add prospects (%(grade)s) and contact them to start the funnel."),
    ADD_PROSPECTS_WHILE_SIGNING: gettext_noop(
        "While signing these orders, add many new prospects (%(grade)s)."
    ),
    MOVE_UP: gettext_noop("Move the %(grades)s customers up to %(targets)s quickly, so orders continue."),
    QUALIFY: gettext_noop("Qualify the %(grade)s prospects and contact them, so they move up to %(next)s."),
    PRESENT: gettext_noop(
        "Learn what the %(grade)s customers need and present our offer until they agree with it (%(next)s)."
    ),
    CONVERT: gettext_noop("Convert the %(grade)s customers into orders quickly."),
    CLOSE: gettext_noop(
        "Follow up the quotes to the %(grade)s customers, answer their objections and bring them "
        "to a decision (%(next)s)."
    ),
    SIGN: gettext_noop("Finish the paperwork with the %(grade)s customers and sign the orders now."),
    REPLENISH: gettext_noop("Replenish prospects: add new %(grade)s customers and contact them."),
    KEEP_RATIO: gettext_noop(
        "Only replenish each layer by the ratio: about %(n)s new prospects (%(grade)s) for each order won."
    ),
}

RULE_WORDS = {
    SHARE_RULE: gettext_noop(
        "%(grade)s holds %(actual)s %% of the funnel; at the current rates it should hold %(ideal)s %%."
    ),
    NEED_RULE: gettext_noop(
        "The %(orders)s orders of the last %(days)s days need about %(needed)s customers at "
        "%(grade)s behind them at the current rates; %(grade)s holds %(count)s."
    ),
    YIELD_RULE: gettext_noop(
        "At the current rate of %(rate)s %%, the %(count)s customers at %(grade)s should give about "
        "%(needed)s orders; %(orders)s were won in the last %(days)s days."
    ),
}


def grade_list(codes: Sequence[str]) -> str:
    """Grade codes as a list in the viewer's language: "C, D and E" / "C、D、E"."""
    codes = list(codes)
    if len(codes) < 2:
        return "".join(codes)
    text = codes[0]
    for code in codes[1:-1]:
        text = _("%(items)s, %(next)s") % {"items": text, "next": code}
    return _("%(items)s and %(last)s") % {"items": text, "last": codes[-1]}


def percent(share: Decimal) -> str:
    """A share 0..1 as a percentage: one decimal below 10 %, whole from there."""
    value = Decimal(share) * 100
    places = Decimal("0.1") if 0 < value < 10 else Decimal(1)
    return str(value.quantize(places, ROUND_HALF_UP))


def words_params(params: dict) -> dict:
    """Params ready for the words: grade lists joined in the viewer's language."""
    return {
        key: grade_list(value) if isinstance(value, list | tuple) else value for key, value in params.items()
    }


def verdict_text(diagnosis: Diagnosis) -> str:
    """The verdict in the viewer's language (the method's own words in Chinese)."""
    return _(VERDICT_WORDS[diagnosis.verdict, diagnosis.picture]) % words_params(diagnosis.params)


def advice_text(advice: Advice) -> str:
    """One piece of advice in the viewer's language."""
    return _(ADVICE_WORDS[advice.code]) % words_params(advice.params)


def rule_params(rule: Rule) -> dict:
    params = {"grade": rule.code, "count": rule.count, "days": RECENT_ORDER_DAYS}
    if rule.kind == SHARE_RULE:
        return {**params, "actual": percent(rule.actual_share), "ideal": percent(rule.ideal_share)}
    return {**params, "needed": rule.needed, "orders": rule.orders, "rate": percent(rule.rate or 0)}


def rule_text(rule: Rule) -> str:
    """The numbers behind the verdict, as a sentence in the viewer's language."""
    return _(RULE_WORDS[rule.kind]) % rule_params(rule)

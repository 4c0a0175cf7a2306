"""Demo and benchmark customers with their funnel history (development only).

* ``create_demo_customers``: the believable company of ``make run`` — about 300
  customers of the six demo salespeople (a dozen in the public pool) in a funnel shape,
  with contacts, orders for the won ones and six months of grade history.
* ``generate_customers``: as many customers as a benchmark asks for, set-based.

Everything comes from a seeded ``random.Random``, so the data are the same on every
run (dates are relative to "now"). The demo is written with ``bulk_create`` (plus each
row's "created" audit record), the benchmark with ``crm.bulk.TableWriter`` (COPY on
PostgreSQL). Neither runs ``save()``, so the columns it would fill (normalized name,
phone digits, e-mail) are filled explicitly, and the grade history is what the services
would have kept: the last ``GradeChange.to_grade`` is the customer's grade, at the time
in ``grade_entered_at``, and ``stagnant_from`` = ``grade_entered_at`` + the grade's
stagnation limit.
"""

import queue
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate

from django.db import connection, transaction
from django.utils import timezone

from core.models import Grade, GradeKind
from crm.bulk import TableWriter
from crm.demo import (
    DEMO_SALESPEOPLE,
    EAST_CITIES,
    TAG_NAMES,
    TAG_NAMES_ZH,
    WEST_CITIES,
    Company,
    DemoNamer,
    contact_row_fields,
    customer_row_fields,
    ensure_demo_allowed,
)
from crm.lifecycle import LifecycleRule, lifecycle_stage
from crm.models import Contact, Customer, KeyPersonRole, Order, Tag, User, weighted_value_of

from .clock import start_of_day
from .models import GradeChange

DEMO_SEED = 20_240_601
DEMO_WINDOW_DAYS = 180  # grade histories spread over the past six months
# The lifecycle rule a fresh company starts with (its settings' defaults).
DEMO_RULE = LifecycleRule()

# Share of customers per grade, top of the funnel first: open grades E…A, then won, lost.
HEALTHY = ([27, 21, 16, 10, 5], 14, 7)
DEMO_PROFILES = {
    # username: (customers, funnel shape) — a healthy funnel, one short of fresh prospects
    # (replenish), one piling up at D with a gap at C (青黄不接), and two recent hires.
    "sales_east1": (62, HEALTHY),
    "sales_east2": (55, ([7, 15, 22, 15, 8], 22, 11)),
    "sales_east3": (25, ([52, 32, 12, 4, 0], 0, 0)),
    "sales_west1": (60, HEALTHY),
    "sales_west2": (58, ([22, 42, 4, 8, 5], 12, 7)),
    "sales_west3": (28, ([50, 30, 14, 6, 0], 0, 0)),
}
DEMO_POOL = 12  # customers with no owner, at the top of the funnel
BENCHMARK_SHAPE = ([30, 22, 15, 9, 5], 12, 7)

NOTES_UP = {
    1: ("已上门拜访,介绍了公司和产品", "Visited and presented the company"),
    2: ("客户认同方案,安排演示", "They like the solution; demo scheduled"),
    3: ("已提交报价,进入商务谈判", "Quotation sent, negotiating"),
    4: ("合同已送法务审核", "Contract in legal review"),
}
NOTES_DOWN = [
    ("预算推迟到下季度", "Budget postponed to next quarter"),
    ("决策人换人,需重新建立关系", "New decision maker, relationship to rebuild"),
    ("客户要求重新评估需求", "They want to re-assess their needs"),
]
CUSTOMER_NOTES = [
    "年底有扩产计划",
    "Wants a site visit to our factory first",
    "通过展会认识,对新产品感兴趣",
    "Parent company in Germany decides on budgets",
]
CUSTOMER_NOTES_ZH = [
    "年底有扩产计划",
    "希望先来我们工厂参观",
    "通过展会认识,对新产品感兴趣",
    "预算由德国母公司决定",
]
LOST_REASONS = [
    ("价格高于竞争对手", "Competitor was cheaper"),
    ("预算取消", "Budget cancelled"),
    ("选择了现有供应商", "Stayed with their current supplier"),
    ("项目搁置", "Project put on hold"),
    ("我们的交付周期太长", "Our delivery time was too long"),
]
# (reason, points added to the grade's probability)
OVERRIDE_REASONS = [
    ("Budget approved, verbal yes from the GM", 15),
    ("Only vendor on the shortlist", 10),
    ("Procurement froze all spending until next quarter", -20),
    ("Their parent company prefers a competitor", -15),
]
OVERRIDE_REASONS_ZH = [
    ("预算已批,总经理口头同意", 15),
    ("入围名单上只有我们一家", 10),
    ("采购冻结一切支出,直到下季度", -20),
    ("其母公司倾向竞争对手", -15),
]


@dataclass
class Funnel:
    """The configured grades: open ones top (E) to bottom (A), then won and lost."""

    open: list[Grade]
    won: Grade
    lost: Grade

    @classmethod
    def load(cls) -> "Funnel":
        grades = list(Grade.objects.order_by("order"))
        open_grades = [grade for grade in grades if grade.kind == GradeKind.OPEN]
        won = next((grade for grade in grades if grade.kind == GradeKind.WON), None)
        lost = next((grade for grade in grades if grade.kind == GradeKind.LOST), None)
        if not open_grades or won is None or lost is None:
            raise RuntimeError("The funnel needs open grades and a won and a lost grade (run migrate).")
        return cls(open=open_grades, won=won, lost=lost)

    def targets(self, shape: tuple) -> list[tuple[Grade, float]]:
        """(grade, weight) for a shape given for five open grades, stretched to the configured number."""
        open_weights, won, lost = shape
        count = len(self.open)
        last = len(open_weights) - 1
        weights = [open_weights[min(last, round(i * last / max(1, count - 1)))] for i in range(count)]
        return [*zip(self.open, weights, strict=True), (self.won, won), (self.lost, lost)]


def allocate(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` exactly (largest remainder)."""
    whole = sum(weights) or 1
    shares = [total * weight / whole for weight in weights]
    counts = [int(share) for share in shares]
    by_remainder = sorted(range(len(weights)), key=lambda i: shares[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


# --- Paths through the funnel ----------------------------------------------------------


def open_walk(rng: random.Random, end: int, moves: int, top: int) -> list[int]:
    """Open-grade positions (0 = E … top = A) visited in ``moves`` single-step moves,
    ending at ``end``: a climb from as low a start as possible, with setbacks (down and
    back up) for the moves left over."""
    start = min(s for s in range(top + 1) if abs(end - s) <= moves and (moves - abs(end - s)) % 2 == 0)
    steps = ["step"] * abs(end - start) + ["bounce"] * ((moves - abs(end - start)) // 2)
    rng.shuffle(steps)
    walk, here = [start], start
    direction = 1 if end >= start else -1
    for step in steps:
        if step == "step":
            here += direction
            walk.append(here)
        else:
            dip = here - 1 if here > 0 and (here == top or rng.random() < 0.7) else here + 1
            walk.extend([dip, here])
    return walk


def grade_path(rng: random.Random, funnel: Funnel, target: Grade, moves: int) -> list[Grade]:
    """The grades a customer went through, first = at creation, last = ``target``;
    ``moves`` grade changes in all (``len`` = moves + 1)."""
    top = len(funnel.open) - 1
    if target.kind == GradeKind.OPEN:
        return [funnel.open[i] for i in open_walk(rng, funnel.open.index(target), moves, top)]
    if moves == 0:
        return [target]  # e.g. an existing customer entered as won
    if target.kind == GradeKind.WON:
        before = top if rng.random() < 0.8 or top == 0 else top - 1  # from A, or straight from B
    else:
        before = rng.choices(range(top + 1), [3 if i in (1, 2) else 1 for i in range(top + 1)])[0]
    return [*(funnel.open[i] for i in open_walk(rng, before, moves - 1, top)), target]


def natural_moves(rng: random.Random, funnel: Funnel, target: Grade) -> int:
    """How many moves a customer usually made to reach ``target``: most start at E,
    some come in higher (a referral), a few had a setback on the way."""
    top = len(funnel.open) - 1
    end = funnel.open.index(target) if target.kind == GradeKind.OPEN else top
    start = min(end, rng.choices([0, 1, 2], [80, 15, 5])[0])
    setbacks = rng.choices([0, 1, 2], [84, 13, 3])[0] if end > start else rng.choices([0, 1], [92, 8])[0]
    return end - start + 2 * setbacks + (0 if target.kind == GradeKind.OPEN else 1)


class Clock:
    """Office-hours moments ``days`` before now (local time), quickly."""

    def __init__(self, now: datetime):
        self.now = now
        self.midnight = start_of_day(timezone.localdate(now))

    def at(self, rng: random.Random, days_ago: int) -> datetime:
        """Between 9:00 and 18:00 that day, or a little before now when that is later."""
        moment = self.midnight + timedelta(seconds=32_400 + int(rng.random() * 32_400) - 86_400 * days_ago)
        if moment >= self.now:
            moment = self.now - timedelta(seconds=60 + int(rng.random() * 5_340))
        return moment


def timeline(
    rng: random.Random,
    clock: Clock,
    path: list[Grade],
    window: int,
    stagnant: bool,
    days_in_current: int | None = None,
) -> list[datetime]:
    """When the customer was created and entered each later grade of ``path`` (sorted,
    all within ``window`` days). A stagnant customer has been longer at its grade than
    the grade's limit; the others are inside it."""
    current = path[-1]
    limit = current.stagnation_days
    if days_in_current is not None:
        stay = days_in_current
    elif current.kind == GradeKind.WON:
        stay = rng.randint(5, 170)
    elif current.kind == GradeKind.LOST:
        stay = rng.randint(3, 150)
    elif limit:
        stay = limit + rng.randint(2, 25) if stagnant else rng.randint(0, max(0, limit - 2))
    else:
        stay = rng.randint(0, 60)
    earlier = [rng.randint(2, max(3, int((grade.stagnation_days or 30) * 1.2))) for grade in path[:-1]]
    stay = min(stay, max(0, window - len(earlier)))
    room = window - stay
    if sum(earlier) > room:  # squeeze the earlier stays into the window
        scale = room / sum(earlier)
        earlier = [max(1, int(days * scale)) for days in earlier]
    days_ago = stay + sum(earlier)
    moments = [clock.at(rng, days_ago)]
    for days in earlier:
        days_ago -= days
        moments.append(clock.at(rng, days_ago))
    moments.sort()
    for i in range(1, len(moments)):  # strictly increasing, even on the same day
        if moments[i] <= moments[i - 1]:
            moments[i] = moments[i - 1] + timedelta(minutes=1)
    return moments


def stagnant_from(grade: Grade, entered: datetime) -> datetime | None:
    return entered + timedelta(days=grade.stagnation_days) if grade.stagnation_days else None


def change_note(
    rng: random.Random,
    previous: Grade,
    grade: Grade,
    chinese: bool,
    lost_reason: str = "",
    amount: Decimal | None = None,
) -> str:
    language = 0 if chinese else 1
    if grade.kind == GradeKind.LOST:
        return lost_reason
    if grade.kind == GradeKind.WON:
        if amount is None:
            return ""
        return f"签单 ¥{amount:,.0f}" if chinese else f"Order of ¥{amount:,.0f} signed"
    if grade.order > previous.order:
        return NOTES_UP.get(grade.order - 1, ("", ""))[language] if rng.random() < 0.8 else ""
    return rng.choice(NOTES_DOWN)[language]


@dataclass
class Draft:
    """One customer before it is written: the row and what hangs off it."""

    customer: Customer
    company: Company
    path: list[Grade]
    moments: list[datetime]
    changed_by: list[User | None]
    notes: list[str]
    contacts: list[Contact] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)


def order_values(
    rng: random.Random,
    expected_value: Decimal,
    owner_id: int | None,
    count: int,
    first: datetime,
    now: datetime,
) -> list[dict]:
    """``count`` orders (as ``Order`` attnames) from the won date on, fewer if time runs
    out; older ones are collected, recent ones partly or not yet."""
    today = timezone.localdate(now)
    rows, signed = [], timezone.localdate(first)
    for n in range(count):
        if n:
            signed += timedelta(days=rng.randint(20, 60))
            if signed > today:
                break
        base = float(expected_value) * (rng.uniform(0.2, 0.6) if n == 0 else rng.uniform(0.08, 0.35))
        amount = Decimal(max(1_000, round(base, -2)))
        age = (today - signed).days
        collected, collected_on = Decimal(0), None
        if age > 60 or (age > 30 and rng.random() < 0.6) or (age > 7 and rng.random() < 0.2):
            collected_on = min(today, signed + timedelta(days=rng.randint(7, 60)))
            collected = amount if age > 60 or rng.random() < 0.6 else (amount / 2).quantize(Decimal(1))
        moment = first if n == 0 else first + timedelta(days=(signed - timezone.localdate(first)).days)
        rows.append(
            {
                "owner_id": owner_id,
                "amount": amount,
                "gross_profit": (amount * Decimal(rng.randint(12, 38)) / 100).quantize(Decimal(1)),
                "signed_on": signed,
                "collected_amount": collected,
                "collected_on": collected_on,
                "created_by_id": owner_id,
                "created_at": min(moment, now),
                "note": "",
            }
        )
    return rows


def contact_roles(rng: random.Random, count: int, decision_maker: bool) -> list[str]:
    others = [KeyPersonRole.RECOMMENDER, KeyPersonRole.INFLUENCER, KeyPersonRole.USER, KeyPersonRole.OTHER]
    roles = [KeyPersonRole.DECISION_MAKER] if decision_maker else [rng.choice(others)]
    roles += rng.choices(others, [4, 3, 2, 1], k=count - 1)
    return roles


# --- Writing --------------------------------------------------------------------------


def write(drafts: list[Draft], *, batch_size: int = 5000, history: bool = True) -> dict[str, int]:
    """Insert the drafts' customers, contacts, tags, grade changes and orders, set-based
    (a few INSERTs per table). With ``history`` every row also gets its "created"
    audit record, so the first real edit shows what changed."""
    customers = [draft.customer for draft in drafts]
    for customer in customers:  # bulk_create does not call save(), which keeps it otherwise
        customer.refresh_weighted_value()
    Customer.objects.bulk_create(customers, batch_size=batch_size)
    contacts, orders, changes, tag_links = [], [], [], []
    Link = Customer.tags.through
    for draft in drafts:
        customer = draft.customer
        for contact in draft.contacts:
            contact.customer = customer
            contacts.append(contact)
        for order in draft.orders:
            order.customer = customer
            orders.append(order)
        tag_links += [Link(customer_id=customer.pk, tag_id=tag.pk) for tag in draft.tags]
        for i in range(1, len(draft.path)):
            changes.append(
                GradeChange(
                    customer=customer,
                    from_grade=draft.path[i - 1],
                    to_grade=draft.path[i],
                    changed_at=draft.moments[i],
                    changed_by=draft.changed_by[i],
                    owner=draft.changed_by[0],
                    note=draft.notes[i],
                    days_in_previous=(draft.moments[i] - draft.moments[i - 1]).days,
                )
            )
    Contact.objects.bulk_create(contacts, batch_size=batch_size)
    Order.objects.bulk_create(orders, batch_size=batch_size)
    GradeChange.objects.bulk_create(changes, batch_size=batch_size)
    Link.objects.bulk_create(tag_links, batch_size=batch_size)
    if history:
        for model, rows in ((Customer, customers), (Contact, contacts), (Order, orders)):
            for row in rows:
                row._history_date = row.created_at
                row._history_user = row.customer.created_by if model is Contact else row.created_by
                row._change_reason = "Created"
            model.history.bulk_history_create(rows, batch_size=batch_size)
    return {
        "customers": len(customers),
        "contacts": len(contacts),
        "orders": len(orders),
        "grade_changes": len(changes),
        "tags": len(tag_links),
    }


# --- The demo company --------------------------------------------------------------------


@dataclass
class DemoCompany:
    """What every demo customer is drawn from. The seeded generator is used in one fixed
    order (setting up, the books, each customer in turn, the overrides): the same data
    on every run."""

    rng: random.Random
    now: datetime
    funnel: Funnel
    clock: Clock
    namer: DemoNamer
    tags: list[Tag]
    users: dict[str, User]
    managers: dict[str, User]  # salesperson's username → their manager
    chinese: bool

    @property
    def today(self) -> date:
        return timezone.localdate(self.now)


@transaction.atomic
def create_demo_customers(
    users: dict[str, User], now: datetime | None = None, seed: int = DEMO_SEED, *, chinese: bool = False
) -> dict[str, int]:
    """About 300 customers of the demo salespeople (see ``DEMO_PROFILES``), a dozen in
    the public pool, with contacts, orders and grade histories. Same data every run.
    ``chinese``: every company, person, region, industry, tag and note in Chinese."""
    ensure_demo_allowed()
    demo = _demo_company(users, now or timezone.now(), seed, chinese)
    drafts = [_demo_draft(demo, owner, grade) for owner, grade in _demo_books(demo)]
    _override_probabilities(demo, drafts)
    return write(drafts)


def _demo_company(users: dict[str, User], now: datetime, seed: int, chinese: bool) -> DemoCompany:
    rng = random.Random(seed)
    taken = set(Customer.objects.live().values_list("name_normalized", flat=True))
    return DemoCompany(
        rng=rng,
        now=now,
        funnel=Funnel.load(),
        clock=Clock(now),
        namer=DemoNamer(
            rng,
            taken=taken,
            mobile_prefix="139",
            chinese_share=1.0 if chinese else 0.7,
            chinese_labels=chinese,
        ),
        tags=[Tag.objects.get_or_create(name=name)[0] for name in (TAG_NAMES_ZH if chinese else TAG_NAMES)],
        users=users,
        managers={
            username: users[f"mgr_{team.lower()}"]
            for team, usernames in DEMO_SALESPEOPLE.items()
            for username in usernames
        },
        chinese=chinese,
    )


def _demo_books(demo: DemoCompany) -> list[tuple[User | None, Grade]]:
    """(owner, grade) of every demo customer, in the funnel shape of each salesperson's
    profile, the pool's at the top two grades; shuffled."""
    plans: list[tuple[User | None, Grade]] = []
    for username, (count, shape) in DEMO_PROFILES.items():
        grades, weights = zip(*demo.funnel.targets(shape), strict=True)
        for grade, n in zip(grades, allocate(count, list(weights)), strict=True):
            plans += [(demo.users[username], grade)] * n
    top_two = demo.funnel.open[:2]
    plans += [(None, top_two[i % len(top_two)]) for i in range(DEMO_POOL)]
    demo.rng.shuffle(plans)
    return plans


def _demo_draft(demo: DemoCompany, owner: User | None, grade: Grade) -> Draft:
    """One demo customer at ``grade`` with its history, orders, contacts and tags."""
    rng, funnel = demo.rng, demo.funnel
    if owner is not None:
        window = min(DEMO_WINDOW_DAYS, (demo.today - owner.hire_date).days - 1) if owner.hire_date else 180
        cities = EAST_CITIES if owner.username in DEMO_SALESPEOPLE["East"] else WEST_CITIES
        former = owner
    else:
        window = DEMO_WINDOW_DAYS
        cities = EAST_CITIES + WEST_CITIES
        former = demo.users[rng.choice(sorted(DEMO_PROFILES))]
    company = demo.namer.company(cities)
    path = grade_path(rng, funnel, grade, natural_moves(rng, funnel, grade))
    stagnant = grade.kind == GradeKind.OPEN and (owner is None or rng.random() < 0.18)
    # Pool customers went back to the pool for want of activity: long in their grade.
    moments = timeline(
        rng,
        demo.clock,
        path,
        window,
        stagnant,
        days_in_current=rng.randint(65, 150) if owner is None else None,
    )
    lost_reason = rng.choice(LOST_REASONS)[0 if company.chinese else 1] if grade == funnel.lost else ""
    customer = Customer(
        **customer_row_fields(company),
        owner=owner,
        grade=grade,
        grade_entered_at=moments[-1],
        stagnant_from=stagnant_from(grade, moments[-1]),
        lost_reason=lost_reason,
        created_by=former,
        created_at=moments[0],
    )
    position = funnel.open.index(grade) if grade.kind == GradeKind.OPEN else -1
    _demo_follow_up(demo, customer, position)
    orders = _demo_orders(demo, customer)
    changed_by = [former] + [
        demo.managers.get(former.username, former) if rng.random() < 0.1 else former for _ in path[1:]
    ]
    notes = [""] + [
        change_note(
            rng,
            path[i - 1],
            path[i],
            company.chinese,
            lost_reason,
            orders[0].amount if orders and path[i] == funnel.won else None,
        )
        for i in range(1, len(path))
    ]
    return Draft(
        customer=customer,
        company=company,
        path=path,
        moments=moments,
        changed_by=changed_by,
        notes=notes,
        contacts=_demo_contacts(demo, company, grade, position, created_at=moments[0]),
        orders=orders,
        tags=rng.sample(demo.tags, rng.choice([1, 1, 2])) if rng.random() < 0.3 else [],
    )


def _demo_follow_up(demo: DemoCompany, customer: Customer, position: int) -> None:
    """Last activity, next follow-up, expected signing and a note, as a salesperson keeps them."""
    rng, funnel, grade, entered = demo.rng, demo.funnel, customer.grade, customer.grade_entered_at
    if customer.owner is None:
        customer.last_activity_at = entered
    else:
        # Recent contact for most; a few untouched since they entered the grade.
        recent = demo.clock.at(rng, rng.randint(0, 14))
        customer.last_activity_at = entered if rng.random() < 0.1 else max(entered, recent)
    if grade.kind == GradeKind.OPEN and customer.owner is not None and rng.random() < 0.9:
        customer.next_follow_up_on = demo.today + timedelta(days=rng.randint(-10, 21))
    elif grade == funnel.won:
        customer.next_follow_up_on = demo.today + timedelta(days=rng.randint(7, 60))
    if position >= len(funnel.open) - 2 or (position == len(funnel.open) - 3 and rng.random() < 0.3):
        customer.expected_signing_on = demo.today + timedelta(days=rng.randint(7, 90))
    if rng.random() < 0.08:
        customer.notes = rng.choice(CUSTOMER_NOTES_ZH if demo.chinese else CUSTOMER_NOTES)


def _demo_orders(demo: DemoCompany, customer: Customer) -> list[Order]:
    """A won customer's orders, from the day it was won; the others have none."""
    if customer.grade != demo.funnel.won:
        return []
    how_many = demo.rng.choices([1, 2, 3, 4, 5], [45, 25, 15, 10, 5])[0]
    orders = [
        Order(customer=customer, **values)
        for values in order_values(
            demo.rng,
            customer.expected_value,
            customer.owner_id,
            how_many,
            customer.grade_entered_at,
            demo.now,
        )
    ]
    customer.order_count = len(orders)
    customer.lifecycle = lifecycle_stage([order.signed_on for order in orders], on=demo.today, rule=DEMO_RULE)
    customer.expected_signing_on = orders[0].signed_on
    return orders


def _demo_contacts(
    demo: DemoCompany, company: Company, grade: Grade, position: int, *, created_at: datetime
) -> list[Contact]:
    """Key persons: C and above mostly know their decision maker; a few do not (flagged)."""
    rng, funnel = demo.rng, demo.funnel
    if grade.requires_decision_maker and grade.kind == GradeKind.OPEN:
        has_dm = rng.random() >= 0.1
    elif grade == funnel.won:
        has_dm = True
    else:
        has_dm = rng.random() < (0.5 if grade == funnel.lost else 0.3)
    advanced = position >= 2 or grade == funnel.won
    count = rng.choices([1, 2, 3], [30, 45, 25] if advanced else [55, 35, 10])[0]
    contacts = []
    for role in contact_roles(rng, count, has_dm):
        person = demo.namer.person(company, role)
        contacts.append(
            Contact(**contact_row_fields(person), created_at=created_at + timedelta(days=rng.randint(0, 3)))
        )
    for contact in contacts:
        contact.created_at = min(contact.created_at, demo.now)
    return contacts


def _override_probabilities(demo: DemoCompany, drafts: list[Draft]) -> None:
    """A few salespeople's judgement differs from the grade's default probability."""
    funnel = demo.funnel
    candidates = [d.customer for d in drafts if d.customer.owner_id and d.path[-1] in funnel.open[-3:]]
    chosen = demo.rng.sample(candidates, min(len(OVERRIDE_REASONS), len(candidates)))
    overrides = OVERRIDE_REASONS_ZH if demo.chinese else OVERRIDE_REASONS
    for customer, (reason, points) in zip(chosen, overrides, strict=False):
        customer.probability_override = min(Decimal(95), max(Decimal(5), customer.grade.probability + points))
        customer.probability_override_reason = reason


# --- A benchmark-sized company -------------------------------------------------------------


def spread(rng: random.Random, total: int, slots: int, minimum: int = 0) -> list[int]:
    """``total`` units over ``slots`` slots: ``minimum`` each when there is enough, the rest at random."""
    if slots == 0:
        return []
    base = minimum if total >= minimum * slots else 0
    counts = [base] * slots
    for i in rng.choices(range(slots), k=total - base * slots):
        counts[i] += 1
    return counts


def created_history(rows: list[dict], ids: list[int], user_key: str = "created_by_id") -> list[dict]:
    """The "created" audit record of each row, as django-simple-history would write it."""
    return [
        {
            **row,
            "id": pk,
            "history_date": row["created_at"],
            "history_change_reason": "Created",
            "history_type": "+",
            "history_user_id": row.get(user_key),
        }
        for row, pk in zip(rows, ids, strict=True)
    ]


@dataclass
class Chunk:
    """One batch of benchmark rows; the dependants carry the customer's position in
    ``customers`` until the customers are written and have ids."""

    customers: list[dict] = field(default_factory=list)
    contacts: list[tuple[int, dict]] = field(default_factory=list)
    orders: list[tuple[int, dict]] = field(default_factory=list)
    changes: list[tuple[int, dict]] = field(default_factory=list)
    tags: list[tuple[int, dict]] = field(default_factory=list)


def prefetch(items: Iterator, depth: int = 2) -> Iterator:
    """Iterate ``items`` in a background thread, up to ``depth`` ahead, so Python builds
    the next chunk while the database writes this one (the driver releases the GIL
    while it waits). ``items`` must not touch the database: the transaction belongs to
    the calling thread."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    finished = object()

    def offer(item) -> None:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def produce() -> None:
        try:
            for item in items:
                offer(item)
                if stop.is_set():
                    return
            offer(finished)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            offer(exc)

    worker = threading.Thread(target=produce, name="generate-data", daemon=True)
    worker.start()
    try:
        while (item := buffer.get()) is not finished:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def generate_customers(
    *,
    owners: list[User],
    count: int,
    grade_changes: int,
    orders: int,
    contacts: int,
    rng: random.Random,
    now: datetime | None = None,
    batch_size: int = 5000,
    pool_share: float = 0.03,
    history: bool = True,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """``count`` customers over ``owners`` (a few percent in the pool) in a funnel shape,
    with exactly ``contacts`` contacts, ``grade_changes`` grade changes consistent with
    the current grades and ``orders`` orders on won customers.

    Set-based: the numbers are planned up front, then each chunk of ``batch_size``
    customers is one COPY (PostgreSQL) or a few multi-row INSERTs per table
    (``TableWriter``), built in a background thread while the previous chunk is
    written, so memory stays flat. Names carry a running number (unique after
    normalization at any volume)."""
    now = now or timezone.now()
    funnel = Funnel.load()
    start = (Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    tag_ids = [Tag.objects.get_or_create(name=name)[0].pk for name in TAG_NAMES]
    writers = {
        model: TableWriter(model, batch_size=batch_size)
        for model in (
            Customer,
            Contact,
            Order,
            GradeChange,
            Customer.tags.through,
            Customer.history.model,
            Contact.history.model,
            Order.history.model,
        )
    }
    plan = _plan_customers(
        funnel=funnel,
        owner_ids=[owner.pk for owner in owners],
        count=count,
        grade_changes=grade_changes,
        orders=orders,
        contacts=contacts,
        rng=rng,
        pool_share=pool_share,
    )
    chunks = _customer_chunks(
        plan=plan, funnel=funnel, rng=rng, now=now, start=start, tag_ids=tag_ids, batch_size=batch_size
    )

    if connection.vendor == "postgresql":
        # Check foreign keys as each COPY ends, while the next chunk is being built,
        # rather than all at once at commit.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    totals = {"customers": 0, "contacts": 0, "orders": 0, "grade_changes": 0, "tags": 0}
    for chunk in prefetch(chunks):
        _write_chunk(chunk, writers, history=history)
        totals["customers"] += len(chunk.customers)
        totals["contacts"] += len(chunk.contacts)
        totals["orders"] += len(chunk.orders)
        totals["grade_changes"] += len(chunk.changes)
        totals["tags"] += len(chunk.tags)
        if progress:
            progress(totals["customers"])
    return totals


def _write_chunk(chunk: Chunk, writers: dict[type, TableWriter], *, history: bool) -> None:
    """The chunk's customers first, for their ids; then what hangs off them, and with
    ``history`` every row's "created" audit record."""
    ids = writers[Customer].insert(chunk.customers, returning=True)
    for rows in (chunk.contacts, chunk.orders, chunk.changes, chunk.tags):
        for position, values in rows:
            values["customer_id"] = ids[position]
    contact_rows = [values for _position, values in chunk.contacts]
    order_rows = [values for _position, values in chunk.orders]
    contact_ids = writers[Contact].insert(contact_rows, returning=history)
    order_ids = writers[Order].insert(order_rows, returning=history)
    writers[GradeChange].insert([values for _position, values in chunk.changes])
    writers[Customer.tags.through].insert([values for _position, values in chunk.tags])
    if history:
        writers[Customer.history.model].insert(created_history(chunk.customers, ids))
        for position, values in chunk.contacts:
            values["created_by_id"] = chunk.customers[position]["created_by_id"]
        writers[Contact.history.model].insert(created_history(contact_rows, contact_ids))
        writers[Order.history.model].insert(created_history(order_rows, order_ids))


@dataclass
class Plan:
    """Per customer: current grade, owner id, number of grade moves, orders and contacts."""

    grades: list[Grade]
    owner_ids: list[int | None]
    moves: list[int]
    orders: list[int]
    contacts: list[int]


def _plan_customers(
    *,
    funnel: Funnel,
    owner_ids: list[int],
    count: int,
    grade_changes: int,
    orders: int,
    contacts: int,
    rng: random.Random,
    pool_share: float,
) -> Plan:
    # 1. Current grades and owners: a funnel shape, owners with uneven books, a small pool.
    grades, weights = zip(*funnel.targets(BENCHMARK_SHAPE), strict=True)
    targets = [
        grade for grade, n in zip(grades, allocate(count, list(weights)), strict=True) for _ in range(n)
    ]
    rng.shuffle(targets)
    if orders and funnel.won not in targets and targets:
        targets[0] = funnel.won
    poolable = set(funnel.open[:2]) | {funnel.lost}
    owner_weights = list(accumulate(rng.uniform(0.5, 1.5) for _ in owner_ids))
    pool_odds = pool_share * count / max(1, sum(grade in poolable for grade in targets))
    owner_of = [
        None
        if grade in poolable and rng.random() < pool_odds
        else rng.choices(owner_ids, cum_weights=owner_weights)[0]
        for grade in targets
    ]

    # 2. Moves per customer: the usual path, then stretched or trimmed to exactly ``grade_changes``.
    moves = [natural_moves(rng, funnel, grade) for grade in targets]
    difference = grade_changes - sum(moves)
    if difference > 0:
        for i in rng.choices(range(count), k=difference):
            moves[i] += 1
    elif difference < 0:
        units = [i for i, n in enumerate(moves) for _ in range(n)]
        for i in rng.sample(units, -difference):
            moves[i] -= 1

    # 3. Orders on won customers (at least one each while they last); contacts ~1 per customer.
    won_at = [i for i, grade in enumerate(targets) if grade is funnel.won]
    orders_of = [0] * count
    for i, n in zip(won_at, spread(rng, orders, len(won_at), minimum=1), strict=True):
        orders_of[i] = n
    return Plan(
        grades=targets,
        owner_ids=owner_of,
        moves=moves,
        orders=orders_of,
        contacts=spread(rng, contacts, count, minimum=1),
    )


def _customer_chunks(
    *,
    plan: Plan,
    funnel: Funnel,
    rng: random.Random,
    now: datetime,
    start: int,
    tag_ids: list[int],
    batch_size: int,
) -> Iterator[Chunk]:
    """The rows of ``plan``, ``batch_size`` customers at a time. Pure Python: no queries."""
    today = timezone.localdate(now)
    clock = Clock(now)
    namer = DemoNamer(rng, numbered=True, start=start, mobile_prefix="186")
    cities = EAST_CITIES + WEST_CITIES
    count = len(plan.grades)
    for first in range(0, count, batch_size):
        chunk = Chunk()
        for i in range(first, min(count, first + batch_size)):
            grade, owner_id = plan.grades[i], plan.owner_ids[i]
            company = namer.company(cities)
            path = grade_path(rng, funnel, grade, plan.moves[i])
            moments = timeline(
                rng,
                clock,
                path,
                720 if len(path) < 12 else 30 * len(path),
                grade.kind == GradeKind.OPEN and rng.random() < 0.2,
            )
            entered = moments[-1]
            row = customer_row_fields(company)
            row.update(
                owner_id=owner_id,
                grade_id=grade.id,
                grade_entered_at=entered,
                weighted_value=weighted_value_of(company.expected_value, grade.probability),
                stagnant_from=stagnant_from(grade, entered),
                created_by_id=owner_id,
                created_at=moments[0],
                updated_at=now,
                last_activity_at=max(entered, clock.at(rng, rng.randint(0, 40))) if owner_id else entered,
                lost_reason="Budget cancelled" if grade is funnel.lost else "",
                next_follow_up_on=today + timedelta(days=rng.randint(-10, 30))
                if owner_id and grade.kind == GradeKind.OPEN
                else None,
            )
            position = i - first
            if plan.orders[i]:
                placed = order_values(rng, company.expected_value, owner_id, plan.orders[i], entered, now)
                while len(placed) < plan.orders[i]:  # keep the asked count even when time ran out
                    placed += order_values(rng, company.expected_value, owner_id, 1, entered, now)
                stage = lifecycle_stage([values["signed_on"] for values in placed], on=today, rule=DEMO_RULE)
                row.update(order_count=len(placed), lifecycle=stage)
                chunk.orders += [(position, values) for values in placed]
            if plan.contacts[i]:
                knows_dm = grade.requires_decision_maker or grade is funnel.won
                has_dm = rng.random() < (0.85 if knows_dm else 0.3)
                chunk.contacts += [
                    (position, {**contact_row_fields(namer.person(company, role)), "created_at": moments[0]})
                    for role in contact_roles(rng, plan.contacts[i], has_dm)
                ]
            chunk.changes += [
                (
                    position,
                    {
                        "from_grade_id": path[n - 1].id,
                        "to_grade_id": path[n].id,
                        "changed_at": moments[n],
                        "changed_by_id": owner_id,
                        "owner_id": owner_id,
                        "note": "",
                        "days_in_previous": (moments[n] - moments[n - 1]).days,
                    },
                )
                for n in range(1, len(path))
            ]
            if rng.random() < 0.1:
                chunk.tags.append((position, {"tag_id": rng.choice(tag_ids)}))
            chunk.customers.append(row)
        yield chunk

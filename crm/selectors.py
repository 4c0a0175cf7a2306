"""Reads of the crm app, each already scoped by the visibility rule."""

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import reduce
from operator import or_

from django.db.models import Case, Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value, When
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import yesno
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _

from .extensions import TimelineEntry, customer_annotations, timeline_sources
from .models import (
    Contact,
    Customer,
    CustomerTally,
    KeyPersonRole,
    LifecycleChange,
    Order,
    Team,
    User,
)
from .normalize import phone_digits
from .templatetags.formatting import money, percent


def users_visible_to(user: User) -> QuerySet[User]:
    return User.objects.visible_to(user).select_related("team").order_by("username")


def teams_visible_to(user: User) -> QuerySet[Team]:
    """Own team plus, for managers, the managed tree; admins see all teams."""
    if not user.is_authenticated or not user.is_active:
        return Team.objects.none()
    if user.is_admin:
        return Team.objects.order_by("name")
    return Team.objects.filter(Q(pk=user.team_id) | Q(pk__in=user.visible_team_ids)).order_by("name")


# --- Customers ---------------------------------------------------------------------


def customer_tally_visible_to(user: User) -> QuerySet[CustomerTally]:
    """The customer tally's rows ``user`` may see (by owner, as their customers): their
    ``totals()`` per grade or owner are the live customers' counts and values, without
    reading every customer."""
    return CustomerTally.objects.visible_to(user)


def live_customer_totals() -> QuerySet[Customer]:
    """The live customers' count, expected and weighted value per (owner, grade), read
    from the customers themselves: what the customer tally must sum to."""
    return (
        Customer.objects.filter(archived_at__isnull=True)
        .order_by()
        .values("owner_id", "grade_id")
        .annotate(count=Count("pk"), expected=Sum("expected_value"), weighted=Sum("weighted_value"))
    )


def customer_tally_drift() -> list[tuple]:
    """``(owner id, grade id, the tally's (count, expected, weighted), the customers')``
    wherever the customer tally differs from the live customers: none, unless writes
    bypassed its triggers (``manage.py customer_tally``)."""

    def totals(rows) -> dict:
        return {
            (row["owner_id"], row["grade_id"]): (row["count"], row["expected"], row["weighted"])
            for row in rows
            if row["count"]
        }

    tally = totals(CustomerTally.objects.totals("owner_id", "grade_id"))
    live = totals(live_customer_totals())
    return sorted(
        (
            (owner, grade, tally.get((owner, grade)), live.get((owner, grade)))
            for owner, grade in tally.keys() | live.keys()
            if tally.get((owner, grade)) != live.get((owner, grade))
        ),
        key=lambda row: (row[0] or 0, row[1]),
    )


def customers_visible_to(user: User) -> QuerySet[Customer]:
    """Every customer ``user`` may see (archived included), ready for lists: grade and
    owner joined (so ``Customer.probability`` costs no query; the weighted value is
    stored), nothing annotated, so a list's count reads the customer table alone."""
    return Customer.objects.visible_to(user).select_related("grade", "owner")


def lifecycle_changes_visible_to(user: User) -> QuerySet[LifecycleChange]:
    """The lifecycle moves of the customers ``user`` may see (``LifecycleChange.objects.visible_to``)."""
    return LifecycleChange.objects.visible_to(user)


def customer_for_detail(user: User, pk: int) -> Customer:
    """One visible customer with what its page shows (the panels' registered annotations
    included, and its last lifecycle move: ``lifecycle_since``, ``lifecycle_was``); 404
    when not visible."""
    last_move = LifecycleChange.objects.filter(customer=OuterRef("pk")).order_by("-changed_at", "-pk")
    queryset = (
        customers_visible_to(user)
        .prefetch_related(
            "tags",
            Prefetch("contacts", queryset=Contact.objects.order_by("name")),
            Prefetch("orders", queryset=Order.objects.select_related("owner").order_by("-signed_on", "-pk")),
        )
        .annotate(
            lifecycle_since=Subquery(last_move.values("changed_at")[:1]),
            lifecycle_was=Subquery(last_move.values("from_stage")[:1]),
            **customer_annotations(),
        )
    )
    return get_object_or_404(queryset, pk=pk)


def has_decision_maker_gap(customer: Customer) -> bool:
    """C or above with no decision maker identified: the page flags it (uses prefetched contacts)."""
    return customer.grade.requires_decision_maker and not any(
        contact.role == KeyPersonRole.DECISION_MAKER for contact in customer.contacts.all()
    )


def contacts_visible_to(user: User) -> QuerySet[Contact]:
    return Contact.objects.visible_to(user).select_related("customer", "customer__owner")


def orders_visible_to(user: User) -> QuerySet[Order]:
    return Order.objects.visible_to(user).select_related("customer", "owner")


@dataclass(frozen=True)
class FieldChange:
    """One changed field of a history record: its name and stored values, and, to read,
    its label and both values as the user reads them (choices by their labels, related
    rows by their names, dates, amounts and percentages formatted, in the active
    language)."""

    field: str
    old: object
    new: object
    label: str
    old_text: str
    new_text: str

    def __str__(self) -> str:
        return _("%(field)s: %(old)s → %(new)s") % {
            "field": self.label,
            "old": self.old_text,
            "new": self.new_text,
        }


# Amount fields (formatted as money) and percentage fields among the tracked ones.
MONEY_FIELDS = frozenset({"expected_value", "annual_revenue"})
PERCENT_FIELDS = frozenset({"probability_override"})
# Long texts are cut on the timeline and in the history table (the record keeps all).
CHANGE_TEXT_LENGTH = 80


def _readable_value(field, value, related) -> str:
    """``value`` of ``field`` as the user reads it. ``related``: the related row, when
    ``field`` is a foreign key whose row was read with the record (else its id shows)."""
    if value in (None, ""):
        return "—"
    if field.is_relation:
        if related is None:
            return f"#{value}"
        return related.display_name if isinstance(related, User) else str(related)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return yesno(value)
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, date):
        return date_format(value, "SHORT_DATE_FORMAT")
    if field.name in MONEY_FIELDS:
        return money(value)
    if field.name in PERCENT_FIELDS:
        return percent(value)
    if isinstance(value, Decimal | int):
        return number_format(value, force_grouping=True)
    return Truncator(str(value)).chars(CHANGE_TEXT_LENGTH)


def _readable_changes(record, older) -> list[FieldChange]:
    """The fields that differ between ``older`` and ``record`` (two history records of
    one row), in the model's field order. Related rows come from the records' joined
    relations (``customer_history`` reads them with the records), never a query."""
    changed = {change.field: change for change in record.diff_against(older).changes}
    result = []
    for field in record.instance_type._meta.concrete_fields:
        change = changed.get(field.name)
        if change is None:
            continue
        related_old = related_new = None
        if field.is_relation:
            related_old = getattr(older, field.name) if field.is_cached(older) else None
            related_new = getattr(record, field.name) if field.is_cached(record) else None
        result.append(
            FieldChange(
                field=field.name,
                old=change.old,
                new=change.new,
                label=capfirst(str(field.verbose_name)),
                old_text=_readable_value(field, change.old, related_old),
                new_text=_readable_value(field, change.new, related_new),
            )
        )
    return result


def customer_history(customer: Customer, limit: int = 100) -> list:
    """Field-level edits of the customer and its contacts, newest first, with what
    changed (``changes``: ``FieldChange`` rows, readable). Two queries: the customer's
    records (with the owner and grade they name) and its contacts' records."""
    entries = []
    customer_records = list(
        customer.history.select_related("history_user", "owner", "grade").order_by("-history_date")[
            : limit + 1
        ]
    )
    contact_records = list(
        Contact.history.filter(customer_id=customer.pk)
        .select_related("history_user")
        .order_by("-history_date")[: limit + 1]
    )
    previous_of: dict[int, object] = {}
    # Records come newest first; walking them oldest first pairs each with its predecessor.
    for record in sorted([*customer_records, *contact_records], key=lambda r: r.history_date):
        key = (record.instance_type, record.id)
        older = previous_of.get(key)
        changes = _readable_changes(record, older) if older is not None else []
        entries.append(
            {"record": record, "changes": changes, "model": record.instance_type._meta.verbose_name}
        )
        previous_of[key] = record
    entries.sort(key=lambda entry: entry["record"].history_date, reverse=True)
    return entries[:limit]


# Left out of the timeline's "edited" entries: grade and owner, which the funnel's own
# entries show (grade changes, reassignments) — else each move showed twice — and the
# bookkeeping those moves, activities and orders keep (their entries show them).
TIMELINE_SKIPPED_FIELDS = frozenset(
    {
        "grade",
        "owner",
        "grade_entered_at",
        "stagnant_from",
        "last_activity_at",
        "last_call_at",
        "last_visit_at",
        "next_follow_up_on",
        "order_count",
        "lifecycle",
    }
)


def _edit_entry(entry: dict) -> TimelineEntry | None:
    """A history entry as a timeline entry: "Customer edited" (or "Contact <name>
    edited") with one "Label: old → new" line per field a person changed."""
    changes = [change for change in entry["changes"] if change.field not in TIMELINE_SKIPPED_FIELDS]
    if not changes:
        return None
    record = entry["record"]
    if record.instance_type is Customer:
        title = _("%(model)s edited") % {"model": capfirst(str(entry["model"]))}
    else:
        title = _("%(model)s %(name)s edited") % {"model": capfirst(str(entry["model"])), "name": record.name}
    return TimelineEntry(
        at=record.history_date,
        kind="edit",
        icon="✎",
        title=title,
        detail="\n".join(str(change) for change in changes),
        actor=record.history_user.display_name if record.history_user else "",
    )


# Entries on a customer's timeline (each registered source is asked for this many).
TIMELINE_LENGTH = 50


def customer_timeline(
    customer: Customer, history: list[dict], limit: int = TIMELINE_LENGTH
) -> list[TimelineEntry]:
    """One timeline, newest first: orders and field edits (from ``customer_history``,
    without grade and owner: see ``TIMELINE_SKIPPED_FIELDS``) here, plus every
    registered source (grade changes, reassignments, activities…),
    one query per source."""
    entries = [edit for edit in map(_edit_entry, history) if edit is not None]
    entries += [
        TimelineEntry(
            at=timezone.make_aware(datetime.combine(order.signed_on, time(12))),
            kind="order",
            icon="¥",
            title=_("Order signed: %(amount)s") % {"amount": money(order.amount)},
            detail=order.note,
            actor=order.owner.display_name if order.owner else "",
        )
        for order in customer.orders.all()
    ]
    for source in timeline_sources():
        entries.extend(source(customer, limit))
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


# --- Search -------------------------------------------------------------------------


QUICK_SEARCH_MIN_LENGTH = 2
QUICK_SEARCH_MAX_LENGTH = 100
# Phone matching starts at this many digits ("12" would match most numbers).
PHONE_SEARCH_MIN_DIGITS = 4


# The trigram indexes of the search (crm migration 0008, on PostgreSQL) need a whole
# trigram of the text; a two-character one (a Chinese name such as 林军) is served by
# the bigram indexes (crm migration 0017, ``name__bigram``), and a single character scans.
BIGRAM_LENGTH = 2


def search_conditions(value: str) -> list[Q]:
    """What a search text is matched on: the name (customers' and contacts' alike) and,
    when it has enough digits, the phone digits. Each condition can use an index on
    PostgreSQL except a single character's, which scans."""
    conditions = [Q(name__bigram=value) if len(value) == BIGRAM_LENGTH else Q(name__icontains=value)]
    digits = phone_digits(value)
    if len(digits) >= PHONE_SEARCH_MIN_DIGITS:
        conditions.append(Q(phone_digits__contains=digits))
    return conditions


def customer_ids_matching(value: str, user: User | None = None) -> QuerySet:
    """Ids of the customers whose name or phone, or one of whose contacts' name or phone,
    matches ``value`` (not scoped: callers filter their visible customers with it). One
    IN (… UNION …) of the matching ids: each branch can use its index on PostgreSQL
    (crm migrations 0008 and 0017), where "name OR EXISTS(contact)" scans every row. A
    single character has no index to use: with ``user`` its branches read only the rows
    ``user`` may see (a salesperson's few hundred, through the owner index)."""
    narrow = user is not None and len(value) < BIGRAM_LENGTH
    first, *others = [
        (model.objects.visible_to(user) if narrow else model.objects)
        .filter(condition)
        .order_by()
        .values(id_field)
        for model, id_field in ((Customer, "pk"), (Contact, "customer_id"))
        for condition in search_conditions(value)
    ]
    return first.union(*others)


@dataclass(frozen=True)
class QuickSearchHit:
    """A customer found by the quick search, with whom to call: the contact that matched
    (else its decision maker) and that contact's phone (else the customer's own)."""

    customer: Customer
    contact: Contact | None
    phone: str


def quick_search(user: User, q: str, limit: int = 8) -> list[QuickSearchHit]:
    """The navbar's customer search: live customers ``user`` may see matching ``q`` as the
    customer list's search does (name, phone, a contact's name or phone), names that
    start with ``q`` first. Nothing (and no query) below ``QUICK_SEARCH_MIN_LENGTH``
    characters. Two queries: the customers (grade and owner joined), and their matching
    contacts and decision makers."""
    value = clean_search_text(q)
    if len(value) < QUICK_SEARCH_MIN_LENGTH:
        return []
    contact_match = reduce(or_, search_conditions(value))
    contacts = (
        Contact.objects.filter(contact_match | Q(role=KeyPersonRole.DECISION_MAKER))
        .annotate(rank=Case(When(contact_match, then=Value(0)), default=Value(1)))
        .order_by("rank", "name", "pk")
    )
    customers = (
        Customer.objects.visible_to(user)
        .live()
        .filter(pk__in=customer_ids_matching(value, user))
        .select_related("grade", "owner")
        .prefetch_related(Prefetch("contacts", queryset=contacts, to_attr="search_contacts"))
        .annotate(starts=Case(When(name__istartswith=value, then=Value(0)), default=Value(1)))
        .order_by("starts", "name", "pk")[:limit]
    )
    hits = []
    for customer in customers:
        contact = customer.search_contacts[0] if customer.search_contacts else None
        hits.append(
            QuickSearchHit(
                customer=customer, contact=contact, phone=(contact.phone if contact else "") or customer.phone
            )
        )
    return hits


def clean_search_text(q: str) -> str:
    """A search text as typed, made safe to match: no NUL (PostgreSQL refuses it in a
    string), no surrounding spaces, at most ``QUICK_SEARCH_MAX_LENGTH`` characters."""
    return (q or "").replace("\x00", "").strip()[:QUICK_SEARCH_MAX_LENGTH]

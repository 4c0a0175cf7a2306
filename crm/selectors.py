"""Reads of the crm app, each already scoped by the visibility rule."""
from dataclasses import dataclass
from datetime import datetime, time

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import Case, Count, Prefetch, Q, QuerySet, Sum, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from .extensions import TimelineEntry, customer_annotations, timeline_sources
from .models import Contact, Customer, CustomerTally, KeyPersonRole, Order, Team, User
from .normalize import phone_digits


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
    return (Customer.objects.filter(archived_at__isnull=True).order_by().values("owner_id", "grade_id")
            .annotate(count=Count("pk"), expected=Sum("expected_value"), weighted=Sum("weighted_value")))


def customer_tally_drift() -> list[tuple]:
    """``(owner id, grade id, the tally's (count, expected, weighted), the customers')``
    wherever the customer tally differs from the live customers: none, unless writes
    bypassed its triggers (``manage.py customer_tally``)."""
    def totals(rows) -> dict:
        return {(row["owner_id"], row["grade_id"]): (row["count"], row["expected"], row["weighted"])
                for row in rows if row["count"]}

    tally = totals(CustomerTally.objects.totals("owner_id", "grade_id"))
    live = totals(live_customer_totals())
    return sorted(((owner, grade, tally.get((owner, grade)), live.get((owner, grade)))
                   for owner, grade in tally.keys() | live.keys()
                   if tally.get((owner, grade)) != live.get((owner, grade))),
                  key=lambda row: (row[0] or 0, row[1]))


def customers_visible_to(user: User) -> QuerySet[Customer]:
    """Every customer ``user`` may see (archived included), ready for lists: grade and
    owner joined (so ``Customer.probability`` costs no query; the weighted value is
    stored), nothing annotated, so a list's count reads the customer table alone."""
    return Customer.objects.visible_to(user).select_related("grade", "owner")


def customer_for_detail(user: User, pk: int) -> Customer:
    """One visible customer with what its page shows (the panels' registered annotations
    included); 404 when not visible."""
    queryset = customers_visible_to(user).prefetch_related(
        "tags",
        Prefetch("contacts", queryset=Contact.objects.order_by("name")),
        Prefetch("orders", queryset=Order.objects.select_related("owner").order_by("-signed_on", "-pk")),
    ).annotate(**customer_annotations())
    return get_object_or_404(queryset, pk=pk)


def has_decision_maker_gap(customer: Customer) -> bool:
    """C or above with no decision maker identified: the page flags it (uses prefetched contacts)."""
    return customer.grade.requires_decision_maker and not any(
        contact.role == KeyPersonRole.DECISION_MAKER for contact in customer.contacts.all())


def contacts_visible_to(user: User) -> QuerySet[Contact]:
    return Contact.objects.visible_to(user).select_related("customer", "customer__owner")


def orders_visible_to(user: User) -> QuerySet[Order]:
    return Order.objects.visible_to(user).select_related("customer", "owner")


def customer_history(customer: Customer, limit: int = 100) -> list:
    """Field-level edits of the customer and its contacts, newest first, with what changed."""
    entries = []
    customer_records = list(
        customer.history.select_related("history_user").order_by("-history_date")[: limit + 1]
    )
    contact_records = list(
        Contact.history.filter(customer_id=customer.pk).select_related("history_user")
        .order_by("-history_date")[: limit + 1]
    )
    previous_of: dict[int, object] = {}
    # Records come newest first; walking them oldest first pairs each with its predecessor.
    for record in sorted([*customer_records, *contact_records], key=lambda r: r.history_date):
        key = (record.instance_type, record.id)
        older = previous_of.get(key)
        changes = record.diff_against(older).changes if older is not None else []
        entries.append({"record": record, "changes": changes,
                        "model": record.instance_type._meta.verbose_name})
        previous_of[key] = record
    entries.sort(key=lambda entry: entry["record"].history_date, reverse=True)
    return entries[:limit]


# Entries on a customer's timeline (each registered source is asked for this many).
TIMELINE_LENGTH = 50


def customer_timeline(customer: Customer, history: list[dict],
                      limit: int = TIMELINE_LENGTH) -> list[TimelineEntry]:
    """One timeline, newest first: orders and field edits (from ``customer_history``)
    here, plus every registered source (grade changes, reassignments, activities…),
    one query per source."""
    entries = [
        TimelineEntry(at=entry["record"].history_date, kind="edit", icon="✎",
                      title=_("%(model)s edited: %(fields)s") % {
                          "model": entry["model"],
                          "fields": ", ".join(str(change.field) for change in entry["changes"]),
                      },
                      actor=entry["record"].history_user.display_name if entry["record"].history_user else "")
        for entry in history if entry["changes"]
    ]
    entries += [
        TimelineEntry(at=timezone.make_aware(datetime.combine(order.signed_on, time(12))),
                      kind="order", icon="¥",
                      title=_("Order signed: ¥%(amount)s") % {"amount": intcomma(order.amount)},
                      detail=order.note, actor=order.owner.display_name if order.owner else "")
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


def search_terms(value: str) -> dict[str, str]:
    """What a search text is matched on: ``{lookup: term}`` for the name and, when it has
    enough digits, the phone digits (customers' and contacts' alike)."""
    lookups = {"name__icontains": value}
    digits = phone_digits(value)
    if len(digits) >= PHONE_SEARCH_MIN_DIGITS:
        lookups["phone_digits__contains"] = digits
    return lookups


def customer_ids_matching(value: str) -> QuerySet:
    """Ids of the customers whose name or phone, or one of whose contacts' name or phone,
    matches ``value`` (not scoped: callers filter their visible customers with it). One
    IN (… UNION …) of the matching ids: each branch can use its trigram index on
    PostgreSQL (crm migration 0008), where "name OR EXISTS(contact)" scans every row."""
    first, *others = [
        model.objects.filter(**{lookup: term}).order_by().values(id_field)
        for model, id_field in ((Customer, "pk"), (Contact, "customer_id"))
        for lookup, term in search_terms(value).items()
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
    contact_match = Q()
    for lookup, term in search_terms(value).items():
        contact_match |= Q(**{lookup: term})
    contacts = (
        Contact.objects.filter(contact_match | Q(role=KeyPersonRole.DECISION_MAKER))
        .annotate(rank=Case(When(contact_match, then=Value(0)), default=Value(1)))
        .order_by("rank", "name", "pk")
    )
    customers = (
        Customer.objects.visible_to(user).live()
        .filter(pk__in=customer_ids_matching(value))
        .select_related("grade", "owner")
        .prefetch_related(Prefetch("contacts", queryset=contacts, to_attr="search_contacts"))
        .annotate(starts=Case(When(name__istartswith=value, then=Value(0)), default=Value(1)))
        .order_by("starts", "name", "pk")[:limit]
    )
    hits = []
    for customer in customers:
        contact = customer.search_contacts[0] if customer.search_contacts else None
        hits.append(QuickSearchHit(customer=customer, contact=contact,
                                   phone=(contact.phone if contact else "") or customer.phone))
    return hits


def clean_search_text(q: str) -> str:
    """A search text as typed, made safe to match: no NUL (PostgreSQL refuses it in a
    string), no surrounding spaces, at most ``QUICK_SEARCH_MAX_LENGTH`` characters."""
    return (q or "").replace("\x00", "").strip()[:QUICK_SEARCH_MAX_LENGTH]

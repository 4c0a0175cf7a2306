"""Reads of the crm app, each already scoped by the visibility rule."""
from datetime import datetime, time

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from .extensions import TimelineEntry, customer_annotations, timeline_sources
from .models import Contact, Customer, CustomerTally, KeyPersonRole, Order, Team, User


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


def customer_timeline(customer: Customer, history: list[dict], limit: int = 50) -> list[TimelineEntry]:
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

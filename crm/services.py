"""Writes of customer records. Every function is one transaction and checks its rules.

Grades and owners only move through the funnel app's services (``change_grade``,
``reassign``); here a customer is created at a grade and otherwise keeps it.
"""

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import DecimalField, F, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.deletion import ProtectedError
from django.db.models.functions import Coalesce, Lower, Round
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from simple_history.models import HistoricalChanges

from core import outbox, replicas
from core.audit import Action, audit, audit_despite_rollback, history_purge

from . import permissions, ratelimit, selectors
from .bulk import TableWriter
from .extensions import archive_steps, stays_when_merged
from .lifecycle import LifecycleRule, lifecycle_stage
from .models import (
    Contact,
    CrmSettings,
    Customer,
    CustomerTally,
    ExportRecord,
    Lifecycle,
    LifecycleChange,
    LifecycleReason,
    Notification,
    Order,
    Tag,
    Tier,
    User,
)
from .normalize import normalize_company_name, normalize_email, phone_digits

CUSTOMER_EDITABLE_FIELDS = (
    "name",
    "industry",
    "region",
    "address",
    "phone",
    "email",
    "employees",
    "annual_revenue",
    "source",
    "tier",
    "expected_value",
    "competitor",
    "expected_signing_on",
    "forecast_category",
    "notes",
)
CONTACT_EDITABLE_FIELDS = ("name", "title", "role", "phone", "email", "wechat", "preferences")
# Customers one bulk action on the list (change tier, reassign, plan) takes at most.
BULK_LIMIT = 1_000


# --- Duplicate check (查重) ------------------------------------------------------


def find_duplicate(
    *, name: str = "", phone: str = "", email: str = "", exclude_pk: int | None = None
) -> tuple[str, Customer] | None:
    """The first live customer sharing the normalized name, phone or e-mail (also a
    contact's phone or e-mail), as ``(field, customer)``; ``None`` when there is none."""
    checks = [("name", normalize_company_name(name), "name_normalized", None)]
    digits, mail = phone_digits(phone), normalize_email(email)
    if digits:
        checks.append(("phone", digits, "phone_digits", "contacts__phone_digits"))
    if mail:
        checks.append(("email", mail, "email_normalized", "contacts__email_normalized"))
    live = Customer.objects.live().select_related("owner")
    if exclude_pk is not None:
        live = live.exclude(pk=exclude_pk)
    for field, value, own_field, contact_field in checks:
        if not value:
            continue
        condition = Q(**{own_field: value})
        if contact_field:
            condition |= Q(**{contact_field: value})
        match = live.filter(condition).order_by("pk").first()
        if match is not None:
            return field, match
    return None


def duplicate_message(customer: Customer, *, viewer: User | None) -> str:
    """Names the current owner only: the other customer's details may be invisible to
    the user. Another team's owner is named within ``owner_name_for``'s limit."""
    return duplicate_message_about(
        viewer=viewer, owner=customer.owner if customer.owner_id else None, customer_id=customer.pk
    )


def duplicate_message_about(*, viewer: User | None, owner: User | None, customer_id: int) -> str:
    """``duplicate_message`` from the owner and the customer's id alone (imports check in memory)."""
    if owner is None:
        return duplicate_message_for_owner(None)
    name = owner_name_for(viewer, owner, customer_id=customer_id)
    if name is None:
        return _("This customer already exists and is owned by a salesperson of another team.")
    return duplicate_message_for_owner(name)


def duplicate_message_for_owner(owner_name: str | None) -> str:
    """The duplicate message from the owner's name alone (imports check in memory)."""
    if owner_name is None:
        return _("This customer already exists and is in the public pool.")
    return _("This customer already exists and is owned by %(owner)s.") % {"owner": owner_name}


def owner_name_for(viewer: User | None, owner: User, *, customer_id: int) -> str | None:
    """The name of a duplicate's owner as the duplicate check may tell ``viewer``.

    Owners the viewer may see, and their own team's, are named freely. Another team's
    owner is named too — a salesperson needs the name to raise a conflict (撞单) — but
    that tells who works which company, so each such answer goes to the security audit
    log (even though the refused write rolls back), and past
    ``DUPLICATE_OWNER_NAMES_PER_HOUR`` answers in an hour (per viewer, a cache counter)
    the name is left out: ``None``. ``viewer=None``: internal callers, named.
    """
    if viewer is None or _sees_owner(viewer, owner):
        return owner.display_name
    answered = ratelimit.hit(f"duplicate-owner-names:{viewer.pk}", window=3600).count
    if answered > settings.DUPLICATE_OWNER_NAMES_PER_HOUR:
        return None
    audit_despite_rollback(
        actor=viewer,
        action=Action.OWNER_REVEALED,
        object_type="crm.customer",
        object_id=str(customer_id),
        detail={"owner": owner.pk, "answer": answered},
    )
    return owner.display_name


def _sees_owner(viewer: User, owner: User) -> bool:
    """The owner is the viewer, of the viewer's team, or in the tree they manage (admins: anyone)."""
    if owner.pk == viewer.pk or (owner.team_id is not None and owner.team_id == viewer.team_id):
        return True
    return viewer.oversees(owner)


def ensure_not_duplicate(
    *, viewer: User | None, name: str = "", phone: str = "", email: str = "", exclude_pk: int | None = None
) -> None:
    found = find_duplicate(name=name, phone=phone, email=email, exclude_pk=exclude_pk)
    if found is not None:
        field, customer = found
        raise ValidationError({field: duplicate_message(customer, viewer=viewer)})


def _save_live_customer(customer: Customer, *, by: User | None) -> None:
    """Save, turning the unique-name or unique-phone race (two people creating the same
    customer at once: ``customer_live_name_unique``, ``customer_live_phone_unique``) into
    the same friendly duplicate error, on the field at fault."""
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        # The other row is committed by now (the unique index waited for it), so it is found.
        found = find_duplicate(name=customer.name, phone=customer.phone, exclude_pk=customer.pk)
        if found is None:
            raise
        field, other = found
        raise ValidationError({field: duplicate_message(other, viewer=by)}) from exc


def _attribute(instance, by: User | None, reason: str = "") -> None:
    """Tell django-simple-history who made the change and why."""
    instance._history_user = by
    if reason:
        instance._change_reason = reason


# --- Tags --------------------------------------------------------------------------


def too_many_tags(count: int) -> str | None:
    """The message refusing ``count`` tags on one customer, or None within the cap."""
    limit = settings.MAX_TAGS_PER_CUSTOMER
    if count <= limit:
        return None
    return ngettext(
        "A customer has at most %(limit)s tag; this gives it %(count)s.",
        "A customer has at most %(limit)s tags; this gives it %(count)s.",
        limit,
    ) % {"limit": limit, "count": count}


def tag_names_error(*, by: User, names: Sequence[str], known: Collection[str]) -> str | None:
    """Why ``by`` may not give one customer the tags ``names``, or None: more than
    ``MAX_TAGS_PER_CUSTOMER``, or a name not among ``known`` (existing tag names,
    lower-cased) from someone who may not add tags (only admins curate the tags every
    team shares). The one rule for forms, the API and imports."""
    error = too_many_tags(len(names))
    if error:
        return error
    unknown = [name for name in names if name.lower() not in known]
    if unknown and not permissions.can_curate_tags(by):
        return ngettext(
            "Unknown tag “%(names)s”; ask an admin to add it.",
            "Unknown tags “%(names)s”; ask an admin to add them.",
            len(unknown),
        ) % {"names": "”, “".join(unknown)}
    return None


def resolve_tags(*, by: User, names: Sequence[str]) -> list[Tag]:
    """The tags ``names`` stand for, in order; an existing tag matches whatever the case.
    An unknown name becomes a new tag when ``by`` is an admin; otherwise, or for more than
    ``MAX_TAGS_PER_CUSTOMER`` names (refused before any query), ``ValidationError`` on
    ``tags``. Call it in the caller's transaction; a tag created meanwhile is reused."""
    names = list(dict.fromkeys(name.strip()[:50] for name in names if name.strip()))
    if error := too_many_tags(len(names)):
        raise ValidationError({"tags": error})
    if not names:
        return []
    found: dict[str, Tag] = {}
    for tag in Tag.objects.annotate(folded=Lower("name")).filter(folded__in={n.lower() for n in names}):
        if found.get(tag.folded) is None or tag.name in names:  # the exact spelling first
            found[tag.folded] = tag
    if error := tag_names_error(by=by, names=names, known=found.keys()):
        raise ValidationError({"tags": error})
    missing = [name for name in names if name.lower() not in found]
    if missing:
        Tag.objects.bulk_create([Tag(name=name) for name in missing], ignore_conflicts=True)
        found.update((tag.name.lower(), tag) for tag in Tag.objects.filter(name__in=missing))
    return [found[name.lower()] for name in names]


# --- Customers ---------------------------------------------------------------------


@transaction.atomic
def create_customer(
    *, by: User, owner: User | None, grade, name: str, tags: Sequence[str] = (), **fields
) -> Customer:
    """Create a customer at ``grade`` for ``owner`` (None = public pool), with the tags
    named ``tags`` (``resolve_tags``: only admins add new ones).

    Salespeople create for themselves, managers within their team tree, admins for
    anyone. Refuses duplicates of a live customer, naming the current owner.
    """
    if not permissions.can_own(by, owner):
        raise PermissionDenied(_("You may not create customers for this owner."))
    chosen_tags = resolve_tags(by=by, names=tags)
    unknown = set(fields) - set(CUSTOMER_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not customer fields: {sorted(unknown)}")
    ensure_not_duplicate(viewer=by, name=name, phone=fields.get("phone", ""), email=fields.get("email", ""))
    now = timezone.now()
    customer = Customer(
        name=name, owner=owner, grade=grade, grade_entered_at=now, created_by=by, created_at=now, **fields
    )
    customer.refresh_stagnant_from()
    customer.full_clean(exclude=["grade", "owner", "tags"], validate_unique=False, validate_constraints=False)
    _attribute(customer, by, _("Created"))
    _save_live_customer(customer, by=by)
    if chosen_tags:
        customer.tags.set(chosen_tags)
    return customer


@transaction.atomic
def update_customer(*, customer: Customer, by: User, tags: Sequence[str] | None = None, **fields) -> Customer:
    """Edit a customer's own fields (not grade or owner), and set its tags to those named
    ``tags`` when given (``resolve_tags``). A name, phone or e-mail changed to one of
    another live customer is refused; one left as it was is not checked, so a duplicate
    that already exists (legacy data, a contact's phone) can still be edited by its owner."""
    chosen_tags = None if tags is None else resolve_tags(by=by, names=tags)
    customer = Customer.objects.for_update("grade").get(pk=customer.pk)
    if customer.is_archived:
        raise ValidationError(_("An archived customer cannot be edited; restore it first."))
    unknown = set(fields) - set(CUSTOMER_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable here: {sorted(unknown)}")
    before = {
        "name": customer.name_normalized,
        "phone": customer.phone_digits,
        "email": customer.email_normalized,
    }
    for field, value in fields.items():
        setattr(customer, field, value)
    after = {
        "name": normalize_company_name(customer.name),
        "phone": phone_digits(customer.phone),
        "email": normalize_email(customer.email),
    }
    changed = {field: getattr(customer, field) for field in after if after[field] != before[field]}
    if changed:
        ensure_not_duplicate(viewer=by, exclude_pk=customer.pk, **changed)
    customer.full_clean(exclude=["grade", "owner", "tags"], validate_unique=False, validate_constraints=False)
    _attribute(customer, by)
    _save_live_customer(customer, by=by)
    if chosen_tags is not None:
        customer.tags.set(chosen_tags)
    return customer


@dataclass(frozen=True)
class BulkTierResult:
    changed: int  # now at the new tier
    unchanged: int  # were at it already
    skipped: int  # asked for but not changed: unknown, not visible to the caller, or archived


@transaction.atomic
def bulk_change_tier(
    *, customers: QuerySet[Customer], tier: str, by: User, requested: int | None = None
) -> BulkTierResult:
    """Set the tier of ``customers`` (the list's ticked rows, or every row its filter
    matches) to ``tier``, for the customer list's bulk action and its API. Any user:
    only the live customers ``by`` may see are changed, the others are skipped (a
    salesperson posting another's id changes nothing). ``requested`` is how many the
    caller asked for (the ids sent), for the skipped count.

    One transaction, set-based: the rows are locked and read in one query, changed in
    one UPDATE, and get one field-history row each (who and when, reason "Bulk tier
    change"; as an edit through ``update_customer`` records) in one INSERT (COPY on PostgreSQL). More than
    ``BULK_LIMIT`` customers to change is refused whole. Running it twice changes
    nothing the second time (they are at the tier already)."""
    if tier not in Tier.values:
        raise ValidationError({"tier": _("Choose a valid tier.")})
    chosen = Customer.objects.visible_to(by).live().filter(pk__in=customers.order_by().values("pk"))
    locked = list(chosen.exclude(tier=tier).order_by("pk").for_update()[: BULK_LIMIT + 1])
    if len(locked) > BULK_LIMIT:
        raise ValidationError(
            _("More than %(limit)d customers to change: narrow the filter.") % {"limit": BULK_LIMIT}
        )
    unchanged = chosen.filter(tier=tier).count()
    if locked:
        now = timezone.now()
        Customer.objects.filter(pk__in=[customer.pk for customer in locked]).update(tier=tier, updated_at=now)
        history = Customer.history.model
        record = {
            "history_date": now,
            "history_user_id": by.pk,
            "history_type": "~",
            "history_change_reason": _("Bulk tier change"),
        }
        TableWriter(history).insert(
            [
                {
                    **{field.attname: getattr(customer, field.attname) for field in history.tracked_fields},
                    "tier": tier,
                    **record,
                }
                for customer in locked
            ]
        )
    requested = len(locked) + unchanged if requested is None else requested
    return BulkTierResult(
        changed=len(locked), unchanged=unchanged, skipped=max(0, requested - len(locked) - unchanged)
    )


def refresh_weighted_values(customers: QuerySet[Customer]) -> int:
    """Recompute the stored weighted value of ``customers`` in one UPDATE, for writes that
    bypass ``Customer.save()`` (e.g. a grade's probability changed for all its customers).
    Rounds like ``weighted_value_of``; returns the number of rows updated."""
    grade_probability = Subquery(
        Customer._meta.get_field("grade")
        .related_model.objects.filter(pk=OuterRef("grade_id"))
        .values("probability")
    )
    return customers.update(
        weighted_value=Round(
            F("expected_value") * Coalesce("probability_override", grade_probability) / Value(Decimal(100)),
            precision=2,
            output_field=DecimalField(max_digits=18, decimal_places=2),
        )
    )


# PostgreSQL: the rows deleted are exactly the rows summed (one statement), so a delta that
# a writer commits meanwhile is never lost; only (owner, grade)s with several rows, or a
# total of none, are rewritten.
_FOLD_TALLY_POSTGRESQL = """
    WITH folded AS (
        DELETE FROM crm_customertally
        WHERE (coalesce(owner_id, 0), grade_id) IN (
            SELECT coalesce(owner_id, 0), grade_id FROM crm_customertally
            GROUP BY 1, 2 HAVING count(*) > 1 OR sum(customers) = 0)
        RETURNING owner_id, grade_id, customers, expected_value, weighted_value)
    INSERT INTO crm_customertally (owner_id, grade_id, customers, expected_value, weighted_value)
    SELECT owner_id, grade_id, sum(customers), sum(expected_value), sum(weighted_value)
    FROM folded GROUP BY owner_id, grade_id HAVING sum(customers) <> 0
"""
# SQLite runs one writer at a time and its transactions are serializable: nothing can
# commit between reading the newest id and deleting up to it.
_FOLD_TALLY_SQLITE = [
    """
    INSERT INTO crm_customertally (owner_id, grade_id, customers, expected_value, weighted_value)
    SELECT owner_id, grade_id, sum(customers), sum(expected_value), sum(weighted_value)
    FROM crm_customertally WHERE id <= %s GROUP BY owner_id, grade_id HAVING sum(customers) <> 0
    """,
    "DELETE FROM crm_customertally WHERE id <= %s",
]


def fold_customer_tally() -> None:
    """Fold the customer tally's delta rows into one row per (owner, grade)
    (``CustomerTally``). The sums do not change, so running it twice, or while customers
    are written, changes nothing a reader sees; it only keeps the table small."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_FOLD_TALLY_POSTGRESQL)
            return
        newest = CustomerTally.objects.aggregate(newest=Max("pk"))["newest"]
        if newest is not None:
            for statement in _FOLD_TALLY_SQLITE:
                cursor.execute(statement, [newest])


@transaction.atomic
def rebuild_customer_tally() -> int:
    """Recompute the customer tally from the live customers: the remedy when writes
    bypassed its triggers (disabled for a bulk load, dropped by a table rebuild).
    Customer writes wait meanwhile: PostgreSQL holds a SHARE lock on the customer table,
    SQLite writes one transaction at a time. Returns the number of rows written."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE crm_customer IN SHARE MODE")
    CustomerTally.objects.all().delete()
    return len(
        CustomerTally.objects.bulk_create(
            [
                CustomerTally(
                    owner_id=row["owner_id"],
                    grade_id=row["grade_id"],
                    customers=row["count"],
                    expected_value=row["expected"],
                    weighted_value=row["weighted"],
                )
                for row in selectors.live_customer_totals()
            ]
        )
    )


@transaction.atomic
def set_probability_override(
    *, customer: Customer, by: User, probability: Decimal | None, reason: str = ""
) -> Customer:
    """Override the grade's default probability for one customer, with a reason; the
    override survives grade changes until someone clears it (``probability=None``)."""
    # The grade is read (after the lock) for the weighted value, which falls back to its probability.
    customer = Customer.objects.for_update("grade").get(pk=customer.pk)
    if probability is not None:
        if not Decimal(0) <= probability <= Decimal(100):
            raise ValidationError({"probability": _("Probability must be between 0 and 100.")})
        if not reason.strip():
            raise ValidationError(
                {
                    "reason": _("Say why this customer's probability differs from its grade."),
                }
            )
    customer.probability_override = probability
    customer.probability_override_reason = reason.strip() if probability is not None else ""
    _attribute(customer, by, reason or _("Probability override cleared"))
    customer.save(update_fields=["probability_override", "probability_override_reason", "updated_at"])
    return customer


@transaction.atomic
def archive_customer(*, customer: Customer, by: User, reason: str = "") -> Customer:
    """ "Delete" for everyone: the customer leaves the lists but keeps all its history."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.is_archived:
        return customer
    customer.archived_at = timezone.now()
    _attribute(customer, by, reason or _("Archived"))
    customer.save(update_fields=["archived_at", "updated_at"])
    for step in archive_steps():
        step(customer, by=by, now=customer.archived_at, merged_into=None)
    audit(actor=by, action=Action.ARCHIVE, obj=customer, detail={"reason": reason} if reason else None)
    return customer


@transaction.atomic
def restore_customer(*, customer: Customer, by: User) -> Customer:
    """Managers and admins bring an archived customer back, unless a live duplicate now exists."""
    if not by.is_manager_or_admin:
        raise PermissionDenied(_("Only managers and admins can restore customers."))
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if not customer.is_archived:
        return customer
    if customer.merged_into_id:
        raise ValidationError(_("This customer was merged into another one and cannot be restored."))
    ensure_not_duplicate(
        viewer=by, name=customer.name, phone=customer.phone, email=customer.email, exclude_pk=customer.pk
    )
    customer.archived_at = None
    _attribute(customer, by, _("Restored"))
    _save_live_customer(customer, by=by)
    audit(actor=by, action=Action.RESTORE, obj=customer)
    return customer


def purge_after(archived_at: datetime) -> datetime:
    """When an archived customer may be purged: the retention period after archiving."""
    return archived_at + timedelta(days=settings.ARCHIVE_RETENTION_DAYS)


@transaction.atomic
def purge_customer(*, customer: Customer, by: User) -> None:
    """Hard-delete an archived customer, its contacts and their field history, once
    the retention period (``ARCHIVE_RETENTION_DAYS``, at least 90) has passed since
    it was archived. Admins only; the purge is written to the security audit log.

    Refused (nothing deleted) for a live or recently archived customer, a customer
    another one was merged into, or one with orders (financial records are kept).
    """
    if not by.is_admin:
        raise PermissionDenied(_("Only admins can purge customers."))
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if not customer.is_archived:
        raise ValidationError(_("Only archived customers can be purged; archive it first."))
    if timezone.now() < purge_after(customer.archived_at):
        raise ValidationError(
            _("This customer can be restored until %(date)s and cannot be purged before then.")
            % {"date": f"{timezone.localtime(purge_after(customer.archived_at)):%Y-%m-%d}"}
        )
    pk, contact_ids = customer.pk, list(customer.contacts.values_list("pk", flat=True))
    archived_at = customer.archived_at
    try:
        # Its grade and owner history goes with it: the one DELETE the history triggers allow.
        with history_purge():
            customer.delete()
    except ProtectedError as exc:
        raise ValidationError(
            _("This customer still has orders or merged customers pointing at it and cannot be purged.")
        ) from exc
    # The personal data also lives in the field history: purge means gone from there too.
    Customer.history.filter(id=pk).delete()
    Contact.history.filter(id__in=contact_ids).delete()
    audit(
        actor=by,
        action=Action.PURGE,
        object_type=Customer._meta.label_lower,
        object_id=str(pk),
        detail={"contacts": len(contact_ids), "archived_at": archived_at.isoformat()},
    )


@transaction.atomic
def merge_customers(*, keep: Customer, merge: Customer, by: User) -> Customer:
    """Merge ``merge`` into ``keep``: every row pointing at ``merge`` (contacts, orders,
    activities, plans…) is re-pointed to ``keep``, blanks in ``keep`` are filled from
    ``merge``, tags are joined, and ``merge`` is archived with a link to ``keep``.
    Nothing is deleted. Managers and admins only.

    A customer's own history stays with it: its field history and the chains of
    models registered with ``crm.extensions.register_stays_when_merged`` (the funnel's
    grade and owner history),
    which replay from the customer's creation to its current grade and owner —
    interleaving two customers' chains would break that replay for ``keep``. Other
    apps' archive steps run first (``crm.extensions.register_archive_step``).
    """
    if not by.is_manager_or_admin:
        raise PermissionDenied(_("Only managers and admins can merge customers."))
    if keep.pk == merge.pk:
        raise ValidationError(_("Choose two different customers to merge."))
    # Locked in id order, so two merges of the same pair cannot deadlock.
    locked = {
        c.pk: c
        for c in Customer.objects.for_update("grade").filter(pk__in=[keep.pk, merge.pk]).order_by("pk")
    }
    keep, merge = locked[keep.pk], locked[merge.pk]
    if keep.is_archived or merge.is_archived:
        raise ValidationError(_("Only live customers can be merged."))
    now = timezone.now()
    for step in archive_steps():
        step(merge, by=by, now=now, merged_into=keep)
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        own_history = issubclass(model, HistoricalChanges) or stays_when_merged(model)
        if relation.many_to_many or own_history:
            continue
        model._default_manager.filter(**{relation.field.name: merge}).update(**{relation.field.name: keep})
    for field in CUSTOMER_EDITABLE_FIELDS:
        if getattr(keep, field) in ("", None) and getattr(merge, field) not in ("", None):
            setattr(keep, field, getattr(merge, field))
    keep.tags.add(*merge.tags.all())
    # The contact dates follow the joined history: the latest contact, the earliest follow-up agreed.
    for field in ("last_activity_at", "last_call_at", "last_visit_at"):
        setattr(keep, field, max(filter(None, [getattr(keep, field), getattr(merge, field)]), default=None))
    keep.next_follow_up_on = min(
        filter(None, [keep.next_follow_up_on, merge.next_follow_up_on]), default=None
    )
    _refresh_order_stats(keep)
    merge.archived_at = now
    merge.merged_into = keep
    _attribute(merge, by, _("Merged into %(name)s") % {"name": keep.name})
    merge.save(update_fields=["archived_at", "merged_into", "updated_at"])
    _attribute(keep, by, _("Merged %(name)s into this customer") % {"name": merge.name})
    keep.save()
    audit(actor=by, action=Action.MERGE, obj=keep, detail={"merged": merge.pk})
    return keep


# --- Contacts ----------------------------------------------------------------------


@transaction.atomic
def create_contact(*, customer: Customer, by: User, name: str, **fields) -> Contact:
    unknown = set(fields) - set(CONTACT_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not contact fields: {sorted(unknown)}")
    if customer.is_archived:
        raise ValidationError(_("An archived customer cannot get new contacts; restore it first."))
    _ensure_contact_not_elsewhere(customer, fields.get("phone", ""), fields.get("email", ""), viewer=by)
    contact = Contact(customer=customer, name=name, **fields)
    contact.full_clean(exclude=["customer"])
    _attribute(contact, by, _("Created"))
    contact.save()
    return contact


@transaction.atomic
def update_contact(*, contact: Contact, by: User, **fields) -> Contact:
    unknown = set(fields) - set(CONTACT_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not contact fields: {sorted(unknown)}")
    for field, value in fields.items():
        setattr(contact, field, value)
    _ensure_contact_not_elsewhere(contact.customer, contact.phone, contact.email, viewer=by)
    contact.full_clean(exclude=["customer"])
    _attribute(contact, by)
    contact.save()
    return contact


def _ensure_contact_not_elsewhere(customer: Customer, phone: str, email: str, *, viewer: User) -> None:
    """A contact's phone or e-mail that belongs to another live customer is a conflict (撞单)."""
    found = find_duplicate(phone=phone, email=email, exclude_pk=customer.pk)
    if found is not None:
        field, other = found
        raise ValidationError({field: duplicate_message(other, viewer=viewer)})


# --- Orders ------------------------------------------------------------------------


def _refresh_order_stats(customer: Customer) -> None:
    """Recount the orders of a customer the caller has locked and move its lifecycle
    stage by them, with a history row when it moves, in the caller's transaction; the
    caller saves ``order_count`` and ``lifecycle``."""
    signed = list(Order.objects.filter(customer=customer).values_list("signed_on", flat=True))
    customer.order_count = len(signed)
    stage = lifecycle_stage(signed, on=timezone.localdate(), rule=LifecycleRule.of(CrmSettings.load()))
    if stage != customer.lifecycle:
        LifecycleChange.objects.create(
            customer=customer, from_stage=customer.lifecycle, to_stage=stage, reason=LifecycleReason.ORDER
        )
        customer.lifecycle = stage


@transaction.atomic
def create_order(
    *,
    customer: Customer,
    by: User,
    amount: Decimal,
    signed_on: date,
    gross_profit: Decimal = Decimal(0),
    collected_amount: Decimal = Decimal(0),
    collected_on: date | None = None,
    note: str = "",
) -> Order:
    """Record a signed order and update the customer's lifecycle. Moving the customer
    to won is the funnel's ``record_order``, which calls this."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.is_archived:
        raise ValidationError(_("An archived customer cannot get orders; restore it first."))
    order = Order(
        customer=customer,
        owner=customer.owner,
        amount=amount,
        gross_profit=gross_profit,
        signed_on=signed_on,
        collected_amount=collected_amount,
        collected_on=collected_on,
        note=note,
        created_by=by,
    )
    order.full_clean(exclude=["customer", "owner"])
    if collected_amount and collected_on is None:
        raise ValidationError({"collected_on": _("Say when the money was collected.")})
    _attribute(order, by)
    order.save()
    _refresh_order_stats(customer)
    customer.save(update_fields=["order_count", "lifecycle", "updated_at"])
    return order


# Customers the nightly lifecycle sweep locks, reads and moves in one transaction.
LIFECYCLE_BATCH = 2_000


@dataclass(frozen=True)
class LifecycleSweep:
    checked: int
    moved: int


def refresh_lifecycles(*, on: date, batch_size: int = LIFECYCLE_BATCH) -> LifecycleSweep:
    """Move every live customer whose lifecycle stage the passing of time changed on the
    day ``on`` (a loyal customer's quarters rolling by, a buyer falling back after months
    without an order, an order dated ahead reaching its day, a change of the rule), with
    one history row per move. Called by the nightly task; safe to run twice for a day
    (a second run finds every stage right and writes nothing).

    Only customers with orders (or a stage that says they had some) can move; the others
    are prospects whatever the day. They are taken in batches by id, each its own
    transaction: the batch's customers are locked first — as ``create_order`` locks its
    customer before adding an order — so an order recorded meanwhile waits and its own
    move is not overwritten by a stage computed without it. Per batch a fixed number of
    queries whatever its size: the customers, their order dates, one UPDATE per stage
    reached and one insert of the history rows."""
    rule = LifecycleRule.of(CrmSettings.load())
    changed_at = timezone.now()
    after, checked, moved = 0, 0, 0
    while True:
        with transaction.atomic():
            stages = dict(
                Customer.objects.live()
                .filter(Q(order_count__gt=0) | ~Q(lifecycle=Lifecycle.PROSPECT), pk__gt=after)
                .select_for_update()
                .order_by("pk")
                .values_list("pk", "lifecycle")[:batch_size]
            )
            if not stages:
                return LifecycleSweep(checked=checked, moved=moved)
            signed: dict[int, list[date]] = defaultdict(list)
            for customer_id, signed_on in (
                Order.objects.filter(customer_id__in=stages, signed_on__lte=on)
                .order_by()
                .values_list("customer_id", "signed_on")
            ):
                signed[customer_id].append(signed_on)
            changes = [
                LifecycleChange(
                    customer_id=pk,
                    from_stage=old,
                    to_stage=new,
                    changed_at=changed_at,
                    reason=LifecycleReason.NIGHTLY,
                )
                for pk, old in stages.items()
                if (new := lifecycle_stage(signed[pk], on=on, rule=rule)) != old
            ]
            reached: dict[str, list[int]] = defaultdict(list)
            for change in changes:
                reached[change.to_stage].append(change.customer_id)
            for stage, ids in reached.items():
                Customer.objects.filter(pk__in=ids).update(lifecycle=stage)
            LifecycleChange.objects.bulk_create(changes)
        after, checked, moved = max(stages), checked + len(stages), moved + len(changes)


# --- Exports -----------------------------------------------------------------------


def record_export(*, user: User, kind: str, file_format: str, row_count: int, filters: dict) -> ExportRecord:
    """Write the audit rows of an export (who, what, how many rows, with which filters):
    the export record and the security audit log's entry."""
    record = ExportRecord.objects.create(
        user=user, kind=kind, file_format=file_format, row_count=row_count, filters=filters
    )
    audit(
        actor=user,
        action=Action.EXPORT,
        obj=record,
        detail={"kind": kind, "file_format": file_format, "rows": row_count, "filters": filters},
    )
    return record


def ensure_may_export(user: User) -> CrmSettings:
    """The export policy as the primary has it: a right just withdrawn holds at once."""
    with replicas.on_primary():
        crm_settings = CrmSettings.load()
    if not permissions.can_export(user, crm_settings):
        raise PermissionDenied(_("Exports are not enabled for salespeople. Ask your administrator."))
    return crm_settings


# --- Contact with the customer (called by the activities app) ----------------------


@transaction.atomic
def record_contact(*, customer: Customer, at, channel: str, next_follow_up_on: date | None) -> None:
    """Keep the customer's denormalized last-activity / last-call / last-visit and
    next-follow-up fields after an activity (``channel``: "call", "visit" or other).
    Older activities logged late never move the dates backwards."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    update_fields = ["updated_at"]
    if customer.last_activity_at is None or at > customer.last_activity_at:
        customer.last_activity_at = at
        update_fields.append("last_activity_at")
        if next_follow_up_on is not None:
            customer.next_follow_up_on = next_follow_up_on
            update_fields.append("next_follow_up_on")
    field = {"call": "last_call_at", "visit": "last_visit_at"}.get(channel)
    if field and (getattr(customer, field) is None or at > getattr(customer, field)):
        setattr(customer, field, at)
        update_fields.append(field)
    customer.skip_history_when_saving = True
    customer.save(update_fields=update_fields)


# --- Notifications -----------------------------------------------------------------


def notify(
    *,
    recipients: list[User],
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    customer: Customer | None = None,
    email: bool = False,
) -> list[Notification]:
    """In-app notifications (one bulk insert), and optionally an e-mail to each
    recipient, sent by the worker through the outbox after the transaction commits."""
    unique = {user.pk: user for user in recipients if user is not None and user.is_active}
    notifications = Notification.objects.bulk_create(
        [
            Notification(recipient=user, kind=kind, title=title[:200], body=body, url=url, customer=customer)
            for user in unique.values()
        ]
    )
    if email:
        addresses = [user.email for user in unique.values() if user.email]
        if addresses:
            outbox.enqueue(
                "crm.tasks.send_email",
                subject=title[:200],
                body=f"{body}\n\n{url}".strip(),
                recipients=addresses,
            )
    return notifications


def mark_notifications_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (all when ``ids`` is None); returns how many."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


# --- Users -------------------------------------------------------------------------


def ensure_may_deactivate(user: User) -> None:
    """Refuse to end the access of someone who still owns live customers: they would be
    orphaned. Their customers are handed over first (the funnel's departure wizard)."""
    count = user.customers.filter(archived_at__isnull=True).count()
    if count:
        raise ValidationError(
            ngettext(
                "%(name)s still owns %(count)d customer: hand it over first (departure wizard).",
                "%(name)s still owns %(count)d customers: hand them over first (departure wizard).",
                count,
            )
            % {"name": user.display_name, "count": count}
        )


@transaction.atomic
def deactivate_user(*, user: User, by: User) -> User:
    """End a user's access at once (sessions and API tokens stop working on the next
    request). Refused while they own live customers. Admins call it from the user
    admin, the funnel's departure service after handing the customers over.
    Idempotent: an inactive user is returned unchanged."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        return user
    ensure_may_deactivate(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    revoked, _by_model = user.auth_token_set.all().delete()  # API tokens (config.ApiToken) die too
    audit(
        actor=by,
        action=Action.USER_CHANGED,
        obj=user,
        detail={"change": "deactivated", "api_tokens_revoked": revoked},
    )
    return user

"""Users and teams, and the customer records they own: customers, contacts, orders."""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.models import ForecastCategory

from .lookups import HasBigram
from .normalize import normalize_company_name, normalize_email, phone_digits


class Team(models.Model):
    """A sales team; teams nest, and a manager sees their team and every sub-team."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    manager = models.ForeignKey(
        "crm.User",
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    SALESPERSON = "salesperson", _("Salesperson")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Admin")


class UserQuerySet(models.QuerySet):
    def visible_to(self, user: "User") -> "UserQuerySet":
        """Colleagues a user may see and pick (e.g. as a new owner): self, team tree, or all."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        scope = owner_scope(user, "pk")
        return self if scope is None else self.filter(scope)


class FunnelUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


# The first CJK code point (U+2E80): names in these scripts are written without spaces.
CJK_FROM = "\u2e80"


class User(AbstractUser):
    """A person who signs in: salesperson, manager or admin, member of one team."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SALESPERSON)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    hire_date = models.DateField(_("hire date"), null=True, blank=True)

    objects = FunnelUserManager()

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [models.Index(fields=["team", "is_active"], name="user_team_active_idx")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name_from(self.first_name, self.last_name, self.username)

    @staticmethod
    def name_from(first_name: str, last_name: str, username: str) -> str:
        """``display_name`` of a user read as plain values (a list of 200 people builds
        no User for each). Chinese names are written without a space (王芳, not 王 芳)."""
        joint = "" if first_name[-1:] >= CJK_FROM and last_name[:1] >= CJK_FROM else " "
        return f"{first_name}{joint}{last_name}".strip() or username

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_salesperson(self) -> bool:
        return self.role == Role.SALESPERSON

    @property
    def is_manager_or_admin(self) -> bool:
        """Sees beyond their own customers (a manager their team tree, an admin everyone):
        the one test for the pages and actions that only they have."""
        return self.role in (Role.MANAGER, Role.ADMIN)

    def oversees(self, person: "User | None") -> bool:
        """Is ``person`` in this user's charge: anyone for an admin, a member of a team in
        a manager's tree; nobody for a salesperson. Not the user themselves as such."""
        if person is None:
            return False
        return self.is_admin or (self.is_manager and person.team_id in self.visible_team_ids)

    @cached_property
    def visible_team_ids(self) -> frozenset[int]:
        """Ids of the teams this user manages and all their sub-teams (one query, cached;
        ``know_teams`` sets it from the teams a page has loaded anyway).

        Teams number in the tens, so walking the tree in Python is cheaper than a
        recursive CTE and works the same on SQLite and PostgreSQL.
        """
        if not self.is_manager_or_admin:
            return frozenset()
        return self._managed_team_ids(list(Team.objects.values_list("id", "parent_id", "manager_id")))

    def know_teams(self, teams: list["Team"]) -> None:
        """Set ``visible_team_ids`` from every team, loaded by the caller (a page that
        lists them), instead of reading them again."""
        if self.is_manager_or_admin:
            rows = [(team.pk, team.parent_id, team.manager_id) for team in teams]
            self.__dict__["visible_team_ids"] = self._managed_team_ids(rows)

    def _managed_team_ids(self, teams: list[tuple[int, int | None, int | None]]) -> frozenset[int]:
        """``visible_team_ids`` from (id, parent, manager) of every team."""
        if self.is_admin:
            return frozenset(team[0] for team in teams)
        children: dict[int | None, list[int]] = {}
        for team_id, parent_id, _manager_id in teams:
            children.setdefault(parent_id, []).append(team_id)
        stack = [team_id for team_id, _parent_id, manager_id in teams if manager_id == self.pk]
        seen: set[int] = set()
        while stack:
            team_id = stack.pop()
            if team_id not in seen:
                seen.add(team_id)
                stack.extend(children.get(team_id, []))
        return frozenset(seen)


def owner_scope(user: User, owner_field: str = "owner") -> Q | None:
    """The one visibility rule for owned rows, as a filter on ``owner_field``.

    Salesperson: rows they own. Manager: rows owned by anyone in their team tree
    (and their own). Admin: everything (``None`` = no filter). Every ``visible_to``
    queryset method builds on this, so lists, counts, charts and exports agree.

    The manager's rule is written as ``owner IN (those people)``, not as a join on the
    owner's team: the database can then walk the owner indexes once per person instead
    of joining every row of the table to its owner (10× faster at 100,000 customers).
    """
    if user.is_admin:
        return None
    if user.is_manager:
        people = User.objects.filter(Q(pk=user.pk) | Q(team_id__in=user.visible_team_ids)).values("pk")
        return Q(**{f"{owner_field}__in": people})
    return Q(**{owner_field: user.pk})


class OwnedQuerySet(models.QuerySet):
    """Base queryset for rows visible through their owner (or their customer's owner)."""

    owner_field = "owner"

    def visible_to(self, user) -> models.QuerySet:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        scope = owner_scope(user, self.owner_field)
        return self if scope is None else self.filter(scope)


# --- Customers ----------------------------------------------------------------------


class Tier(models.TextChoices):
    """Target-market segment; drives the contact cadence."""

    PRIORITY = "priority", _("Priority")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


class Source(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    COLD_CALL = "cold_call", _("Cold call")
    EXHIBITION = "exhibition", _("Exhibition")
    WEBSITE = "website", _("Website")
    ADVERTISING = "advertising", _("Advertising")
    PARTNER = "partner", _("Partner")
    EXISTING = "existing", _("Existing relationship")
    OTHER = "other", _("Other")


class Lifecycle(models.TextChoices):
    """Derived from the customer's orders over time (``crm.lifecycle.lifecycle_stage``)."""

    PROSPECT = "prospect", _("Prospect")
    FIRST_PURCHASE = "first_purchase", _("First purchase")
    REPEAT = "repeat", _("Repeat")
    LOYAL = "loyal", _("Loyal")


class Tag(models.Model):
    """A persona label (e.g. "price-sensitive", "state-owned")."""

    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


# The fields ``Customer.weighted_value`` is computed from (with the grade's probability).
WEIGHTED_VALUE_INPUTS = frozenset({"expected_value", "probability_override", "grade", "grade_id"})


def effective_forecast_category(prefix: str = "") -> Coalesce:
    """The forecast category a customer counts under: the one its owner set, else its
    grade's default (``Grade.forecast_category``: A → commit, B → best case, others
    pipeline). The one rule, as an expression, so forecasts group and sum by it in SQL;
    ``prefix`` reaches the customer through a relation (e.g. "customer__"). Works on the
    customer's history rows too (they carry both fields)."""
    return Coalesce(
        NullIf(F(f"{prefix}forecast_category"), Value("")), F(f"{prefix}grade__forecast_category")
    )


def weighted_value_of(expected_value: Decimal, probability: Decimal) -> Decimal:
    """Expected yearly value × probability: ¥5,000,000 at 20 % counts ¥1,000,000. Rounded
    half up to the fen, as PostgreSQL's ``round`` does in ``refresh_weighted_values``."""
    return (Decimal(expected_value) * Decimal(probability) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)


def stuck_q(at) -> Q:
    """Stuck (停滞): a live, owned customer whose stay at its grade passed the grade's
    limit by ``at``. The one rule of every "stuck": the funnel's counts and list, the
    customer list's filter and page flag, and the stagnation scan that keeps exactly one
    open alert per stuck customer (``stagnant_from`` is empty at won/lost and without a
    limit). A pool customer is nobody's to unstick: it counts again once claimed."""
    return Q(archived_at__isnull=True, owner__isnull=False, stagnant_from__lte=at)


class CustomerQuerySet(OwnedQuerySet):
    def live(self) -> "CustomerQuerySet":
        return self.filter(archived_at__isnull=True)

    def stuck(self, at=None) -> "CustomerQuerySet":
        """Customers stuck at ``at`` (default: now), by ``stuck_q``."""
        return self.filter(stuck_q(at or timezone.now()))

    def in_pool(self) -> "CustomerQuerySet":
        return self.filter(owner__isnull=True, archived_at__isnull=True)

    def for_update(self, *related: str) -> "CustomerQuerySet":
        """The way every write locks customers: ``SELECT … FOR UPDATE`` of the customer
        rows alone, then ``related`` (e.g. "grade", "owner") read after the lock.

        Never join in the locking query. Under READ COMMITTED, PostgreSQL re-checks a
        row that another transaction changed while we waited against the joined rows
        it read *before* waiting: a customer whose grade just changed drops out of an
        inner join (``Customer.DoesNotExist``, the 500s of parallel grade changes) and
        one whose owner just changed comes back without one from an outer join.
        ``select_for_update(of=("self",))`` does not help: it only narrows what is
        locked, not what is re-checked. The related rows are read in their own queries
        (one each, whatever the number of customers), at their current version.
        """
        return self.select_for_update().prefetch_related(*related)


class Customer(models.Model):
    """A company or person we sell to.

    ``grade``, ``grade_entered_at``, ``last_activity_at`` and ``next_follow_up_on`` are
    denormalized here (kept by the services that change them) because every list
    filters and sorts on them. The grade rules themselves live in the funnel app.
    """

    name = models.CharField(_("name"), max_length=200)
    name_normalized = models.CharField(max_length=200, editable=False)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    region = models.CharField(_("region / territory"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_digits = models.CharField(max_length=40, editable=False, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    email_normalized = models.CharField(max_length=254, editable=False, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_revenue = models.DecimalField(
        _("annual revenue"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("Purchasing power, in CNY."),
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.OTHER)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.NORMAL)
    expected_value = models.DecimalField(
        _("expected yearly value"),
        max_digits=14,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("Expected deal value per year, in CNY."),
    )
    competitor = models.CharField(_("competitor in place"), max_length=200, blank=True)
    expected_signing_on = models.DateField(_("expected signing date"), null=True, blank=True)
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=10,
        choices=ForecastCategory.choices,
        blank=True,
        default="",
        help_text=_("Empty: the grade's default. A commit needs an expected signing date and value."),
    )
    notes = models.TextField(_("notes"), blank=True)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
        db_index=False,  # owner-first indexes below
        help_text=_("Empty means the customer is in the public pool."),
    )
    grade = models.ForeignKey(
        "core.Grade",
        verbose_name=_("grade"),
        on_delete=models.PROTECT,
        related_name="customers",
        db_index=False,
    )  # customer_grade_entered_idx
    grade_entered_at = models.DateTimeField(_("entered grade at"), default=timezone.now)
    # When this stay at the grade turns stagnant (entered + the grade's limit); kept by
    # the grade services so "stagnant" is an indexed comparison, not a join per row.
    stagnant_from = models.DateTimeField(_("stagnant from"), null=True, blank=True, editable=False)
    probability_override = models.DecimalField(
        _("probability override (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    probability_override_reason = models.CharField(_("override reason"), max_length=300, blank=True)
    # expected_value × probability, stored because lists sort on it (an index, not a
    # sort of every row). ``save()`` keeps it; set-based writes call
    # ``crm.services.refresh_weighted_values`` (e.g. when a grade's probability changes).
    weighted_value = models.DecimalField(
        _("weighted value"), max_digits=18, decimal_places=2, default=Decimal(0), editable=False
    )
    lost_reason = models.CharField(_("lost reason"), max_length=300, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    # Kept by activity logging; the contact cadence compares them with the tier's rule.
    last_call_at = models.DateTimeField(_("last call"), null=True, blank=True, editable=False)
    last_visit_at = models.DateTimeField(_("last visit"), null=True, blank=True, editable=False)
    next_follow_up_on = models.DateField(_("next follow-up"), null=True, blank=True)
    order_count = models.PositiveIntegerField(_("orders"), default=0, editable=False)
    lifecycle = models.CharField(
        _("lifecycle"),
        max_length=20,
        choices=Lifecycle.choices,
        default=Lifecycle.PROSPECT,
        editable=False,
    )
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, editable=False)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
        editable=False,
        db_index=False,  # a partial index below: almost every customer has none
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # The spreadsheet import that created this customer (traceability); none when typed in.
    import_batch = models.ForeignKey(
        "crm.ImportBatch",
        verbose_name=_("import"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="customers",
        db_index=False,  # partial index below
    )

    history = HistoricalRecords(
        excluded_fields=[
            "name_normalized",
            "phone_digits",
            "email_normalized",
            "weighted_value",
            "updated_at",
        ]
    )
    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            # Two live customers may not share a normalized name: the duplicate check
            # in the services gives the friendly message, this closes the race.
            models.UniqueConstraint(
                fields=["name_normalized"],
                condition=Q(archived_at__isnull=True),
                name="customer_live_name_unique",
            ),
            # ...nor a phone (by its digits): the same company under two spellings.
            models.UniqueConstraint(
                fields=["phone_digits"],
                condition=Q(archived_at__isnull=True) & ~Q(phone_digits=""),
                name="customer_live_phone_unique",
            ),
            models.CheckConstraint(condition=Q(expected_value__gte=0), name="customer_expected_value_gte_0"),
            models.CheckConstraint(
                condition=Q(probability_override__isnull=True)
                | Q(probability_override__gte=0, probability_override__lte=100),
                name="customer_probability_override_range",
            ),
        ]
        indexes = [
            # The default list: an owner's live customers by name / grade / follow-up.
            models.Index(fields=["owner", "archived_at", "name"], name="customer_owner_name_idx"),
            # ...and a manager's or admin's, whose many owners one index on owner cannot order.
            models.Index(
                fields=["name", "id"], condition=Q(archived_at__isnull=True), name="customer_live_name_idx"
            ),
            # Covering: the funnel dashboard's GROUP BY owner, grade reads only this index
            # (an index-only scan), and an owner's grade filter sorts by days in grade.
            models.Index(
                fields=["owner", "grade", "grade_entered_at"],
                name="customer_owner_grade_idx",
                include=["archived_at", "expected_value", "weighted_value", "stagnant_from", "created_at"],
            ),
            models.Index(fields=["grade", "grade_entered_at"], name="customer_grade_entered_idx"),
            models.Index(fields=["owner", "next_follow_up_on"], name="customer_owner_follow_up_idx"),
            # The forecast: live customers signing in a period, with what it sums and groups by.
            models.Index(
                fields=["expected_signing_on"],
                include=["owner", "grade", "forecast_category", "expected_value", "weighted_value"],
                condition=Q(archived_at__isnull=True, expected_signing_on__isnull=False),
                name="customer_live_signing_idx",
            ),
            # ...and one owner's (a team's) commits by signing date: the weekly report's
            # stuck or slipping commits walk it per owner instead of every signing date.
            models.Index(
                fields=["owner", "expected_signing_on"],
                condition=Q(archived_at__isnull=True, expected_signing_on__isnull=False),
                name="customer_owner_signing_idx",
            ),
            # ...and a team's or the company's most overdue follow-ups (weekly report, sorted lists).
            models.Index(
                fields=["next_follow_up_on", "id"],
                condition=Q(archived_at__isnull=True),
                name="customer_live_follow_up_idx",
            ),
            models.Index(fields=["owner", "last_activity_at"], name="customer_owner_activity_idx"),
            models.Index(fields=["tier", "last_activity_at"], name="customer_tier_activity_idx"),
            models.Index(fields=["owner", "stagnant_from"], name="customer_owner_stagnant_idx"),
            # Stuck live customers across the company, with their owner and grade: the
            # dashboards' stuck counts (index-only), their stuck lists, the stagnation scan.
            models.Index(
                fields=["stagnant_from"],
                include=["owner", "grade"],
                condition=Q(archived_at__isnull=True),
                name="customer_live_stagnant_idx",
            ),
            # An owner's live customers of a tier (the list's tier filter, its capped count).
            models.Index(
                fields=["owner", "tier"],
                condition=Q(archived_at__isnull=True),
                name="customer_owner_tier_live_idx",
            ),
            # An owner's live customers at a lifecycle stage: the list's filter, the
            # dashboard's counts per salesperson and stage (index-only).
            models.Index(
                fields=["owner", "lifecycle"],
                condition=Q(archived_at__isnull=True),
                name="customer_owner_lifecycle_idx",
            ),
            models.Index(fields=["owner", "tier", "last_call_at"], name="customer_owner_call_idx"),
            models.Index(fields=["owner", "tier", "last_visit_at"], name="customer_owner_visit_idx"),
            # New customers by creation time, with their owner and grade: the dashboards'
            # new-customer counts and this week's creations read the index alone.
            models.Index(fields=["created_at"], include=["owner", "grade"], name="customer_created_idx"),
            # Lists sorted by weighted value: a manager's or admin's, and one owner's.
            models.Index(
                models.F("weighted_value").desc(),
                "id",
                condition=Q(archived_at__isnull=True),
                name="customer_live_weighted_idx",
            ),
            models.Index(
                "owner",
                models.F("weighted_value").desc(),
                "id",
                condition=Q(archived_at__isnull=True),
                name="customer_owner_weighted_idx",
            ),
            # Duplicate checks compare these exactly (no LIKE: the search uses trigrams).
            models.Index(fields=["name_normalized"], name="customer_name_normalized_idx"),
            models.Index(fields=["phone_digits"], name="customer_phone_digits_idx"),
            models.Index(fields=["email_normalized"], name="customer_email_idx"),
            models.Index(
                fields=["merged_into"],
                condition=Q(merged_into__isnull=False),
                name="customer_merged_into_idx",
            ),
            models.Index(
                fields=["import_batch"],
                condition=Q(import_batch__isnull=False),
                name="customer_import_batch_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name_normalized = normalize_company_name(self.name)
        self.phone_digits = phone_digits(self.phone)
        self.email_normalized = normalize_email(self.email)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or WEIGHTED_VALUE_INPUTS.intersection(update_fields):
            self.refresh_weighted_value()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "weighted_value"}
        super().save(*args, **kwargs)

    def clean(self):
        """A commit is a promise about a period: it needs the date it signs and the value."""
        super().clean()
        if self.forecast_category == ForecastCategory.COMMIT:
            errors = {}
            if self.expected_signing_on is None:
                errors["expected_signing_on"] = _("A commit needs an expected signing date.")
            if not self.expected_value:
                errors["expected_value"] = _("A commit needs an expected value.")
            if errors:
                raise ValidationError(errors)

    def refresh_weighted_value(self) -> None:
        """Recompute the stored weighted value from its inputs (own fields and the grade)."""
        self.weighted_value = weighted_value_of(self.expected_value, self.probability)

    def refresh_stagnant_from(self) -> None:
        """Recompute when the current stay at the grade turns stagnant (own fields only)."""
        days = self.grade.stagnation_days if self.grade.is_open else None
        self.stagnant_from = self.grade_entered_at + timedelta(days=days) if days else None

    @property
    def is_stagnant(self) -> bool:
        """``stuck_q`` for this row."""
        return (
            self.archived_at is None
            and self.owner_id is not None
            and self.stagnant_from is not None
            and self.stagnant_from <= timezone.now()
        )

    @property
    def days_in_grade(self) -> int:
        return (timezone.now() - self.grade_entered_at).days

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def probability(self) -> Decimal:
        """The override when set, else the grade's default (percent)."""
        if self.probability_override is not None:
            return self.probability_override
        return self.grade.probability


class CustomerTallyQuerySet(OwnedQuerySet):
    def totals(self, *group_by: str) -> "CustomerTallyQuerySet":
        """``count``, ``expected`` and ``weighted`` of the live customers, grouped by
        ``group_by`` (e.g. "owner_id", "grade_id"). An (owner, grade) may have several
        delta rows: they are summed, never counted."""
        return (
            self.order_by()
            .values(*group_by)
            .annotate(
                count=models.Sum("customers"),
                expected=models.Sum("expected_value"),
                weighted=models.Sum("weighted_value"),
            )
        )


class CustomerTally(models.Model):
    """The live customers' count, expected and weighted value per (owner, grade): what the
    funnel dashboards sum, in about a thousand rows instead of every customer.

    Database triggers on the customer table (crm migration 0011) insert a delta row for
    each (owner, grade) a write changes, in the write's own transaction, whatever makes it:
    services, set-based updates, imports, the admin, SQL by hand. So the sums are exact at
    once, and writers only ever insert (they never wait on each other for a total row).
    ``crm.services.fold_customer_tally`` folds the deltas into one row per (owner, grade)
    every minute. Not managed by Django: the migration creates the table beside its
    triggers, and ``flush`` (tests) leaves it to them. On SQLite, a later migration that
    rebuilds the customer table (most field alterations do) drops its triggers: it must
    create them again (``SQLITE_CREATE`` in migration 0011; a test migrates a new SQLite
    database and looks for them, on any database). ``manage.py customer_tally``
    checks the tally against the customers, and ``--rebuild`` mends it.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    grade = models.ForeignKey(
        "core.Grade", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    customers = models.IntegerField()
    expected_value = models.DecimalField(max_digits=24, decimal_places=2)
    weighted_value = models.DecimalField(max_digits=24, decimal_places=2)

    objects = CustomerTallyQuerySet.as_manager()

    class Meta:
        managed = False
        db_table = "crm_customertally"

    def __str__(self) -> str:
        return f"{self.owner_id} {self.grade_id}: {self.customers:+d}"


class KeyPersonRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    RECOMMENDER = "recommender", _("Recommender")
    INFLUENCER = "influencer", _("Influencer / gatekeeper")
    USER = "user", _("User")
    OTHER = "other", _("Other")


class ContactQuerySet(OwnedQuerySet):
    owner_field = "customer__owner"


class Contact(models.Model):
    """A person at a customer, with their key-person (KP) role."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    role = models.CharField(
        _("key-person role"), max_length=20, choices=KeyPersonRole.choices, default=KeyPersonRole.OTHER
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_digits = models.CharField(max_length=40, editable=False, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    email_normalized = models.CharField(max_length=254, editable=False, blank=True, db_index=True)
    wechat = models.CharField(_("WeChat"), max_length=100, blank=True)
    preferences = models.TextField(
        _("preferences"),
        blank=True,
        help_text=_("Hobbies, how they like to be contacted, what matters to them."),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    import_batch = models.ForeignKey(
        "crm.ImportBatch",
        verbose_name=_("import"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )

    history = HistoricalRecords(excluded_fields=["phone_digits", "email_normalized"])
    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [models.Index(fields=["customer", "role"], name="contact_customer_role_idx")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.phone_digits = phone_digits(self.phone)
        self.email_normalized = normalize_email(self.email)
        super().save(*args, **kwargs)

    @property
    def is_key_person(self) -> bool:
        return self.role in {KeyPersonRole.DECISION_MAKER, KeyPersonRole.RECOMMENDER}


class OrderQuerySet(OwnedQuerySet):
    owner_field = "customer__owner"


class Order(models.Model):
    """A signed deal (出单): what quotas and targets are measured against."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("salesperson"),
        null=True,
        on_delete=models.PROTECT,
        related_name="orders",
        help_text=_("Who signed it; credited in targets and rollups."),
    )
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    gross_profit = models.DecimalField(_("gross profit"), max_digits=14, decimal_places=2, default=Decimal(0))
    signed_on = models.DateField(_("signed on"))
    collected_amount = models.DecimalField(
        _("collected amount"),
        max_digits=14,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )
    collected_on = models.DateField(_("collected on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    history = HistoricalRecords()
    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_on", "-pk"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="order_amount_gte_0"),
            models.CheckConstraint(condition=Q(collected_amount__gte=0), name="order_collected_gte_0"),
        ]
        indexes = [
            models.Index(fields=["owner", "signed_on"], name="order_owner_signed_idx"),
            models.Index(fields=["customer", "signed_on"], name="order_customer_signed_idx"),
            models.Index(fields=["signed_on"], name="order_signed_idx"),
            models.Index(fields=["collected_on"], name="order_collected_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.amount} · {self.signed_on}"


class LifecycleReason(models.TextChoices):
    ORDER = "order", _("Orders changed")
    NIGHTLY = "nightly", _("Time passed (nightly)")


class LifecycleChangeQuerySet(OwnedQuerySet):
    owner_field = "customer__owner"


class LifecycleChange(models.Model):
    """One move of a customer between lifecycle stages. Append-only: written in the
    transaction of the move — an order recorded or merged in (``crm.services.create_order``,
    ``merge_customers``) or the nightly sweep (``refresh_lifecycles``) — never updated;
    it stays with its customer when that one is merged away (its own orders' story)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="lifecycle_changes", verbose_name=_("customer")
    )
    from_stage = models.CharField(_("from"), max_length=20, choices=Lifecycle.choices)
    to_stage = models.CharField(_("to"), max_length=20, choices=Lifecycle.choices)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=10, choices=LifecycleReason.choices)

    objects = LifecycleChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at", "-pk"]
        verbose_name = _("lifecycle change")
        verbose_name_plural = _("lifecycle changes")
        indexes = [models.Index(fields=["customer", "changed_at"], name="lifecyclechange_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer}: {self.from_stage} → {self.to_stage}"


class CrmSettings(models.Model):
    """Company-wide customer-data settings (one row, edited by admins)."""

    salespeople_may_export = models.BooleanField(
        _("salespeople may export"),
        default=False,
        help_text=_("Off by default: customers leaving with a salesperson is the risk the method warns of."),
    )
    export_row_cap = models.PositiveIntegerField(_("rows per export"), default=10000)
    won_on_order = models.BooleanField(
        _("recording an order moves the customer to won"),
        default=True,
    )
    # The lifecycle rule (``crm.lifecycle.lifecycle_stage``); a change shows on the
    # customers the next night, when the sweep recomputes every customer with orders.
    lifecycle_repeat_window_days = models.PositiveIntegerField(
        _("repeat purchase window (days)"),
        default=365,
        validators=[MinValueValidator(1)],
        help_text=_("A second order within this many days of the one before makes a repeat customer."),
    )
    lifecycle_loyal_quarters = models.PositiveIntegerField(
        _("loyal: quarters with orders"),
        default=3,
        validators=[MinValueValidator(1)],
    )
    lifecycle_loyal_of_quarters = models.PositiveIntegerField(
        _("loyal: out of the last quarters"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("Loyal: orders in that many of these last quarters (the current one included)."),
    )
    lifecycle_fall_back_months = models.PositiveIntegerField(
        _("fall back after months without an order"),
        default=12,
        validators=[MinValueValidator(1)],
        help_text=_("No order for this long: counted as a first-purchase customer again."),
    )

    class Meta:
        verbose_name = _("customer settings")
        verbose_name_plural = _("customer settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(lifecycle_loyal_quarters__lte=F("lifecycle_loyal_of_quarters")),
                name="crmsettings_loyal_quarters_within",
                violation_error_message=_("More quarters with orders than quarters looked at."),
            ),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def load(cls) -> "CrmSettings":
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row


class ExportRecord(models.Model):
    """Every export: who took which rows out, when (customer data protection)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exports")
    kind = models.CharField(max_length=40)
    file_format = models.CharField(max_length=10)
    row_count = models.PositiveIntegerField()
    filters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("export record")
        verbose_name_plural = _("export records")

    def __str__(self) -> str:
        return f"{self.user} · {self.kind} · {self.row_count}"


class ImportState(models.TextChoices):
    """uploaded → validating → previewed → queued → committing → done (or failed / cancelled)."""

    UPLOADED = "uploaded", _("Waiting to be checked")
    VALIDATING = "validating", _("Checking")
    PREVIEWED = "previewed", _("Ready to confirm")
    QUEUED = "queued", _("Waiting to be imported")
    COMMITTING = "committing", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class ImportBatchQuerySet(OwnedQuerySet):
    owner_field = "user"


class ImportBatch(models.Model):
    """One spreadsheet import (customers with contacts, activities…): who, when, which
    file, what the preview found and what was written. Rows it created point back here.

    The file itself is kept in the database (not on a disk only one machine sees) until
    it has been read, and its rows until the import is done or cancelled, so any worker
    can pick the batch up.
    """

    RUNNING_STATES = (
        ImportState.UPLOADED,
        ImportState.VALIDATING,
        ImportState.QUEUED,
        ImportState.COMMITTING,
    )

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.PROTECT,
        related_name="imports",
    )
    kind = models.CharField(_("kind"), max_length=40)
    file_name = models.CharField(_("file name"), max_length=255)
    file_format = models.CharField(_("format"), max_length=10)
    file_size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    content = models.BinaryField(editable=False, null=True)
    # The file's rows once read (compressed JSON): the commit re-checks them without
    # parsing the workbook again.
    rows = models.BinaryField(editable=False, null=True)
    state = models.CharField(
        _("state"), max_length=20, choices=ImportState.choices, default=ImportState.UPLOADED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    create_count = models.PositiveIntegerField(_("to create"), default=0)
    update_count = models.PositiveIntegerField(_("to update"), default=0)
    duplicate_count = models.PositiveIntegerField(_("duplicates"), default=0)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    # [{"row": 7, "column": "Grade", "message": "…"}], capped (see crm.importing.services).
    errors = models.JSONField(_("errors"), default=list, blank=True)
    # {"create": [...], "update": [...], "duplicate": [...]}: the first rows of each kind.
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["user", "created_at"], name="importbatch_user_created_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="importbatch_progress_lte_100"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} · {self.get_state_display()}"

    @property
    def is_running(self) -> bool:
        return self.state in self.RUNNING_STATES


class NotificationQuerySet(models.QuerySet):
    def unread(self) -> "NotificationQuerySet":
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """An in-app message to one user (the bell in the navigation): alerts, escalations,
    approvals, handovers. Written by ``crm.services.notify``; e-mail goes via the outbox."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("customer"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "created_at"], name="notification_recipient_idx"),
            models.Index(
                fields=["recipient"], name="notification_unread_idx", condition=Q(read_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return self.title


# Two-character name searches through the bigram indexes (crm migration 0017).
Customer._meta.get_field("name").register_lookup(HasBigram)
Contact._meta.get_field("name").register_lookup(HasBigram)

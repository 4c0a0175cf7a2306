"""The grades of the funnel (E→A, won, lost) and the history of every move between them."""

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.models import Grade, GradeKind
from crm.models import Customer, OwnedQuerySet, owner_scope


class GradeChangeQuerySet(OwnedQuerySet):
    owner_field = "customer__owner"


class GradeChange(models.Model):
    """One move of a customer between grades. Append-only: never updated or deleted.

    The moves of one customer chain from the grade it was created at to its current
    grade (reports replay them), so they stay with it when it is merged away.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="grade_changes", verbose_name=_("customer")
    )
    from_grade = models.ForeignKey(
        Grade, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("from")
    )
    to_grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+", verbose_name=_("to"))
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    # The owner at the time of the move, so conversion stats stay with who did the work.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
    )
    note = models.TextField(_("note"), blank=True)
    days_in_previous = models.PositiveIntegerField(_("days in previous grade"), null=True)

    objects = GradeChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at", "-pk"]
        verbose_name = _("grade change")
        verbose_name_plural = _("grade changes")
        # The grades (and owner) ride along in the index, so the reports' grouped counts
        # of moves over a time range (or a customer's moves) read the index alone.
        indexes = [
            models.Index(
                fields=["customer", "changed_at"],
                name="gradechange_customer_idx",
                include=["from_grade", "to_grade"],
            ),
            models.Index(
                fields=["changed_at"],
                name="gradechange_changed_idx",
                include=["owner", "from_grade", "to_grade"],
            ),
            models.Index(
                fields=["owner", "changed_at"],
                name="gradechange_owner_idx",
                include=["from_grade", "to_grade"],
            ),
            models.Index(fields=["to_grade", "changed_at"], name="gradechange_to_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer}: {self.from_grade} → {self.to_grade}"

    @property
    def direction(self) -> str:
        """'up' (towards A/won), 'down' or 'first'."""
        if self.from_grade is None:
            return "first"
        if self.to_grade.kind == GradeKind.WON:
            return "up"
        if self.to_grade.kind == GradeKind.LOST:
            return "down"
        return "up" if self.to_grade.order > self.from_grade.order else "down"


# --- Funnel management: settings, stagnation alerts ----------------------------------


class DayCount(models.TextChoices):
    CALENDAR = "calendar", _("Calendar days")
    WORKING = "working", _("Working days (Monday to Friday)")


class FunnelSettings(models.Model):
    """Company-wide funnel-management rules (one row, edited by admins): how stagnation
    days are counted, the public pool's caps and waits, and the concentration guard."""

    day_count = models.CharField(
        _("count stagnation limits in"),
        max_length=10,
        choices=DayCount.choices,
        default=DayCount.CALENDAR,
        help_text=_("Working days skip Saturdays and Sundays."),
    )
    max_customers_per_salesperson = models.PositiveIntegerField(
        _("most open customers per salesperson"),
        null=True,
        blank=True,
        default=200,
        help_text=_("Claiming from the pool stops at this many open customers. Empty: no cap."),
    )
    claims_per_day = models.PositiveIntegerField(
        _("claims per day"),
        null=True,
        blank=True,
        default=5,
        help_text=_("How many customers one person may claim from the pool per day. Empty: no cap."),
    )
    reclaim_wait_days = models.PositiveSmallIntegerField(
        _("wait before claiming back (days)"),
        default=30,
        help_text=_(
            "A previous owner who lost a customer to the pool may claim it back after this many days."
        ),
    )
    pool_warning_days = models.PositiveSmallIntegerField(
        _("warn before pool return (days)"),
        default=3,
        help_text=_("The owner is warned this many days before an idle customer goes back to the pool."),
    )
    conflict_recent_days = models.PositiveSmallIntegerField(
        _("recent activity for conflicts (days)"),
        default=30,
        help_text=_("In a conflict, the earlier registration wins if it had activity within this many days."),
    )

    grade_skip_rule = models.BooleanField(
        _("enforce the method when a customer skips grades"),
        default=True,
        help_text=_(
            "Moving up more than one grade at once needs a reason, and is refused past a grade "
            "that requires a decision maker the customer lacks."
        ),
    )

    # The concentration guard (SPEC "Balance view"): no one salesperson or a few should
    # hold 80 % or more (80%以上) of the team's won customers.
    concentration_share = models.PositiveSmallIntegerField(
        _("won-customer concentration limit (%)"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_(
            "Warn when one salesperson or a few hold this share of the team's won customers or more."
        ),
    )
    concentration_few_people = models.PositiveSmallIntegerField(
        _("a few salespeople: at most (people)"),
        default=2,
        help_text=_("A group of at most this many people counts as a few."),
    )
    concentration_few_share_of_team = models.PositiveSmallIntegerField(
        _("a few salespeople: at most (share of the team, %)"),
        default=20,
        validators=[MaxValueValidator(100)],
        help_text=_("A group of at most this share of the team's people also counts as a few."),
    )

    class Meta:
        verbose_name = _("funnel settings")
        verbose_name_plural = _("funnel settings")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="funnelsettings_singleton"),
            models.CheckConstraint(
                condition=Q(concentration_share__gte=1, concentration_share__lte=100),
                name="funnelsettings_concentration_share_range",
            ),
            models.CheckConstraint(
                condition=Q(concentration_few_share_of_team__lte=100),
                name="funnelsettings_concentration_few_share_range",
            ),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def load(cls) -> "FunnelSettings":
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row

    @classmethod
    def load_for_update(cls) -> "FunnelSettings":
        """The settings row, locked: the daily sweeps take it first so two runs of the
        same sweep (a retry racing the original) are applied one after the other."""
        cls.objects.get_or_create(pk=1)
        return cls.objects.select_for_update().get(pk=1)


class CloseReason(models.TextChoices):
    GRADE_CHANGED = "grade_changed", _("Grade changed")
    POOL = "pool", _("Returned to the pool")
    # The grade's limit was raised or removed, or the customer archived: no longer stuck.
    NOT_STUCK = "not_stuck", _("No longer stuck")


class StagnationAlertQuerySet(OwnedQuerySet):
    owner_field = "customer__owner"

    def open(self) -> "StagnationAlertQuerySet":
        return self.filter(closed_at__isnull=True)

    def snoozed(self, today: date) -> "StagnationAlertQuerySet":
        """Open alerts put off until a day after ``today``."""
        return self.open().filter(snoozed_until__gt=today)

    def to_act_on(self, today: date) -> "StagnationAlertQuerySet":
        """Open alerts not snoozed (any more) on ``today``."""
        return self.open().filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today))


class StagnationAlert(models.Model):
    """停滞预警: one per stay of a customer at a grade that outlasted the grade's limit.

    The stay is identified by ``(customer, grade_entered_at)``, so running the daily
    scan again never raises a second alert for the same stay. Closed by the grade
    services when the customer leaves the grade; never deleted.

    Snoozed (``snooze_alert``): the owner or a manager puts it off, with a reason, until
    a date. It stays open — the customer is still stuck and counts as such on the
    funnel — but leaves "my day" and the alerts page's "to act on" list, and comes back
    by itself on ``snoozed_until``.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="stagnation_alerts", verbose_name=_("customer")
    )
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+", verbose_name=_("grade"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner when raised"),
    )
    grade_entered_at = models.DateTimeField(_("entered grade at"))
    stagnant_from = models.DateTimeField(_("stagnant from"))
    raised_on = models.DateField(_("raised on"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.CharField(
        _("closed because"), max_length=20, choices=CloseReason.choices, blank=True
    )
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    snooze_reason = models.CharField(_("snooze reason"), max_length=300, blank=True)
    snoozed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("snoozed by"),
    )
    snoozed_at = models.DateTimeField(_("snoozed at"), null=True, blank=True)

    objects = StagnationAlertQuerySet.as_manager()

    class Meta:
        ordering = ["stagnant_from", "pk"]
        verbose_name = _("stagnation alert")
        verbose_name_plural = _("stagnation alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "grade_entered_at"], name="stagnationalert_one_per_stay"
            ),
        ]
        indexes = [
            models.Index(
                fields=["stagnant_from"], name="stagnationalert_open_idx", condition=Q(closed_at__isnull=True)
            ),
            models.Index(
                fields=["notified_at"],
                name="stagnationalert_unnotified_idx",
                condition=Q(notified_at__isnull=True),
            ),
            # The scan reopens only these (a grade change ends the stay for good): it never
            # reads the ever-growing rest of the closed alerts.
            models.Index(
                fields=["customer", "grade_entered_at"],
                name="stagnationalert_reopenable_idx",
                condition=Q(close_reason__in=["pool", "not_stuck"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.grade.code}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def days_in_grade(self) -> int:
        return (timezone.now() - self.grade_entered_at).days

    @property
    def days_over_limit(self) -> int:
        return max((timezone.now() - self.stagnant_from).days, 0)

    @property
    def is_snoozed(self) -> bool:
        return self.is_open and self.snoozed_until is not None and self.snoozed_until > timezone.localdate()


# --- Reassignment (改派) and handover (工作交接) --------------------------------------


class ReassignmentKind(models.TextChoices):
    REASSIGN = "reassign", _("Reassigned")
    DEPARTURE = "departure", _("Departure handover")
    CONFLICT = "conflict", _("Conflict settled")
    CLAIM = "claim", _("Claimed from the pool")
    RELEASE = "release", _("Released to the pool")
    POOL_RETURN = "pool_return", _("Returned to the pool (no activity)")


# Kinds that hand a customer from one salesperson to another: they create handover tasks.
HANDOVER_KINDS = frozenset({ReassignmentKind.REASSIGN, ReassignmentKind.DEPARTURE, ReassignmentKind.CONFLICT})


class ReassignmentQuerySet(OwnedQuerySet):
    owner_field = "customer__owner"


class Reassignment(models.Model):
    """One change of a customer's owner: who from, who to, who did it, when and why.

    Append-only, written in the same transaction as the owner change. Covers moves
    between salespeople as well as claims from and returns to the public pool. The
    changes of one customer chain from its first owner to its current one, so they
    stay with it when it is merged away.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="reassignments", verbose_name=_("customer")
    )
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("from"),
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("to"),
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    kind = models.CharField(
        _("kind"), max_length=20, choices=ReassignmentKind.choices, default=ReassignmentKind.REASSIGN
    )
    grade = models.ForeignKey(
        Grade, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("grade at the time")
    )
    reason = models.TextField(_("reason"), blank=True)
    forced = models.BooleanField(_("forced past a locked grade"), default=False)

    objects = ReassignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("reassignment")
        verbose_name_plural = _("reassignments")
        constraints = [
            models.CheckConstraint(
                condition=~Q(forced=True) | ~Q(reason=""), name="reassignment_forced_has_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "at"], name="reassignment_customer_idx"),
            models.Index(fields=["to_owner", "kind", "at"], name="reassignment_to_idx"),
            models.Index(fields=["from_owner", "kind", "at"], name="reassignment_from_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer}: {self.from_owner or '—'} → {self.to_owner or '—'}"


class HandoverKind(models.TextChoices):
    VISIT = "visit", _("On-site visit")
    PHONE = "phone", _("Phone call")
    EMAIL = "email", _("E-mail")
    PHONE_OR_EMAIL = "phone_or_email", _("Phone call or e-mail")


# Which task kinds an activity channel completes. A visit is at least as good as a call.
CHANNEL_COMPLETES: dict[str, frozenset[str]] = {
    "visit": frozenset({HandoverKind.VISIT, HandoverKind.PHONE, HandoverKind.PHONE_OR_EMAIL}),
    "call": frozenset({HandoverKind.PHONE, HandoverKind.PHONE_OR_EMAIL}),
    "email": frozenset({HandoverKind.EMAIL, HandoverKind.PHONE_OR_EMAIL}),
}


class HandoverStep(models.Model):
    """One step of a grade's handover template: what the new owner does, within how many days."""

    grade = models.ForeignKey(
        Grade, on_delete=models.CASCADE, related_name="handover_steps", verbose_name=_("grade")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=HandoverKind.choices)
    description = models.CharField(_("description (English)"), max_length=300)
    description_zh = models.CharField(_("description (Chinese)"), max_length=300, blank=True)
    due_in_days = models.PositiveSmallIntegerField(_("due in (days)"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["grade__order", "order", "pk"]
        verbose_name = _("handover step")
        verbose_name_plural = _("handover steps")

    def __str__(self) -> str:
        return f"{self.grade.code}: {self.get_kind_display()} ({self.due_in_days})"

    @property
    def display_description(self) -> str:
        language = translation.get_language() or ""
        return self.description_zh if language.startswith("zh") and self.description_zh else self.description


class HandoverStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class HandoverTaskQuerySet(OwnedQuerySet):
    """Visible through the assignee (the new owner), so a manager's handover report keeps
    the tasks of customers that later moved on."""

    owner_field = "owner"

    def open(self) -> "HandoverTaskQuerySet":
        return self.filter(status=HandoverStatus.OPEN)


class HandoverTask(models.Model):
    """A task for a customer's new owner, copied from the grade's handover template when
    the customer is reassigned. Done by logging the matching activity or by ticking it;
    cancelled when the customer moves on, or is archived, before it is done."""

    reassignment = models.ForeignKey(
        Reassignment, on_delete=models.CASCADE, related_name="handover_tasks", verbose_name=_("reassignment")
    )
    step = models.ForeignKey(
        HandoverStep,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("template step"),
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="handover_tasks", verbose_name=_("customer")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="handover_tasks",
        verbose_name=_("new owner"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=HandoverKind.choices)
    description = models.CharField(_("description"), max_length=300)
    due_on = models.DateField(_("due on"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=HandoverStatus.choices, default=HandoverStatus.OPEN
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("done by"),
    )
    done_via = models.CharField(
        _("done via"),
        max_length=20,
        blank=True,
        help_text=_('The activity channel that completed it, or "tick".'),
    )

    objects = HandoverTaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("handover task")
        verbose_name_plural = _("handover tasks")
        constraints = [
            # A reassignment copies each template step once, even if its service is retried.
            models.UniqueConstraint(fields=["reassignment", "step"], name="handovertask_once_per_step"),
            models.CheckConstraint(
                condition=~Q(status=HandoverStatus.DONE) | Q(done_at__isnull=False),
                name="handovertask_done_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status", "due_on"], name="handovertask_owner_idx"),
            models.Index(fields=["customer", "status"], name="handovertask_customer_idx"),
            models.Index(fields=["created_at"], name="handovertask_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer}: {self.get_kind_display()} by {self.due_on}"

    @property
    def is_open(self) -> bool:
        return self.status == HandoverStatus.OPEN

    def is_overdue(self, today) -> bool:
        return self.is_open and self.due_on < today


# --- Public pool (公海) ----------------------------------------------------------------


class PoolReturnWarning(models.Model):
    """The owner was warned that an idle customer goes back to the pool at ``due_at``.

    One per customer, owner and due moment, so the daily sweep warns once; new
    activity moves the due moment and a later idle stretch is warned again.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="pool_warnings", verbose_name=_("customer")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("owner")
    )
    due_at = models.DateTimeField(_("returns to the pool at"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("pool-return warning")
        verbose_name_plural = _("pool-return warnings")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "owner", "due_at"], name="poolwarning_once_per_stretch"
            ),
        ]
        indexes = [
            models.Index(
                fields=["notified_at"],
                name="poolwarning_unnotified_idx",
                condition=Q(notified_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} → pool at {self.due_at}"


# --- Conflicts (撞单) -------------------------------------------------------------------


class ConflictStatus(models.TextChoices):
    OPEN = "open", _("Open")
    KEPT = "kept", _("Kept by the current owner")
    TRANSFERRED = "transferred", _("Transferred to the claimant")
    SHARED = "shared", _("Shared as a note")
    # Settled by events, not by a manager: the customer was archived or went to the public
    # pool, or the claimant left the company.
    CLOSED = "closed", _("Closed without a decision")


class ConflictClaimQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ConflictClaimQuerySet":
        """Both salespeople concerned, the managers over either of them, and admins."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        claimant_scope = owner_scope(user, "claimant")
        if claimant_scope is None:
            return self
        return self.filter(claimant_scope | owner_scope(user, "holder"))

    def open(self) -> "ConflictClaimQuerySet":
        return self.filter(status=ConflictStatus.OPEN)

    def settle_by_event(self, status: str, *, by, at, note: str) -> int:
        """Settle these claims because of what happened to their customer or claimant (a
        move, archiving, a departure), not by a manager's decision; ``by`` did it."""
        return self.update(status=status, settled_by=by, settled_at=at, settlement_note=note)


class ConflictClaim(models.Model):
    """撞单: a salesperson refused a customer because a colleague already has it claims it,
    with their evidence; a manager over both settles it (admins across teams)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="conflict_claims", verbose_name=_("customer")
    )
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("claimant")
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("current owner")
    )
    # What the claimant typed (name, phone or e-mail): shown to them instead of the
    # customer's record, which they may not see.
    claimed_as = models.CharField(_("customer as entered"), max_length=200)
    first_contact_on = models.DateField(_("first contact"))
    evidence = models.TextField(_("evidence"))
    created_at = models.DateTimeField(_("raised at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=12, choices=ConflictStatus.choices, default=ConflictStatus.OPEN
    )
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("settled by"),
    )
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    settlement_note = models.TextField(_("settlement note"), blank=True)

    objects = ConflictClaimQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("conflict claim")
        verbose_name_plural = _("conflict claims")
        constraints = [
            models.CheckConstraint(
                condition=Q(status=ConflictStatus.OPEN) | Q(settled_at__isnull=False),
                name="conflictclaim_settled_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="conflictclaim_status_idx"),
            models.Index(fields=["claimant", "status"], name="conflictclaim_claimant_idx"),
            models.Index(fields=["holder", "status"], name="conflictclaim_holder_idx"),
            models.Index(fields=["customer", "status"], name="conflictclaim_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.claimed_as}: {self.claimant} vs {self.holder}"

    @property
    def is_open(self) -> bool:
        return self.status == ConflictStatus.OPEN

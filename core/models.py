"""What every app uses and no app owns: the funnel's grades (E → A, won, lost), which the
customer carries and the funnel, activities and reports read; the outbox every app's
writes enqueue their tasks through; the worker heartbeat; the security audit log.

Tables keep their names (``funnel_grade``, ``crm_outboxmessage``, ``crm_securityevent``…):
the models moved here in the migration state only (core 0001 and 0002), so that ``crm``
never points up at ``funnel`` and no app below ``crm`` reaches into it.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class GradeKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class ForecastCategory(models.TextChoices):
    """How sure the salesperson is that an open customer signs in its period (预测类别)."""

    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    OMITTED = "omitted", _("Omitted")


class GradeQuerySet(models.QuerySet):
    def open(self) -> "GradeQuerySet":
        return self.filter(kind=GradeKind.OPEN)


class Grade(models.Model):
    """One layer of the funnel, configured by admins. Open grades are ordered from the
    top of the funnel (E, order 1) to the bottom (A); won and lost are terminal."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name (English)"), max_length=100)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100, blank=True)
    order = models.PositiveSmallIntegerField(
        _("order"),
        unique=True,
        help_text=_("Position in the funnel: 1 is the top (prospects)."),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=GradeKind.choices, default=GradeKind.OPEN)
    probability = models.DecimalField(
        _("win probability (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    stagnation_days = models.PositiveSmallIntegerField(
        _("stagnation limit (days)"),
        null=True,
        blank=True,
        help_text=_("A customer longer than this at the grade raises a stagnation alert."),
    )
    locked = models.BooleanField(
        _("locked"),
        default=False,
        help_text=_("No change of owner while a customer is at this grade."),
    )
    pool_return_days = models.PositiveSmallIntegerField(
        _("pool-return days"),
        null=True,
        blank=True,
        help_text=_("Customers with no activity for this many days go back to the public pool."),
    )
    requires_decision_maker = models.BooleanField(
        _("requires a decision maker"),
        default=False,
        help_text=_(
            "Customers at this grade are flagged when no decision maker is identified (C and above)."
        ),
    )
    playbook = models.TextField(
        _("playbook (English)"),
        blank=True,
        help_text=_("What to do at this grade; shown on the customer page."),
    )
    playbook_zh = models.TextField(_("playbook (Chinese)"), blank=True)
    forecast_category = models.CharField(
        _("default forecast category"),
        max_length=10,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
        # In the table too: the tests re-create the default grades through the data
        # migration's historical model, which does not know this column.
        db_default=ForecastCategory.PIPELINE,
        help_text=_("The forecast category of customers at this grade unless their owner sets one."),
    )

    history = HistoricalRecords(table_name="funnel_historicalgrade")
    objects = GradeQuerySet.as_manager()

    class Meta:
        db_table = "funnel_grade"
        ordering = ["order"]
        verbose_name = _("grade")
        verbose_name_plural = _("grades")
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=0, probability__lte=100), name="grade_probability_0_100"
            ),
            models.CheckConstraint(
                condition=~Q(kind=GradeKind.WON) | Q(probability=100), name="grade_won_is_100"
            ),
            models.CheckConstraint(
                condition=~Q(kind=GradeKind.LOST) | Q(probability=0), name="grade_lost_is_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.display_name}"

    @property
    def display_name(self) -> str:
        language = translation.get_language() or ""
        return self.name_zh if language.startswith("zh") and self.name_zh else self.name

    @property
    def label(self) -> str:
        """The short name on badges and in short mentions: the code of an open grade
        (E … A); for won and lost, the kind in the user's language (成交客户 / 流失客户),
        as a code such as WON means nothing in the Chinese interface."""
        return self.code if self.is_open else self.get_kind_display()

    @property
    def display_playbook(self) -> str:
        language = translation.get_language() or ""
        return self.playbook_zh if language.startswith("zh") and self.playbook_zh else self.playbook

    @property
    def is_open(self) -> bool:
        return self.kind == GradeKind.OPEN

    def clean(self):
        """Terminal grades carry fixed probabilities; open grades rise strictly with order."""
        errors = {}
        if self.probability is not None and not Decimal(0) <= self.probability <= Decimal(100):
            errors["probability"] = _("Probability must be between 0 and 100.")
        elif self.kind == GradeKind.WON and self.probability != 100:
            errors["probability"] = _("The won grade has a probability of 100 %.")
        elif self.kind == GradeKind.LOST and self.probability != 0:
            errors["probability"] = _("The lost grade has a probability of 0 %.")
        elif self.kind == GradeKind.OPEN and self.probability is not None and self.order is not None:
            others = Grade.objects.open().exclude(pk=self.pk)
            below = others.filter(order__lt=self.order, probability__gte=self.probability).first()
            above = others.filter(order__gt=self.order, probability__lte=self.probability).first()
            if below or above:
                errors["probability"] = _(
                    "Probabilities must rise strictly down the funnel: %(grade)s has %(probability)s %%."
                ) % {"grade": (below or above).code, "probability": (below or above).probability}
        if errors:
            raise ValidationError(errors)


# --- The outbox and the worker heartbeat ---------------------------------------------


class OutboxMessage(models.Model):
    """A task to publish to the broker, written in the same transaction as the change.

    Requests never talk to the broker directly: if Redis is down the row stays
    pending and ``core.tasks.drain_outbox`` publishes it when the broker is back.
    Tasks published from here must be idempotent (a row may be sent twice).
    """

    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        db_table = "crm_outboxmessage"
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outbox_pending_idx",
                condition=Q(published_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk}"


class WorkerHeartbeat(models.Model):
    """The last time a Celery worker ran a task; ``/healthz`` reports its age."""

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()

    class Meta:
        db_table = "crm_workerheartbeat"

    def __str__(self) -> str:
        return self.name


# --- Security audit log ---------------------------------------------------------------


class SecurityAction(models.TextChoices):
    LOGIN = "login", _("Log-in")
    LOGIN_FAILED = "login_failed", _("Failed log-in")
    LOCKOUT = "lockout", _("Lockout")
    LOGOUT = "logout", _("Log-out")
    MFA_ENROLLED = "mfa_enrolled", _("Two-factor authentication turned on")
    MFA_DISABLED = "mfa_disabled", _("Two-factor authentication turned off")
    MFA_VERIFIED = "mfa_verified", _("Second factor verified")
    MFA_FAILED = "mfa_failed", _("Wrong second factor")
    RECOVERY_CODES = "recovery_codes", _("Recovery codes renewed")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    TOKEN_ISSUED = "token_issued", _("API token issued")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")
    LOGIN_THROTTLED = "login_throttled", _("Log-ins throttled")
    LOGIN_UNLOCKED = "login_unlocked", _("Log-in unlocked")
    OWNER_REVEALED = "owner_revealed", _("Duplicate check named another team's owner")
    ACCESS_DENIED = "access_denied", _("Access denied")
    EXPORT = "export", _("Export")
    IMPORT = "import", _("Import")
    REASSIGN = "reassign", _("Reassignment")
    ARCHIVE = "archive", _("Archive")
    RESTORE = "restore", _("Restore")
    MERGE = "merge", _("Merge")
    PURGE = "purge", _("Purge")
    USER_CHANGED = "user_changed", _("User changed")
    TEAM_CHANGED = "team_changed", _("Team changed")
    GRADE_CONFIG = "grade_config", _("Grade configuration changed")
    SETTINGS_CHANGED = "settings_changed", _("Settings changed")
    APPROVAL = "approval", _("Approval")


class SecurityOutcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    FAILURE = "failure", _("Failure")
    DENIED = "denied", _("Denied")


class SecurityEventQuerySet(models.QuerySet):
    """Append-only: bulk updates and deletes are refused like single ones."""

    def update(self, **kwargs):
        raise PermissionError("The security audit log is append-only.")

    def delete(self):
        raise PermissionError("The security audit log is append-only.")


class SecurityEvent(models.Model):
    """One security-relevant event: who (and from where) did what to which object, and
    how it ended. Written only by ``core.audit.audit``; never changed or deleted."""

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The name used, kept as typed: failed log-ins may name no user at all.
    username = models.CharField(_("username"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=30, choices=SecurityAction.choices)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=SecurityOutcome.choices, default=SecurityOutcome.SUCCESS
    )
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    # The hash chain (``core.audit_chain``): the SHA-256 of this row's content and of the
    # previous row's hash, so ``manage.py verify_audit`` finds a row edited, inserted or
    # removed after the fact.
    prev_hash = models.CharField(_("previous event's hash"), max_length=64, blank=True, editable=False)
    row_hash = models.CharField(_("hash"), max_length=64, blank=True, editable=False)

    objects = SecurityEventQuerySet.as_manager()

    class Meta:
        db_table = "crm_securityevent"
        ordering = ["-created_at", "-pk"]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        indexes = [
            models.Index(fields=["action", "created_at"], name="securityevent_action_idx"),
            models.Index(fields=["actor", "created_at"], name="securityevent_actor_idx"),
            models.Index(fields=["object_type", "object_id"], name="securityevent_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.outcome}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The security audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The security audit log is append-only.")


class AuditChainHead(models.Model):
    """The end of the security audit log's hash chain: one row holding the last event's
    id and hash. Every writer locks it (``core.audit.audit``), so writers append one after
    the other and the chain never forks; ``verify_audit`` compares the log's last event
    with it, so removing the newest events shows too."""

    last_event_id = models.BigIntegerField(null=True)
    last_hash = models.CharField(max_length=64)

    class Meta:
        db_table = "crm_auditchainhead"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="auditchainhead_one_row")]

    def __str__(self) -> str:
        return f"{self.last_event_id}: {self.last_hash}"

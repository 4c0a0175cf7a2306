"""Activities and the daily routine: calls and visits, the objection catalog, contact
cadence, daily plans and reports, escalations (market situation / complaint), visit
check-ins with photos, and the private calendar feed."""

import uuid
from datetime import time
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from crm.models import Contact, Customer, OwnedQuerySet, Tier, owner_scope


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    EMAIL = "email", _("E-mail")
    MESSAGE = "message", _("SMS / WeChat")
    FAX = "fax", _("Fax")
    MEETING = "meeting", _("Meeting")


class Purpose(models.TextChoices):
    NEW_DEVELOPMENT = "new_development", _("New development")
    MARKET_RESEARCH = "market_research", _("Market research")
    COLLECTION = "collection", _("Collection")
    SERVICE = "service", _("Service")
    COMPLAINT = "complaint", _("Complaint")
    ORDER = "order", _("Order")
    OTHER = "other", _("Other")


class CallStage(models.IntegerChoices):
    """How far a call got down the call funnel. Ordered, so "connected or further" is
    ``call_stage >= CONNECTED`` and the activity funnel is a few indexed counts."""

    DIALLED = 1, _("Dialled (no answer)")
    CONNECTED = 2, _("Connected")
    APPOINTMENT = 3, _("Appointment set")
    PRESENTATION = 4, _("Presentation given")


class ObjectionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class Objection(models.Model):
    """A classic objection (拒绝理由) and the answer the method suggests (admin-edited)."""

    name = models.CharField(_("objection (English)"), max_length=200)
    name_zh = models.CharField(_("objection (Chinese)"), max_length=200, blank=True)
    answer = models.TextField(_("suggested answer (English)"))
    answer_zh = models.TextField(_("suggested answer (Chinese)"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Inactive objections are no longer offered; logged ones keep them."),
    )

    objects = ObjectionQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("objection")
        verbose_name_plural = _("objection catalog")

    def __str__(self) -> str:
        return self.display_name

    @staticmethod
    def _in_chinese() -> bool:
        return (translation.get_language() or "").startswith("zh")

    @property
    def display_name(self) -> str:
        return self.name_zh if self._in_chinese() and self.name_zh else self.name

    @property
    def display_answer(self) -> str:
        return self.answer_zh if self._in_chinese() and self.answer_zh else self.answer


class CadenceRule(models.Model):
    """How often a customer of a tier must be called and visited (admin-edited).
    Empty means "no rule" for that channel."""

    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, unique=True)
    call_every_days = models.PositiveSmallIntegerField(
        _("call every (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
    )
    visit_every_days = models.PositiveSmallIntegerField(
        _("visit every (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
    )

    class Meta:
        ordering = ["tier"]
        verbose_name = _("contact cadence rule")
        verbose_name_plural = _("contact cadence")
        constraints = [
            models.CheckConstraint(
                condition=Q(call_every_days__isnull=True) | Q(call_every_days__gte=1),
                name="cadence_call_days_gte_1",
            ),
            models.CheckConstraint(
                condition=Q(visit_every_days__isnull=True) | Q(visit_every_days__gte=1),
                name="cadence_visit_days_gte_1",
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_tier_display())


class ActivitySettings(models.Model):
    """Company-wide settings of the daily routine (one row, edited by admins)."""

    report_cutoff = models.TimeField(
        _("daily report cut-off"),
        default=time(21, 0),
        help_text=_("A daily report first submitted after this time (company time zone) of its day is late."),
    )
    check_in_flag_distance_m = models.PositiveIntegerField(
        _("check-in distance flag (metres)"),
        default=500,
        help_text=_("A visit check-in farther than this from the customer's known location is flagged."),
    )

    class Meta:
        verbose_name = _("daily routine settings")
        verbose_name_plural = _("daily routine settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def load(cls) -> "ActivitySettings":
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row


class ActivityQuerySet(OwnedQuerySet):
    """An activity is visible when its customer is."""

    owner_field = "customer__owner"


class Activity(models.Model):
    """A call, visit, e-mail, message or meeting with a customer. Logged through
    ``activities.services.log_activity``, which keeps the customer's contact dates."""

    # The foreign keys have no index of their own: owner and customer lead the composite
    # indexes below, and the rarely set ones get partial indexes. A million rows carry
    # six indexes instead of nine, which halves the cost of bulk inserts (imports).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("salesperson"),
        on_delete=models.PROTECT,
        db_index=False,
        related_name="activities",
        help_text=_("Who did it; credited in rollups."),
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        db_index=False,
        related_name="activities",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    kind = models.CharField(_("channel"), max_length=10, choices=ActivityKind.choices)
    started_at = models.DateTimeField(_("when"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"),
        default=0,
        validators=[MaxValueValidator(24 * 60)],
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    call_stage = models.PositiveSmallIntegerField(
        _("call stage"),
        choices=CallStage.choices,
        null=True,
        blank=True,
        help_text=_("How far the call got: dialled, connected, appointment set, presentation given."),
    )
    outcome = models.TextField(_("outcome"), blank=True)
    effective = models.BooleanField(
        _("effective"),
        default=False,
        help_text=_("Reached a key person with a clear purpose."),
    )
    objection = models.ForeignKey(
        Objection,
        verbose_name=_("objection"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    next_follow_up_on = models.DateField(_("next follow-up"), null=True, blank=True)
    # The method: a fax or a proposal sent by e-mail is confirmed by phone (传真发过去一定要电话确认).
    proposal_sent = models.BooleanField(
        _("proposal sent"),
        default=False,
        help_text=_(
            "A quotation or proposal went with it: a confirming call is suggested for the next working day."
        ),
    )
    competitor_news = models.TextField(_("competitor news"), blank=True)
    expense = models.DecimalField(
        _("expense (CNY)"),
        max_digits=10,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )
    created_at = models.DateTimeField(_("logged at"), default=timezone.now, editable=False)
    # The spreadsheet import that created this activity (issue 7); none when logged here.
    import_batch = models.ForeignKey(
        "crm.ImportBatch",
        verbose_name=_("import"),
        null=True,
        blank=True,
        editable=False,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    # Made on the device (offline logging): a resend with the same key finds this row
    # instead of creating a second one.
    client_key = models.UUIDField(_("idempotency key"), null=True, blank=True, editable=False)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints = [
            models.CheckConstraint(condition=Q(expense__gte=0), name="activity_expense_gte_0"),
            models.CheckConstraint(
                condition=Q(duration_minutes__lte=24 * 60), name="activity_duration_lte_1_day"
            ),
            models.UniqueConstraint(
                fields=["owner", "client_key"],
                condition=Q(client_key__isnull=False),
                name="activity_one_per_client_key",
            ),
            # Only calls have a call stage, and every call has one.
            models.CheckConstraint(
                condition=(Q(kind=ActivityKind.CALL) & Q(call_stage__isnull=False))
                | (~Q(kind=ActivityKind.CALL) & Q(call_stage__isnull=True)),
                name="activity_call_stage_only_for_calls",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "started_at"], name="activity_customer_started_idx"),
            models.Index(fields=["owner", "started_at"], name="activity_owner_started_idx"),
            models.Index(fields=["owner", "kind", "started_at"], name="activity_owner_kind_idx"),
            models.Index(fields=["contact"], condition=Q(contact__isnull=False), name="activity_contact_idx"),
            models.Index(
                fields=["objection"], condition=Q(objection__isnull=False), name="activity_objection_idx"
            ),
            models.Index(
                fields=["import_batch"],
                condition=Q(import_batch__isnull=False),
                name="activity_import_batch_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.customer} · {self.started_at:%Y-%m-%d}"

    @staticmethod
    def confirms_by_phone(kind: str, proposal_sent: bool) -> bool:
        """A fax, or an e-mail carrying a proposal, is followed by a confirming call."""
        return kind == ActivityKind.FAX or (kind == ActivityKind.EMAIL and proposal_sent)

    @property
    def needs_confirming_call(self) -> bool:
        return self.confirms_by_phone(self.kind, self.proposal_sent)


# --- Daily plan and daily report -----------------------------------------------------


class PlanState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned")


class ReportState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    SIGNED_OFF = "signed_off", _("Signed off")
    RETURNED = "returned", _("Returned")


class RoutineQuerySet(OwnedQuerySet):
    """Plans and reports: visible to their owner, the owner's managers (team tree), admins."""

    owner_field = "owner"


class ReviewedDay(models.Model):
    """What a daily plan and a daily report share: one salesperson's day, submitted and
    then reviewed by their manager (who, when, with what comment)."""

    date = models.DateField(_("date"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    review_comment = models.TextField(_("manager's comment"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = RoutineQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-date", "owner_id"]

    def __str__(self) -> str:
        return f"{self.owner} · {self.date}"

    @property
    def is_editable(self) -> bool:
        return self.state in self.EDITABLE_STATES


class DailyPlan(ReviewedDay):
    """每日拜访计划表: the customers and areas a salesperson will visit or call on a day."""

    EDITABLE_STATES = (PlanState.DRAFT, PlanState.RETURNED)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("salesperson"),
        on_delete=models.PROTECT,
        related_name="daily_plans",
    )
    state = models.CharField(_("state"), max_length=10, choices=PlanState.choices, default=PlanState.DRAFT)

    class Meta(ReviewedDay.Meta):
        verbose_name = _("daily plan")
        verbose_name_plural = _("daily plans")
        constraints = [
            models.UniqueConstraint(fields=["owner", "date"], name="dailyplan_one_per_owner_and_day"),
        ]
        indexes = [models.Index(fields=["date", "state"], name="dailyplan_date_state_idx")]


class PlanItemKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    CALL = "call", _("Call")


class PlanItem(models.Model):
    """One customer on a day's plan. ``done`` turns on when an activity with that
    customer is logged by the plan's owner on that day (or is ticked by hand)."""

    plan = models.ForeignKey(
        DailyPlan, on_delete=models.CASCADE, related_name="items", verbose_name=_("plan")
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="plan_items"
    )
    kind = models.CharField(
        _("visit or call"), max_length=10, choices=PlanItemKind.choices, default=PlanItemKind.VISIT
    )
    area = models.CharField(_("area"), max_length=100, blank=True)
    starts_at = models.TimeField(_("from"), null=True, blank=True)
    ends_at = models.TimeField(_("to"), null=True, blank=True)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    done = models.BooleanField(_("done"), default=False)
    activity = models.ForeignKey(
        Activity,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("logged activity"),
    )

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("plan item")
        verbose_name_plural = _("plan items")
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="planitem_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["customer", "done"], name="planitem_customer_done_idx")]

    def __str__(self) -> str:
        return f"{self.customer} · {self.get_kind_display()}"


class Attendance(models.TextChoices):
    PRESENT = "present", _("Present")
    FIELD = "field", _("Field work / business trip")
    HALF_DAY = "half_day", _("Half day")
    LEAVE = "leave", _("Leave")
    SICK = "sick", _("Sick leave")


class DailyReport(ReviewedDay):
    """每日工作报告表: the day's figures (filled in from its activities, plan and orders,
    kept fresh until submitted) and what only the salesperson can tell."""

    EDITABLE_STATES = (ReportState.DRAFT, ReportState.RETURNED)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("salesperson"),
        on_delete=models.PROTECT,
        related_name="daily_reports",
    )
    state = models.CharField(
        _("state"), max_length=10, choices=ReportState.choices, default=ReportState.DRAFT
    )
    # Filled in from the day's records (refreshed on every save until submitted).
    calls = models.PositiveIntegerField(_("calls"), default=0)
    connected_calls = models.PositiveIntegerField(_("connected calls"), default=0)
    visits = models.PositiveIntegerField(_("visits"), default=0)
    other_activities = models.PositiveIntegerField(_("other activities"), default=0)
    effective_activities = models.PositiveIntegerField(_("effective activities"), default=0)
    expenses = models.DecimalField(_("expenses (CNY)"), max_digits=12, decimal_places=2, default=Decimal(0))
    plan_items_planned = models.PositiveIntegerField(_("plan items"), default=0)
    plan_items_done = models.PositiveIntegerField(_("plan items done"), default=0)
    planned_visits = models.PositiveIntegerField(_("planned visits"), default=0)
    planned_visits_checked_in = models.PositiveIntegerField(_("planned visits checked in"), default=0)
    check_ins = models.PositiveIntegerField(_("visit check-ins"), default=0)
    orders_count = models.PositiveIntegerField(_("orders"), default=0)
    orders_amount = models.DecimalField(
        _("order amount (CNY)"), max_digits=14, decimal_places=2, default=Decimal(0)
    )
    # What the salesperson adds.
    attendance = models.CharField(
        _("attendance"), max_length=10, choices=Attendance.choices, default=Attendance.PRESENT
    )
    complaints_handled = models.PositiveIntegerField(_("complaints handled"), default=0)
    money_collected = models.DecimalField(
        _("money collected (CNY)"),
        max_digits=14,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )
    order_target = models.DecimalField(
        _("order target for the day (CNY)"),
        max_digits=14,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )
    competitor_info = models.TextField(_("competitor information"), blank=True)
    customer_feedback = models.TextField(_("customer feedback"), blank=True)
    lessons = models.TextField(_("lessons of the day"), blank=True)
    # The review.
    first_submitted_at = models.DateTimeField(_("first submitted at"), null=True, blank=True)
    is_late = models.BooleanField(_("late"), default=False)

    class Meta(ReviewedDay.Meta):
        verbose_name = _("daily report")
        verbose_name_plural = _("daily reports")
        constraints = [
            models.UniqueConstraint(fields=["owner", "date"], name="dailyreport_one_per_owner_and_day"),
            models.CheckConstraint(condition=Q(money_collected__gte=0), name="dailyreport_collected_gte_0"),
            models.CheckConstraint(condition=Q(order_target__gte=0), name="dailyreport_target_gte_0"),
        ]
        indexes = [models.Index(fields=["date", "state"], name="dailyreport_date_state_idx")]

    @property
    def plan_items_not_done(self) -> int:
        return self.plan_items_planned - self.plan_items_done


STATE_LABELS = {**dict(PlanState.choices), **dict(ReportState.choices)}


class ReviewEvent(models.Model):
    """Append-only history of a plan's or a report's states: who moved it, when, why."""

    plan = models.ForeignKey(
        DailyPlan, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    report = models.ForeignKey(
        DailyReport, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    from_state = models.CharField(_("from"), max_length=10)
    to_state = models.CharField(_("to"), max_length=10)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("review event")
        verbose_name_plural = _("review events")
        constraints = [
            models.CheckConstraint(
                condition=(Q(plan__isnull=False) & Q(report__isnull=True))
                | (Q(plan__isnull=True) & Q(report__isnull=False)),
                name="reviewevent_plan_xor_report",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"

    @property
    def from_label(self) -> str:
        return str(STATE_LABELS.get(self.from_state, self.from_state))

    @property
    def to_label(self) -> str:
        return str(STATE_LABELS.get(self.to_state, self.to_state))


# --- Escalations ---------------------------------------------------------------------


class MarketReportKind(models.TextChoices):
    MARKET_SITUATION = "market", _("Market situation report")
    COMPLAINT = "complaint", _("Complaint")


class MarketReport(models.Model):
    """市场状况反映表 / 客诉: reaches the author's manager at once (in-app and e-mail)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        on_delete=models.PROTECT,
        related_name="market_reports",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=MarketReportKind.choices)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="market_reports",
    )
    title = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("what happened"))
    created_at = models.DateTimeField(_("reported at"), default=timezone.now)

    objects = RoutineQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("market report / complaint")
        verbose_name_plural = _("market reports and complaints")
        indexes = [models.Index(fields=["owner", "created_at"], name="marketreport_owner_idx")]

    def __str__(self) -> str:
        return self.title


# --- Field visits: check-in / check-out (外勤签到) ---------------------------------------


class LocationStatus(models.TextChoices):
    """What the browser gave for a check-in or check-out. Anything but a fix is saved
    as "no location": a visit is never blocked by a missing location."""

    FIXED = "fixed", _("located")
    DENIED = "denied", _("no location: permission denied")
    TIMEOUT = "timeout", _("no location: no fix in time")
    UNAVAILABLE = "unavailable", _("no location: unavailable")


class LocationSource(models.TextChoices):
    CHECK_IN = "check_in", _("first confirmed check-in")
    MANUAL = "manual", _("set by hand")


class CustomerLocation(models.Model):
    """Where a customer is, for field visits: set by the first confirmed check-in, or
    corrected by the owner or a manager. Check-ins are measured against it."""

    customer = models.OneToOneField(
        Customer,
        verbose_name=_("customer"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="field_location",
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    source = models.CharField(_("source"), max_length=10, choices=LocationSource.choices)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    set_at = models.DateTimeField(_("set at"), default=timezone.now)

    class Meta:
        verbose_name = _("customer location")
        verbose_name_plural = _("customer locations")
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90) & Q(latitude__lte=90), name="customerlocation_latitude_range"
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180) & Q(longitude__lte=180),
                name="customerlocation_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.latitude}, {self.longitude}"


class CompanionVisibleQuerySet(OwnedQuerySet):
    """Rows of a visit, visible when the visit's customer is and to the visit's
    companions (陪同拜访): a mentor from the team sees the visit they joined, never the
    customer's other work. ``visit_field`` leads from the row to its visit."""

    visit_field = "pk"

    def visible_to(self, user) -> models.QuerySet:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        scope = owner_scope(user, self.owner_field)
        if scope is None:
            return self
        joined = VisitCompanion.objects.filter(visit=OuterRef(self.visit_field), user=user)
        return self.filter(scope | Q(Exists(joined)))


class VisitQuerySet(CompanionVisibleQuerySet):
    owner_field = "customer__owner"


class Visit(models.Model):
    """One visit on site: checked in on arrival, checked out on leaving, with the server's
    time and the browser's location at both ends. Checking in logs the visit activity
    (``activity``) and ticks the plan item it fulfils; checking out stores the duration."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("salesperson"),
        on_delete=models.PROTECT,
        db_index=False,
        related_name="visits",
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, db_index=False, related_name="visits"
    )
    activity = models.OneToOneField(
        Activity,
        verbose_name=_("activity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visit",
    )
    plan_item = models.ForeignKey(
        "PlanItem",
        verbose_name=_("plan item"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )
    client_key = models.UUIDField(_("idempotency key"), null=True, blank=True, editable=False)

    checked_in_at = models.DateTimeField(_("checked in at"))
    # Set when the check-in was made offline and reached the server later: then
    # ``checked_in_at`` is the phone's time of the check-in and this the server's.
    synced_at = models.DateTimeField(_("sent from the phone at"), null=True, blank=True)
    check_in_status = models.CharField(_("check-in location"), max_length=12, choices=LocationStatus.choices)
    check_in_latitude = models.DecimalField(
        _("check-in latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    check_in_longitude = models.DecimalField(
        _("check-in longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    check_in_accuracy_m = models.PositiveIntegerField(_("check-in accuracy (m)"), null=True, blank=True)
    # Metres from the customer's known location at check-in; none when either is unknown.
    distance_m = models.PositiveIntegerField(_("distance from the customer (m)"), null=True, blank=True)
    far_from_customer = models.BooleanField(_("far from the customer"), default=False)
    set_customer_location = models.BooleanField(_("set the customer's location"), default=False)

    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    check_out_status = models.CharField(
        _("check-out location"), max_length=12, choices=LocationStatus.choices, blank=True
    )
    check_out_latitude = models.DecimalField(
        _("check-out latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    check_out_longitude = models.DecimalField(
        _("check-out longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    check_out_accuracy_m = models.PositiveIntegerField(_("check-out accuracy (m)"), null=True, blank=True)
    check_out_distance_m = models.PositiveIntegerField(
        _("check-out distance from the customer (m)"), null=True, blank=True
    )
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        ordering = ["-checked_in_at", "-pk"]
        verbose_name = _("visit check-in")
        verbose_name_plural = _("visit check-ins")
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "client_key"],
                condition=Q(client_key__isnull=False),
                name="visit_one_per_client_key",
            ),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True) | Q(checked_out_at__gte=F("checked_in_at")),
                name="visit_check_out_after_check_in",
            ),
            # A location is stored exactly when the browser gave a fix.
            models.CheckConstraint(
                condition=(
                    Q(check_in_status="fixed")
                    & Q(check_in_latitude__isnull=False)
                    & Q(check_in_longitude__isnull=False)
                )
                | (
                    ~Q(check_in_status="fixed")
                    & Q(check_in_latitude__isnull=True)
                    & Q(check_in_longitude__isnull=True)
                ),
                name="visit_check_in_location_iff_fixed",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "checked_in_at"], name="visit_owner_checked_in_idx"),
            models.Index(fields=["customer", "checked_in_at"], name="visit_customer_checked_in_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.checked_in_at:%Y-%m-%d %H:%M}"

    @property
    def is_checked_out(self) -> bool:
        return self.checked_out_at is not None


class VisitCompanion(models.Model):
    """Someone who went along on a visit (陪同拜访): the salesperson's manager, or a
    teammate as mentor (老带新). The companion alone writes the coaching note; the
    salesperson and their managers read it. Added through
    ``activities.visits.add_companion``, which checks who may go along."""

    # Indexed by the unique (visit, user) constraint and the (user, visit) index.
    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.CASCADE, db_index=False, related_name="companions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("companion"),
        on_delete=models.PROTECT,
        db_index=False,
        related_name="visits_joined",
    )
    coaching_note = models.TextField(_("coaching note"), blank=True)
    noted_at = models.DateTimeField(_("noted at"), null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        ordering = ["added_at", "pk"]
        verbose_name = _("visit companion")
        verbose_name_plural = _("visit companions")
        constraints = [
            models.UniqueConstraint(fields=["visit", "user"], name="visitcompanion_one_per_visit_and_user"),
        ]
        # "Visits you join today" and the weekly count per companion start from the person.
        indexes = [models.Index(fields=["user", "visit"], name="visitcompanion_user_visit_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.visit}"


class VisitPhotoQuerySet(CompanionVisibleQuerySet):
    """A photo is visible with its visit."""

    owner_field = "visit__customer__owner"
    visit_field = "visit"


def visit_photo_path(photo: "VisitPhoto", filename: str) -> str:
    """Random names: a photo's URL is never guessable, and never the phone's file name."""
    return f"visits/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.jpg"


class VisitPhoto(models.Model):
    """A photo taken on a visit (storefront, shelf, signed paper): validated as an image,
    resized and re-encoded as JPEG before it is stored; served only to people who can
    see the customer."""

    visit = models.ForeignKey(Visit, verbose_name=_("visit"), on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(
        _("photo"), upload_to=visit_photo_path, width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    size_bytes = models.PositiveIntegerField(_("size (bytes)"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    objects = VisitPhotoQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")

    def __str__(self) -> str:
        return f"{self.visit} · {self.pk}"


# --- Private calendar feed ----------------------------------------------------------


class CalendarFeed(models.Model):
    """A user's private iCalendar feed (plan items and follow-ups). The URL carries an
    HMAC of the user and ``nonce``: it can be shown again at any time, a database dump
    alone does not reveal it, and a new nonce kills every old URL."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="calendar_feed",
    )
    nonce = models.CharField(max_length=64)
    include_team = models.BooleanField(
        _("include my team's items"),
        default=False,
        help_text=_("Managers: also show the plan items and follow-ups of the people you manage."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.owner} · {self.created_at:%Y-%m-%d}"

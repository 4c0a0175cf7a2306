"""Targets (业绩目标), activity targets, the weekly rollup and the weekly manager report."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import ForecastCategory, Grade
from crm.models import Customer, Team

from .periods import PeriodKind, period_for

MONEY = {
    "max_digits": 16,
    "decimal_places": 2,
    "default": Decimal(0),
    "validators": [MinValueValidator(Decimal(0))],
}


class Target(models.Model):
    """A salesperson's or a team's target for a month, quarter or year.

    Exactly one of ``owner`` / ``team`` is set. A member's target created by splitting
    a team target points at it through ``split_from``.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("salesperson"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="targets",
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE, related_name="targets"
    )
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(
        _("period start"), help_text=_("First day of the month, quarter or year.")
    )
    sales_amount = models.DecimalField(_("sales amount"), **MONEY)
    gross_profit = models.DecimalField(_("gross profit"), **MONEY)
    new_customers = models.PositiveIntegerField(_("new customers"), default=0)
    collections = models.DecimalField(_("collections"), **MONEY)
    split_from = models.ForeignKey(
        "self",
        verbose_name=_("split from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="splits",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_start", "period_kind", "pk"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.CheckConstraint(
                condition=Q(owner__isnull=False, team__isnull=True)
                | Q(owner__isnull=True, team__isnull=False),
                name="target_owner_xor_team",
            ),
            models.UniqueConstraint(
                fields=["owner", "period_kind", "period_start"],
                condition=Q(owner__isnull=False),
                name="target_owner_period_unique",
            ),
            models.UniqueConstraint(
                fields=["team", "period_kind", "period_start"],
                condition=Q(team__isnull=False),
                name="target_team_period_unique",
            ),
        ]
        indexes = [models.Index(fields=["period_kind", "period_start"], name="target_period_idx")]

    def __str__(self) -> str:
        return f"{self.owner or self.team} · {self.period.label}"

    @property
    def period(self):
        return period_for(self.period_kind, self.period_start)


class ActivityCadence(models.TextChoices):
    DAY = "day", _("Per day")
    WEEK = "week", _("Per week")


class ActivityTarget(models.Model):
    """The method's volume discipline: calls, visits and new customers per day or week."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("salesperson"),
        on_delete=models.CASCADE,
        related_name="activity_targets",
    )
    cadence = models.CharField(
        _("per"), max_length=10, choices=ActivityCadence.choices, default=ActivityCadence.DAY
    )
    calls = models.PositiveIntegerField(_("calls"), default=0)
    visits = models.PositiveIntegerField(_("visits"), default=0)
    new_customers = models.PositiveIntegerField(_("new customers"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["owner", "cadence"]
        verbose_name = _("activity target")
        verbose_name_plural = _("activity targets")
        constraints = [
            models.UniqueConstraint(fields=["owner", "cadence"], name="activity_target_owner_cadence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.owner} · {self.get_cadence_display()}"


class WeeklyRollup(models.Model):
    """One salesperson's numbers for one ISO week (Monday ``week_start``, company time zone).

    Written only by ``reports.services.compute_weekly_rollups`` as an upsert on
    (salesperson, week_start), so re-running a week leaves identical rows.
    """

    salesperson = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("salesperson"),
        on_delete=models.CASCADE,
        related_name="weekly_rollups",
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    week_start = models.DateField(_("week (Monday)"))
    new_customers = models.PositiveIntegerField(_("new customers"), default=0)
    upgrades = models.PositiveIntegerField(_("grade upgrades"), default=0)
    downgrades = models.PositiveIntegerField(_("grade downgrades"), default=0)
    won_customers = models.PositiveIntegerField(_("customers won"), default=0)
    lost_customers = models.PositiveIntegerField(_("customers lost"), default=0)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    order_amount = models.DecimalField(_("order amount"), **MONEY)
    gross_profit = models.DecimalField(_("gross profit"), max_digits=16, decimal_places=2, default=Decimal(0))
    collections = models.DecimalField(_("collections"), **MONEY)
    calls = models.PositiveIntegerField(_("calls"), default=0)
    connected_calls = models.PositiveIntegerField(_("connected calls"), default=0)
    # Only connected calls count: a call that was only dialled is never effective.
    effective_calls = models.PositiveIntegerField(_("effective calls"), default=0)
    visits = models.PositiveIntegerField(_("visits"), default=0)
    effective_visits = models.PositiveIntegerField(_("effective visits"), default=0)
    activity_minutes = models.PositiveIntegerField(_("activity minutes"), default=0)
    expense = models.DecimalField(_("expense"), **MONEY)
    effective_visit_rate = models.DecimalField(
        _("effective-visit rate (%)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    transaction_rate = models.DecimalField(
        _("transaction rate (%)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("Orders ÷ visits of the week."),
    )
    quota = models.DecimalField(
        _("quota at week end"),
        **MONEY,
        help_text=_("Weighted value of the open customers at the end of the week."),
    )
    open_customers = models.PositiveIntegerField(_("open customers at week end"), default=0)
    grade_counts = models.JSONField(_("customers per grade at week end"), default=dict, blank=True)
    plans_submitted = models.PositiveIntegerField(_("plans submitted"), default=0)
    reports_submitted = models.PositiveIntegerField(_("reports submitted"), default=0)
    reports_late = models.PositiveIntegerField(_("reports late"), default=0)

    class Meta:
        ordering = ["-week_start", "salesperson"]
        verbose_name = _("weekly rollup")
        verbose_name_plural = _("weekly rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["salesperson", "week_start"], name="weeklyrollup_salesperson_week_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["week_start", "team"], name="weeklyrollup_week_team_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.salesperson} · {self.week_start}"


class GradeFlowRollup(models.Model):
    """How many customers of one owner moved from one grade to another in one ISO week.

    ``from_grade`` empty: customers created that week at ``to_grade`` (their initial
    grade), credited to their owner when the week was rolled up. Conversion rates and
    the backward plan's weekly additions sum these rows instead of grouping the whole
    grade history on every request. Written only by
    ``reports.services.compute_weekly_rollups`` for weeks that have ended: the week's
    rows are replaced in one transaction, so a re-run leaves identical rows, and a
    week with rows is complete (the grade history is append-only and stamped "now").
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    week_start = models.DateField(_("week (Monday)"))
    from_grade = models.ForeignKey(
        Grade, verbose_name=_("from"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    to_grade = models.ForeignKey(Grade, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+")
    customers = models.IntegerField(_("customers"))

    class Meta:
        ordering = ["-week_start", "owner", "from_grade", "to_grade"]
        verbose_name = _("grade flow rollup")
        verbose_name_plural = _("grade flow rollups")
        indexes = [
            models.Index(fields=["week_start", "owner"], name="gradeflow_week_owner_idx"),
            models.Index(fields=["owner", "week_start"], name="gradeflow_owner_week_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.owner} · {self.week_start}: {self.from_grade} → {self.to_grade}"


class WeeklyManagerReport(models.Model):
    """What the manager writes into the weekly sales management report (周销售管理报告)."""

    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="weekly_reports"
    )
    week_start = models.DateField(_("week (Monday)"))
    next_week_plan = models.TextField(_("next week's plan"), blank=True)
    competitor_news = models.TextField(_("competitor news (manager's notes)"), blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-week_start", "team"]
        verbose_name = _("weekly manager report")
        verbose_name_plural = _("weekly manager reports")
        constraints = [
            models.UniqueConstraint(fields=["team", "week_start"], name="weeklyreport_team_week_unique")
        ]

    def __str__(self) -> str:
        return f"{self.team} · {self.week_start}"


# --- The forecast (预测) ------------------------------------------------------------------------------


class ForecastAdjustment(models.Model):
    """A manager's own figure for a salesperson's or a team's commit in a month or quarter,
    with why. Append-only: the latest row of a (subject, period) is the adjustment shown,
    always beside the commit the customers add up to, never instead of it.
    Exactly one of ``owner`` / ``team`` is set. Written by ``reports.services.adjust_forecast``."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("salesperson"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="forecast_adjustments",
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    amount = models.DecimalField(_("adjusted commit"), **MONEY)
    note = models.CharField(_("note"), max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["period_start", "created_at", "pk"]
        verbose_name = _("forecast adjustment")
        verbose_name_plural = _("forecast adjustments")
        constraints = [
            models.CheckConstraint(
                condition=Q(owner__isnull=False, team__isnull=True)
                | Q(owner__isnull=True, team__isnull=False),
                name="forecastadjustment_owner_xor_team",
            ),
        ]
        indexes = [
            models.Index(fields=["period_kind", "period_start"], name="forecastadj_period_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.owner or self.team} · {self.period.label}: {self.amount}"

    @property
    def period(self):
        return period_for(self.period_kind, self.period_start)


class ForecastSnapshot(models.Model):
    """One open customer in its owner's forecast as it stood at a Monday 00:00 (company
    time zone): its category, signing date, value and weighted value then. A person's or
    team's forecast of a week is the sum of its rows; comparing weeks shows what moved,
    slipped out or was pulled in. Only customers signing from the week's quarter to the
    end of the next one are kept (what the forecast page shows).

    Written only by ``reports.services.snapshot_forecast``, from the customers' history
    as of that moment, so the weekly run and a backfill give the same rows; the week's
    rows are replaced in one transaction (re-running a week changes nothing)."""

    week_start = models.DateField(_("week (Monday)"))
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="+"
    )
    category = models.CharField(_("forecast category"), max_length=10, choices=ForecastCategory.choices)
    expected_signing_on = models.DateField(_("expected signing date"))
    expected_value = models.DecimalField(_("expected value"), max_digits=14, decimal_places=2)
    weighted_value = models.DecimalField(_("weighted value"), max_digits=18, decimal_places=2)

    class Meta:
        ordering = ["-week_start", "owner", "customer"]
        verbose_name = _("forecast snapshot")
        verbose_name_plural = _("forecast snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["week_start", "customer"], name="forecastsnapshot_week_customer_unique"
            ),
        ]
        indexes = [
            # A scope's weeks: its owners' rows of recent weeks signing in a period.
            models.Index(
                fields=["owner", "week_start", "expected_signing_on"], name="forecastsnap_owner_week_idx"
            ),
            # The company's weeks (no owner filter): a week range, a period's signing dates.
            models.Index(
                fields=["week_start", "expected_signing_on"],
                include=["owner", "category", "expected_value", "weighted_value"],
                name="forecastsnap_week_signing_idx",
            ),
            models.Index(fields=["customer", "week_start"], name="forecastsnap_customer_week_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.week_start} · {self.get_category_display()}"


# --- Sales meetings (销售会议: 早会、晚会、周会) ------------------------------------------------------


class MeetingKind(models.TextChoices):
    MORNING = "morning", _("Morning meeting")
    EVENING = "evening", _("Evening meeting")
    WEEKLY = "weekly", _("Weekly meeting")


class Meeting(models.Model):
    """One team's morning, evening or weekly meeting on a day (a weekly one on its week's
    Monday). Opened by ``reports.meetings.open_meeting``: the unique (team, kind, date)
    makes a double submit open the same meeting."""

    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="meetings")
    kind = models.CharField(_("meeting"), max_length=10, choices=MeetingKind.choices)
    date = models.DateField(_("date"))
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("held by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "kind", "team"]
        verbose_name = _("sales meeting")
        verbose_name_plural = _("sales meetings")
        constraints = [
            models.UniqueConstraint(fields=["team", "kind", "date"], name="meeting_team_kind_date_unique")
        ]
        indexes = [models.Index(fields=["team", "date"], name="meeting_team_date_idx")]

    def __str__(self) -> str:
        return f"{self.team} · {self.get_kind_display()} · {self.date}"


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("Present")
    # The method allows a salesperson in the field to file their report instead.
    REMOTE = "remote", _("Remote (filed the report)")
    ABSENT = "absent", _("Absent")


class MeetingAttendance(models.Model):
    """Whether one person attended a meeting; one row per (meeting, person), upserted."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="attendance"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("salesperson"), on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(_("attendance"), max_length=10, choices=AttendanceStatus.choices)

    class Meta:
        ordering = ["meeting", "user"]
        verbose_name = _("meeting attendance")
        verbose_name_plural = _("meeting attendance")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], name="meetingattendance_meeting_user_unique")
        ]

    def __str__(self) -> str:
        return f"{self.meeting} · {self.user} · {self.get_status_display()}"


class ActionItem(models.Model):
    """What someone must do after a meeting, by a date. Open (``done_at`` empty) items show
    on the owner's "my day" and at the next meetings of the same team and kind."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="action_items"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="action_items",
    )
    text = models.CharField(_("action"), max_length=300)
    due_on = models.DateField(_("due on"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        indexes = [
            # "My day": the owner's open items by due date.
            models.Index(
                fields=["owner", "due_on"],
                condition=Q(done_at__isnull=True),
                name="actionitem_owner_open_idx",
            ),
            # The next meeting of a team and kind: the open items of its earlier meetings
            # (the meetings come from their (team, kind, date) index; open items are few).
            models.Index(
                fields=["meeting"], condition=Q(done_at__isnull=True), name="actionitem_meeting_open_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.text

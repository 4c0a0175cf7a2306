"""Forms of the report pages: period pickers, the backward plan's target, targets."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.models import ForecastCategory
from crm import glossary
from crm.forms import BootstrapMixin
from crm.models import Team, User
from crm.selectors import teams_visible_to, users_visible_to

from .models import ActivityCadence, ActivityTarget, MeetingKind, Target
from .periods import PeriodKind, is_period_start, period_for, today


class PeriodForm(BootstrapMixin, forms.Form):
    """``?period=month|quarter|year&on=YYYY-MM-DD`` (the period holding that day)."""

    period = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices, required=False)
    on = forms.DateField(
        label=_("Holding the day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def period_value(self):
        data = self.cleaned_data if self.is_valid() else {}
        kind = data.get("period") or PeriodKind.MONTH
        return period_for(kind, data.get("on") or today())


class BackwardPlanForm(PeriodForm):
    TARGET_KINDS = [("orders", _("Number of orders")), ("amount", _("Sales amount"))]

    target_kind = forms.ChoiceField(label=_("Target in"), choices=TARGET_KINDS, initial="orders")
    target = forms.DecimalField(label=_("Target"), min_value=Decimal(1), max_digits=16, decimal_places=2)
    average_order = forms.DecimalField(
        label=_("Average order (CNY)"),
        min_value=Decimal("0.01"),
        max_digits=16,
        decimal_places=2,
        required=False,
        help_text=_(
            "For an amount target: the amount ÷ the average order gives the orders needed. "
            "Empty: the average of the last year's orders."
        ),
    )


class CommissionForm(PeriodForm):
    SPANS = [("week", _("This week")), ("day", _("Today"))]

    commission = forms.DecimalField(
        label=glossary.in_percent(glossary.COMMISSION_RATE),
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=2,
        required=False,
        initial=Decimal(5),
    )
    span = forms.ChoiceField(label=_("Activity by grade for"), choices=SPANS, required=False)


class TargetForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Target
        fields = [
            "owner",
            "team",
            "period_kind",
            "period_start",
            "sales_amount",
            "gross_profit",
            "new_customers",
            "collections",
        ]
        widgets = {"period_start": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            users_visible_to(user).filter(is_active=True).exclude(pk=user.pk)
            if not user.is_admin
            else users_visible_to(user).filter(is_active=True)
        )
        self.fields["team"].queryset = teams_visible_to(user).filter(pk__in=user.visible_team_ids)

    def clean(self):
        data = super().clean()
        if bool(data.get("owner")) == bool(data.get("team")):
            raise forms.ValidationError(_("Pick a salesperson or a team, not both."))
        kind, start = data.get("period_kind"), data.get("period_start")
        if kind and start and not is_period_start(kind, start):
            self.add_error("period_start", _("Give the first day of the month, quarter or year."))
        return data

    def validate_unique(self):
        """The service upserts on (owner|team, period): an existing target is updated."""


class ActivityTargetForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = ActivityTarget
        fields = ["owner", "cadence", "calls", "visits", "new_customers"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = users_visible_to(user).filter(is_active=True)
        self.fields["cadence"].initial = ActivityCadence.DAY

    def validate_unique(self):
        """Upserted on (owner, cadence)."""


class WeeklyReportForm(BootstrapMixin, forms.Form):
    next_week_plan = forms.CharField(
        label=_("Next week's plan"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    competitor_news = forms.CharField(
        label=_("Competitor news (manager's notes)"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


# --- Sales meetings ------------------------------------------------------------------------


class MeetingOpenForm(BootstrapMixin, forms.Form):
    """Which meeting to open: a team the user holds meetings for, the kind and the day."""

    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none())
    kind = forms.ChoiceField(label=_("Meeting"), choices=MeetingKind.choices)
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams


class MeetingNotesForm(BootstrapMixin, forms.Form):
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 4})
    )


class ActionItemForm(BootstrapMixin, forms.Form):
    """An action item; ``owner`` among the meeting's people (the service checks it too)."""

    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none())
    text = forms.CharField(label=_("Action"), max_length=300)
    due_on = forms.DateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people


# The forecast's periods, by their place in ``selectors.forecast.forecast_periods``.
FORECAST_PERIODS = [
    ("0", _("This month")),
    ("1", _("Next month")),
    ("2", _("This quarter")),
    ("3", _("Next quarter")),
]


class ForecastForm(BootstrapMixin, forms.Form):
    """``?period=0..3&category=commit``: the period of the people table, and the number
    (a category, or "closed") whose customers the page lists."""

    CATEGORIES = [("closed", _("Closed")), *ForecastCategory.choices]

    period = forms.TypedChoiceField(
        label=_("Period"), choices=FORECAST_PERIODS, coerce=int, required=False, empty_value=0
    )
    category = forms.ChoiceField(label=_("Customers of"), choices=[("", "—"), *CATEGORIES], required=False)

    def values(self) -> tuple[int, str]:
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("period") or 0, data.get("category") or ""


class ForecastAdjustmentForm(BootstrapMixin, forms.Form):
    """A manager's adjusted commit for a salesperson (``owner``) or a team, with why."""

    owner = forms.IntegerField(required=False, widget=forms.HiddenInput)
    team = forms.IntegerField(required=False, widget=forms.HiddenInput)
    period = forms.TypedChoiceField(label=_("Period"), choices=FORECAST_PERIODS, coerce=int)
    amount = forms.DecimalField(
        label=_("Adjusted commit (CNY)"), min_value=Decimal(0), max_digits=16, decimal_places=2
    )
    note = forms.CharField(label=_("Why"), max_length=300)

    def clean(self):
        data = super().clean()
        if (data.get("owner") is None) == (data.get("team") is None):
            raise forms.ValidationError(_("Adjust either a salesperson's or a team's forecast."))
        return data

"""Shape only: targets, activity targets, rollups, and the report payloads."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm import glossary
from crm.filters import MAX_ID
from crm.selectors import teams_visible_to, users_visible_to
from reports import diagnosis
from reports.columns import TargetStatusField, number_field, row_serializer
from reports.models import ActionItem, ActivityTarget, Meeting, MeetingAttendance, Target, WeeklyRollup
from reports.periods import PeriodKind
from reports.selectors import ScopeKind
from reports.selectors.activity import ACTIVITY_COLUMNS
from reports.selectors.backward_plan import BACKWARD_PLAN_COLUMNS
from reports.selectors.conversion import CALIBRATION_COLUMNS, CONVERSION_COLUMNS
from reports.selectors.dashboard import FUNNEL_COLUMNS
from reports.selectors.forecast import ACCURACY_COLUMNS, DRILL_COLUMNS, FORECAST_COLUMNS
from reports.selectors.targets import QUOTA_COLUMNS, TEAM_QUOTA_COLUMNS
from reports.selectors.weekly import WEEKLY_TOTAL_COLUMNS


class VisibleReferencesMixin:
    """Owner and team name only people and teams the caller may see: others answer 400
    "does not exist" like unknown ids, so nobody learns which ids exist elsewhere."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["owner"].queryset = users_visible_to(request.user)
            if "team" in self.fields:
                self.fields["team"].queryset = teams_visible_to(request.user)


class TargetSerializer(VisibleReferencesMixin, serializers.ModelSerializer):
    period_label = serializers.CharField(source="period.label", read_only=True)

    class Meta:
        model = Target
        fields = [
            "id",
            "owner",
            "team",
            "period_kind",
            "period_start",
            "period_label",
            "sales_amount",
            "gross_profit",
            "new_customers",
            "collections",
            "split_from",
            "updated_at",
        ]
        read_only_fields = ["split_from", "updated_at"]
        validators = []  # the service upserts on (owner|team, period)


class ActivityTargetSerializer(VisibleReferencesMixin, serializers.ModelSerializer):
    class Meta:
        model = ActivityTarget
        fields = ["id", "owner", "cadence", "calls", "visits", "new_customers", "updated_at"]
        read_only_fields = ["updated_at"]
        validators = []


class WeeklyRollupSerializer(serializers.ModelSerializer):
    class Meta:
        model = WeeklyRollup
        fields = "__all__"
        # The weekly report's own words, as its page and export say them.
        extra_kwargs = {
            "new_customers": {"label": glossary.NEW_CUSTOMERS},
            "effective_visit_rate": {"label": glossary.in_percent(glossary.EFFECTIVE_VISIT_RATE)},
            "transaction_rate": {"label": glossary.in_percent(glossary.TRANSACTION_RATE)},
        }


class ReportQuerySerializer(serializers.Serializer):
    """The query parameters every report endpoint takes."""

    owner = serializers.IntegerField(required=False)
    team = serializers.IntegerField(required=False)
    scope = serializers.ChoiceField(choices=["me"], required=False)
    period = serializers.ChoiceField(choices=PeriodKind.choices, required=False)
    on = serializers.DateField(required=False)


class BackwardPlanQuerySerializer(ReportQuerySerializer):
    target_orders = serializers.IntegerField(min_value=1, required=False)
    target_amount = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=1, required=False)
    average_order = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=Decimal("0.01"), required=False
    )

    def validate(self, attrs):
        if not attrs.get("target_orders") and not attrs.get("target_amount"):
            raise serializers.ValidationError({"target_orders": "Give target_orders or target_amount."})
        return attrs


class ActivityFunnelQuerySerializer(ReportQuerySerializer):
    """The commission is a percent: a finite number from 0 to 100 (default 5)."""

    commission = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        default=Decimal(5),
        label=glossary.in_percent(glossary.COMMISSION_RATE),
    )


class WeeklyQuerySerializer(ReportQuerySerializer):
    week = serializers.DateField(required=False)


# --- Output: the funnel shape diagnosis and the backward plan (shape only) ----------------


# Named schemas of their own: the enums' names by field ("kind") would collide with others.
@extend_schema_field(
    {"type": "string", "enum": [kind.value for kind in ScopeKind]}, component_name="ScopeKind"
)
class ScopeKindField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "enum": PeriodKind.values}, component_name="PeriodKind")
class PeriodKindField(serializers.CharField):
    pass


class ScopeSerializer(serializers.Serializer):
    kind = ScopeKindField()
    owner = serializers.IntegerField(source="owner.pk", allow_null=True)
    team = serializers.IntegerField(source="team.pk", allow_null=True)


class PeriodSerializer(serializers.Serializer):
    kind = PeriodKindField()
    start = serializers.DateField()
    end = serializers.DateField(help_text="The next period's first day (exclusive).")
    label = serializers.CharField()


class ReportSerializer(serializers.Serializer):
    scope = ScopeSerializer()
    period = PeriodSerializer()


class RateUsedSerializer(serializers.Serializer):
    """A conversion rate a report rests on, and whether it was measured or assumed."""

    code = serializers.CharField(help_text="The grade the rate leads out of (A's: A→won).")
    rate = serializers.DecimalField(max_digits=6, decimal_places=3, help_text="Fraction 0..1.")
    measured = serializers.BooleanField(
        help_text="False: too few customers left the grade, the ratio of the grade probabilities is "
        "assumed instead."
    )


class DiagnosisLayerSerializer(serializers.Serializer):
    code = serializers.CharField(help_text='A grade code, or "orders" (the last 30 days\' orders).')
    count = serializers.IntegerField()
    actual_share = serializers.DecimalField(
        max_digits=4, decimal_places=3, allow_null=True, help_text="Share of the open funnel now, 0..1."
    )
    ideal_share = serializers.DecimalField(
        max_digits=4, decimal_places=3, allow_null=True, help_text="Share at the current conversion rates."
    )
    expected = serializers.IntegerField(help_text="What the funnel's scale asks of it at the current rates.")
    ratio = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="count ÷ expected.")
    status = serializers.ChoiceField(choices=diagnosis.STATUSES)


class DiagnosisAdviceSerializer(serializers.Serializer):
    code = serializers.CharField()
    params = serializers.DictField()
    text = serializers.CharField(help_text="In the caller's language.")


class DiagnosisRuleSerializer(serializers.Serializer):
    """One number behind the verdict: a grade's share of the funnel vs its share at the
    current rates ("share"), the customers the recent orders need at a grade ("need"), or
    the orders the last grade should give ("yield")."""

    kind = serializers.ChoiceField(choices=diagnosis.RULE_KINDS)
    code = serializers.CharField()
    count = serializers.IntegerField()
    actual_share = serializers.DecimalField(max_digits=4, decimal_places=3, allow_null=True)
    ideal_share = serializers.DecimalField(max_digits=4, decimal_places=3, allow_null=True)
    needed = serializers.IntegerField(allow_null=True)
    orders = serializers.IntegerField(allow_null=True)
    rate = serializers.DecimalField(max_digits=6, decimal_places=3, allow_null=True)
    text = serializers.CharField(help_text="In the caller's language.")


class DiagnosisSerializer(serializers.Serializer):
    """The funnel shape diagnosis (``reports.diagnosis.Diagnosis``)."""

    verdict = serializers.ChoiceField(choices=diagnosis.VERDICTS)
    picture = serializers.IntegerField(allow_null=True, help_text="The method's picture 1–4, if any.")
    grade = serializers.CharField(allow_blank=True, help_text="The grade the verdict names.")
    text = serializers.CharField(help_text="The verdict in the caller's language.")
    advice = DiagnosisAdviceSerializer(many=True)
    rules = DiagnosisRuleSerializer(many=True)
    layers = DiagnosisLayerSerializer(many=True)
    orders = DiagnosisLayerSerializer(allow_null=True)
    rates = RateUsedSerializer(many=True)
    assumed = serializers.ListField(child=serializers.CharField(), help_text="Grades whose rate is assumed.")


class DiagnosisReportSerializer(serializers.Serializer):
    scope = ScopeSerializer()
    recent_orders = serializers.IntegerField()
    diagnosis = DiagnosisSerializer()


class MovementSerializer(serializers.Serializer):
    """This week's customers: new, moved up or down, won and lost."""

    new = serializers.IntegerField()
    up = serializers.IntegerField()
    down = serializers.IntegerField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()


class FunnelPeriodSerializer(serializers.Serializer):
    period = PeriodSerializer()
    actual = number_field()
    target = number_field()
    percentage = number_field()
    status = TargetStatusField()


class LifecycleCountsSerializer(serializers.Serializer):
    """Live customers per lifecycle stage."""

    prospect = serializers.IntegerField()
    first_purchase = serializers.IntegerField()
    repeat = serializers.IntegerField()
    loyal = serializers.IntegerField()


class FunnelPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="person.pk")
    open = serializers.IntegerField()
    weighted = number_field()
    stuck = serializers.IntegerField()
    stages = LifecycleCountsSerializer()


class FunnelTeamSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="team.pk", allow_null=True, help_text="null: people without a team.")
    name = serializers.CharField(source="team.name", allow_null=True)
    people = serializers.IntegerField()
    open = serializers.IntegerField()
    weighted = number_field()
    stuck = serializers.IntegerField()
    stages = LifecycleCountsSerializer()


class FunnelReportSerializer(serializers.Serializer):
    scope = ScopeSerializer()
    grades = row_serializer("FunnelGrade", FUNNEL_COLUMNS)(many=True, source="rows")
    quota = number_field()
    open_count = serializers.IntegerField()
    movement = MovementSerializer()
    stuck_count = serializers.IntegerField()
    periods = FunnelPeriodSerializer(many=True)
    people = FunnelPersonSerializer(many=True)
    teams = FunnelTeamSerializer(
        many=True, help_text="The company's people summed by team, as the page shows them (empty below it)."
    )
    diagnosis = DiagnosisSerializer()
    stages = LifecycleCountsSerializer()


class PlanRowSerializer(row_serializer("PlanRowColumns", BACKWARD_PLAN_COLUMNS)):
    # The rate stays the string of three decimals the answer always gave.
    rate = serializers.DecimalField(max_digits=6, decimal_places=3, source="row.rate")


class PlanWeekSerializer(serializers.Serializer):
    """One week re-planned with the rates measured since the period began."""

    week_start = serializers.DateField(source="week.week_start")
    weeks_left = serializers.IntegerField(source="plan.weeks_left")
    remaining_target = serializers.IntegerField(source="plan.remaining_target")
    planned_additions = serializers.IntegerField(source="plan.planned_additions")
    actual_additions = serializers.IntegerField(source="plan.actual_additions")
    orders = serializers.IntegerField(source="week.orders_in_week")
    completion = serializers.DecimalField(
        max_digits=6, decimal_places=3, source="plan.completion", allow_null=True
    )
    rates = RateUsedSerializer(many=True, source="week.steps")


class AverageRateSerializer(serializers.Serializer):
    code = serializers.CharField()
    average = serializers.DecimalField(
        max_digits=6,
        decimal_places=3,
        allow_null=True,
        help_text="Mean of the weeks' measured rates; null when no week of the period measured one.",
    )
    measured_weeks = serializers.IntegerField()
    weeks_without_data = serializers.ListField(
        child=serializers.DateField(), help_text="Weeks whose rate was assumed: left out of the mean."
    )


class BackwardPlanSerializer(ReportSerializer):
    target_orders = serializers.IntegerField()
    weeks_left = serializers.IntegerField()
    plan = PlanRowSerializer(many=True)
    weeks = PlanWeekSerializer(many=True, source="weekly")
    average_rates = AverageRateSerializer(many=True)
    orders_so_far = serializers.IntegerField()
    finished = serializers.BooleanField()


# --- Report results, their rows from the columns the page and the export show -------------------


class ConversionReportSerializer(ReportSerializer):
    stages = row_serializer("ConversionStage", CONVERSION_COLUMNS)(many=True)
    bottleneck = serializers.CharField(source="bottleneck.code", allow_null=True)
    calibration = row_serializer("Calibration", CALIBRATION_COLUMNS)(many=True)


# Each number's label in the caller's language, from the glossary the pages and exports
# read: an API client shows the method's words without keeping its own list.
CALL_FUNNEL_LABELS = {
    "dials": glossary.DIALS,
    "connected": glossary.CALLS_COMPLETED,
    "appointments": glossary.APPOINTMENTS,
    "presentations": glossary.PRESENTATIONS,
    "orders": glossary.CALL_ORDERS,
    "amount": glossary.CALL_SALES_TOTAL,
    "revenue_per_dial": glossary.SALES_PER_DIAL,
    "commission_rate": glossary.in_percent(glossary.COMMISSION_RATE),
    "commission_per_dial": glossary.COMMISSION_PER_DIAL,
}
WEEKLY_LABELS = {
    "new_customers": glossary.NEW_CUSTOMERS,
    "effective_visit_rate": glossary.EFFECTIVE_VISIT_RATE,
    "transaction_rate": glossary.TRANSACTION_RATE,
    "average_sales": glossary.AVERAGE_WEEKLY_SALES_PER_PERSON,
    "competitor_news": glossary.COMPETITOR_NEWS,
    "exceptional_customers": glossary.EXCEPTIONAL_CUSTOMERS,
}


def labels_serializer(name: str, terms: dict) -> type[serializers.Serializer]:
    """One text field per term, so the schema names the words an answer carries."""
    return type(name, (serializers.Serializer,), {key: serializers.CharField() for key in terms})


class CloseRateSerializer(serializers.Serializer):
    bucket = serializers.ChoiceField(choices=["first", "second", "several"])
    customers = serializers.IntegerField()
    won = serializers.IntegerField()
    rate = number_field()


class ActivityFunnelReportSerializer(ReportSerializer):
    commission_rate = number_field(help_text="In percent.")
    people = row_serializer("ActivityPerson", ACTIVITY_COLUMNS)(many=True, source="rows")
    total = row_serializer("ActivityTotal", tuple(c for c in ACTIVITY_COLUMNS if c.key != "id"))()
    labels = labels_serializer("CallFunnelLabels", CALL_FUNNEL_LABELS)()
    close_rates = CloseRateSerializer(many=True)
    repeat_rate = number_field()
    buyers = serializers.IntegerField()
    repeaters = serializers.IntegerField()
    pareto_share = number_field()
    customers_with_sales = serializers.IntegerField()


class QuotaReportSerializer(ReportSerializer):
    people = row_serializer("QuotaPerson", QUOTA_COLUMNS)(many=True, source="rows")
    teams = row_serializer("QuotaTeam", TEAM_QUOTA_COLUMNS)(many=True)


ForecastRowSerializer = row_serializer("ForecastRow", FORECAST_COLUMNS)


class ForecastReportSerializer(serializers.Serializer):
    """The forecast of the scope per period (``totals``), and per salesperson and team for
    ``period``; each row's ``adjusted`` is the manager's latest figure beside ``commit``."""

    scope = ScopeSerializer()
    periods = PeriodSerializer(many=True)
    period = PeriodSerializer()
    totals = ForecastRowSerializer(many=True)
    people = ForecastRowSerializer(many=True)
    teams = ForecastRowSerializer(many=True)
    customers = row_serializer("ForecastCustomer", DRILL_COLUMNS)(
        many=True, help_text="With ``category``: the customers (or, for closed, orders) behind that number."
    )


class ForecastQuerySerializer(serializers.Serializer):
    owner = serializers.IntegerField(required=False)
    team = serializers.IntegerField(required=False)
    scope = serializers.ChoiceField(choices=["me"], required=False)
    period = serializers.ChoiceField(
        choices=[0, 1, 2, 3],
        required=False,
        help_text="0 this month, 1 next month, 2 this quarter, 3 next quarter.",
    )
    category = serializers.ChoiceField(
        choices=["closed", "commit", "best_case", "pipeline", "omitted"], required=False
    )


class ForecastAccuracySerializer(serializers.Serializer):
    scope = ScopeSerializer()
    periods = PeriodSerializer(many=True)
    people = row_serializer("ForecastAccuracyPerson", ACCURACY_COLUMNS)(many=True)


class ComplaintSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class CompetitorNewsSerializer(serializers.Serializer):
    activity = serializers.IntegerField(source="pk")
    customer = serializers.IntegerField(source="customer_id")
    text = serializers.CharField(source="competitor_news")


class LateReportSerializer(serializers.Serializer):
    owner = serializers.IntegerField(source="owner_id")
    date = serializers.DateField()


class AccompaniedVisitsSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    role = serializers.CharField()
    visits = serializers.IntegerField()
    name = serializers.CharField()


class CommitAlertSerializer(serializers.Serializer):
    """A commit to ask about: its signing date passed ("stuck") or it keeps slipping."""

    customer = serializers.IntegerField(source="customer.pk")
    reason = serializers.ChoiceField(choices=["stuck", "slipping"])
    moves = serializers.IntegerField(help_text="Times its signing date moved into a later month.")


class WeeklyReportSerializer(serializers.Serializer):
    scope = ScopeSerializer()
    week_start = serializers.DateField()
    week_end = serializers.DateField()
    totals = row_serializer("WeeklyTotals", WEEKLY_TOTAL_COLUMNS)()
    effective_visit_rate = number_field()
    transaction_rate = number_field()
    average_sales = number_field()
    month_actual = number_field()
    month_target = number_field()
    month_percentage = number_field()
    month_status = TargetStatusField()
    people = WeeklyRollupSerializer(many=True, source="rollups")
    stuck = serializers.ListField(child=serializers.IntegerField(), help_text="Customer ids.")
    overdue = serializers.ListField(child=serializers.IntegerField(), help_text="Customer ids.")
    commit_alerts = CommitAlertSerializer(many=True)
    complaints = ComplaintSerializer(many=True)
    competitor_news = CompetitorNewsSerializer(many=True)
    late_reports = LateReportSerializer(many=True)
    next_week_plan = serializers.CharField(allow_blank=True)
    accompanied_visits = AccompaniedVisitsSerializer(many=True)
    labels = labels_serializer("WeeklyLabels", WEEKLY_LABELS)()


# --- Sales meetings --------------------------------------------------------------------------


class MeetingAttendanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeetingAttendance
        fields = ["user", "status"]


class AttendanceInputSerializer(serializers.Serializer):
    """``{"attendance": [{"user": id, "status": "present|remote|absent"}, …]}``."""

    attendance = MeetingAttendanceSerializer(many=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id: the service answers 400 on ``user`` for someone outside the meeting's team.
        self.fields["attendance"].child.fields["user"] = serializers.IntegerField(
            min_value=1, max_value=MAX_ID
        )


class ActionItemSerializer(serializers.ModelSerializer):
    team = serializers.IntegerField(source="meeting.team_id", read_only=True)
    kind = serializers.CharField(source="meeting.kind", read_only=True)

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "meeting",
            "team",
            "kind",
            "owner",
            "text",
            "due_on",
            "created_at",
            "done_at",
            "done_by",
        ]
        read_only_fields = ["meeting", "created_at", "done_at", "done_by"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id: the service answers 400 on ``owner`` for someone outside the meeting's team.
        self.fields["owner"] = serializers.IntegerField(source="owner_id", min_value=1, max_value=MAX_ID)


class MeetingSerializer(serializers.ModelSerializer):
    """A meeting with its minutes. ``POST`` opens one (team, kind, date): again the same."""

    attendance = MeetingAttendanceSerializer(many=True, read_only=True)
    action_items = ActionItemSerializer(many=True, read_only=True)

    class Meta:
        model = Meeting
        fields = [
            "id",
            "team",
            "kind",
            "date",
            "held_by",
            "notes",
            "attendance",
            "action_items",
            "updated_at",
        ]
        read_only_fields = ["held_by", "updated_at"]
        validators = []  # the service opens the existing meeting on (team, kind, date)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["team"].queryset = teams_visible_to(request.user)
        if self.instance is not None:  # an update changes the notes only
            for name in ("team", "kind", "date"):
                self.fields[name].read_only = True

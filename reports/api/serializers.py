"""Shape only: targets, activity targets, rollups, and the report payloads."""

from decimal import Decimal

from rest_framework import serializers

from crm.selectors import teams_visible_to, users_visible_to
from reports.models import ActivityTarget, Target, WeeklyRollup
from reports.periods import PeriodKind


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

    commission = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100,
                                          default=Decimal(5))


class WeeklyQuerySerializer(ReportQuerySerializer):
    week = serializers.DateField(required=False)

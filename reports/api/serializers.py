"""Shape only: targets, activity targets, rollups, and the report payloads."""

from decimal import Decimal

from rest_framework import serializers

from reports.models import ActivityTarget, Target, WeeklyRollup
from reports.periods import PeriodKind


class TargetSerializer(serializers.ModelSerializer):
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


class ActivityTargetSerializer(serializers.ModelSerializer):
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


class WeeklyQuerySerializer(ReportQuerySerializer):
    week = serializers.DateField(required=False)

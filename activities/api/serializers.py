"""Serializers convert and validate shape; the services apply the rules."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.filters import MAX_ID
from crm.models import Contact, Customer, Notification

from ..models import (
    Activity,
    CallStage,
    DailyPlan,
    DailyReport,
    MarketReport,
    Objection,
    PlanItem,
    PlanItemKind,
    ReviewEvent,
)
from ..services import FIGURE_FIELDS, PLAN_ADD_LIMIT, REPORT_EDITABLE_FIELDS


@extend_schema_field(OpenApiTypes.INT)
class VisibleCustomerField(serializers.PrimaryKeyRelatedField):
    """A live customer the caller may see. Unknown and invisible customers alike answer
    400 "object does not exist": nothing is written, nothing is revealed."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return Customer.objects.none()
        return Customer.objects.visible_to(request.user).live()


class VisibleContactField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return Contact.objects.none()
        return Contact.objects.visible_to(request.user)


class ObjectionSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    display_answer = serializers.CharField(read_only=True)

    class Meta:
        model = Objection
        fields = ["id", "name", "name_zh", "answer", "answer_zh", "display_name", "display_answer", "order"]
        read_only_fields = fields


class ActivitySerializer(serializers.ModelSerializer):
    customer = VisibleCustomerField()
    contact = VisibleContactField(required=False, allow_null=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    call_stage = serializers.ChoiceField(choices=CallStage.choices, required=False, allow_null=True)
    effective = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            "Defaults to whether the contact is a key person; always false for a call that was only dialled."
        ),
    )
    started_at = serializers.DateTimeField(required=False, help_text=_("Defaults to now."))
    client_key = serializers.UUIDField(
        required=False,
        allow_null=True,
        write_only=True,
        help_text=_("The idempotency key, if not sent as a header."),
    )
    needs_confirming_call = serializers.BooleanField(
        read_only=True,
        help_text=_(
            "A fax, or an e-mail with a proposal: confirm it by phone. Logged "
            "without a next follow-up, it is set to the next working day."
        ),
    )

    class Meta:
        model = Activity
        fields = [
            "id",
            "customer",
            "customer_name",
            "owner",
            "owner_name",
            "contact",
            "kind",
            "started_at",
            "duration_minutes",
            "purpose",
            "call_stage",
            "outcome",
            "effective",
            "objection",
            "proposal_sent",
            "needs_confirming_call",
            "next_follow_up_on",
            "competitor_news",
            "expense",
            "created_at",
            "client_key",
        ]
        read_only_fields = ["owner", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["objection"].queryset = Objection.objects.active()


class PlanItemSerializer(serializers.ModelSerializer):
    customer = VisibleCustomerField()
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = PlanItem
        fields = [
            "id",
            "customer",
            "customer_name",
            "kind",
            "area",
            "starts_at",
            "ends_at",
            "purpose",
            "note",
            "done",
            "activity",
        ]
        read_only_fields = ["done", "activity"]


class PlanAddCustomersSerializer(serializers.Serializer):
    customers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        allow_empty=False,
        max_length=PLAN_ADD_LIMIT,
        help_text=_("Ids of customers the caller may see."),
    )
    date = serializers.DateField(
        required=False, help_text=_("The plan's day; default: the next working day (Monday after a Friday).")
    )
    kind = serializers.ChoiceField(choices=PlanItemKind.choices, default=PlanItemKind.VISIT)


class PlanAddResultSerializer(serializers.Serializer):
    plan = serializers.IntegerField(source="plan.pk")
    date = serializers.DateField(source="plan.date")
    added = PlanItemSerializer(many=True)
    already_planned = serializers.IntegerField(help_text=_("Customers that were on the plan already."))
    unknown = serializers.IntegerField(help_text=_("Customers not added: archived, gone or not visible."))


class ReviewEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewEvent
        fields = ["from_state", "to_state", "by", "at", "comment"]
        read_only_fields = fields


class DailyPlanSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    items = PlanItemSerializer(many=True, required=False)
    events = ReviewEventSerializer(many=True, read_only=True)

    class Meta:
        model = DailyPlan
        fields = [
            "id",
            "owner",
            "owner_name",
            "date",
            "state",
            "submitted_at",
            "reviewed_at",
            "reviewed_by",
            "review_comment",
            "items",
            "events",
        ]
        read_only_fields = ["owner", "state", "submitted_at", "reviewed_at", "reviewed_by", "review_comment"]
        # One plan per person and day is the service's business (it opens the existing one).
        validators = []


class DailyReportSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    events = ReviewEventSerializer(many=True, read_only=True)

    class Meta:
        model = DailyReport
        fields = [
            "id",
            "owner",
            "owner_name",
            "date",
            "state",
            *FIGURE_FIELDS,
            *REPORT_EDITABLE_FIELDS,
            "first_submitted_at",
            "submitted_at",
            "is_late",
            "reviewed_at",
            "reviewed_by",
            "review_comment",
            "events",
        ]
        read_only_fields = [
            "owner",
            "state",
            *FIGURE_FIELDS,
            "first_submitted_at",
            "submitted_at",
            "is_late",
            "reviewed_at",
            "reviewed_by",
            "review_comment",
        ]
        validators = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if getattr(self.instance, "pk", None):
            self.fields["date"].read_only = True


class ReviewSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class MarketReportSerializer(serializers.ModelSerializer):
    customer = VisibleCustomerField(required=False, allow_null=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)

    class Meta:
        model = MarketReport
        fields = ["id", "owner", "owner_name", "kind", "customer", "title", "body", "created_at"]
        read_only_fields = ["owner", "created_at"]


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "customer", "created_at", "read_at"]
        read_only_fields = fields


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        allow_null=True,
        help_text=_("Leave out to mark all read."),
    )


class MyDayCustomerSerializer(serializers.ModelSerializer):
    grade_code = serializers.CharField(source="grade.code", read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "tier",
            "grade_code",
            "last_activity_at",
            "last_call_at",
            "last_visit_at",
            "next_follow_up_on",
        ]
        read_only_fields = fields


class FollowUpSerializer(MyDayCustomerSerializer):
    days_overdue = serializers.IntegerField(read_only=True)

    class Meta(MyDayCustomerSerializer.Meta):
        fields = [*MyDayCustomerSerializer.Meta.fields, "days_overdue"]
        read_only_fields = fields


class CadenceDueSerializer(MyDayCustomerSerializer):
    call_due = serializers.BooleanField(read_only=True)
    visit_due = serializers.BooleanField(read_only=True)

    class Meta(MyDayCustomerSerializer.Meta):
        fields = [*MyDayCustomerSerializer.Meta.fields, "call_due", "visit_due"]
        read_only_fields = fields


class MyDaySerializer(serializers.Serializer):
    today = serializers.DateField()
    plan = DailyPlanSerializer(allow_null=True)
    report = DailyReportSerializer(allow_null=True)
    follow_ups = FollowUpSerializer(many=True)
    follow_ups_more = serializers.BooleanField()
    cadence = CadenceDueSerializer(many=True)
    cadence_more = serializers.BooleanField()
    pending_reviews = serializers.IntegerField(allow_null=True)

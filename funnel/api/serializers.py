from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.models import Grade
from crm.filters import MAX_ID
from crm.models import Customer, Order, User
from funnel.models import (
    CloseReason,
    ConflictClaim,
    ConflictStatus,
    GradeChange,
    HandoverTask,
    Reassignment,
    StagnationAlert,
)
from funnel.permissions import in_tree


class GradeSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = Grade
        fields = [
            "id",
            "code",
            "name",
            "name_zh",
            "display_name",
            "order",
            "kind",
            "probability",
            "stagnation_days",
            "locked",
            "pool_return_days",
            "requires_decision_maker",
            "playbook",
            "playbook_zh",
        ]
        # The small-integer columns' range, which PostgreSQL checks and SQLite does not (a
        # stagnation limit of 10^16 days then crashed the clock's date arithmetic).
        extra_kwargs = dict.fromkeys(["order", "stagnation_days", "pool_return_days"], {"max_value": 32767})

    def validate(self, attrs):
        """Run the model's rules (range, strict order) so the API answers like the admin."""
        instance = Grade(**{**(self._current_values()), **attrs})
        instance.full_clean(validate_unique=False)
        return attrs

    def _current_values(self) -> dict:
        if self.instance is None:
            return {}
        return {
            field: getattr(self.instance, field)
            for field in self.Meta.fields
            if field not in {"display_name"}
        } | {"pk": self.instance.pk}


class GradeChangeSerializer(serializers.ModelSerializer):
    from_code = serializers.CharField(source="from_grade.code", read_only=True, default=None)
    to_code = serializers.CharField(source="to_grade.code", read_only=True)

    class Meta:
        model = GradeChange
        fields = [
            "id",
            "customer",
            "from_grade",
            "from_code",
            "to_grade",
            "to_code",
            "changed_at",
            "changed_by",
            "owner",
            "note",
            "days_in_previous",
        ]
        read_only_fields = fields


class ChangeGradeSerializer(serializers.Serializer):
    grade = serializers.PrimaryKeyRelatedField(queryset=Grade.objects.all())
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    expected_grade = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="The grade the caller saw; default: the current one. Another grade by the time the "
        "change is applied answers 409 and changes nothing.",
    )


class CustomerGradeSerializer(serializers.ModelSerializer):
    """What change-grade answers: the customer's grade state after the move (the full
    customer is ``GET /api/customers/{id}/``)."""

    grade_code = serializers.CharField(source="grade.code", read_only=True)
    days_in_grade = serializers.IntegerField(read_only=True)
    is_stagnant = serializers.BooleanField(read_only=True)
    probability = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    weighted_value = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "grade",
            "grade_code",
            "grade_entered_at",
            "days_in_grade",
            "is_stagnant",
            "probability",
            "weighted_value",
            "lost_reason",
            "lifecycle",
        ]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = [
            "id",
            "customer",
            "owner",
            "amount",
            "gross_profit",
            "signed_on",
            "collected_amount",
            "collected_on",
            "note",
            "created_at",
        ]
        read_only_fields = ["owner", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["customer"].queryset = Customer.objects.visible_to(request.user).live()


# --- Funnel management ---------------------------------------------------------------------


class StagnationAlertSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    grade_code = serializers.CharField(source="grade.code", read_only=True)
    current_owner = serializers.IntegerField(source="customer.owner_id", read_only=True)
    days_in_grade = serializers.IntegerField(read_only=True)
    days_over_limit = serializers.IntegerField(read_only=True)
    is_snoozed = serializers.BooleanField(read_only=True)
    # Empty while the alert is open: the schema says so (a read-only model field would not).
    close_reason = serializers.ChoiceField(choices=CloseReason.choices, allow_blank=True, read_only=True)

    class Meta:
        model = StagnationAlert
        fields = [
            "id",
            "customer",
            "customer_name",
            "grade",
            "grade_code",
            "owner",
            "current_owner",
            "grade_entered_at",
            "stagnant_from",
            "raised_on",
            "days_in_grade",
            "days_over_limit",
            "closed_at",
            "close_reason",
            "is_snoozed",
            "snoozed_until",
            "snooze_reason",
            "snoozed_by",
            "snoozed_at",
        ]
        read_only_fields = fields


class SnoozeAlertSerializer(serializers.Serializer):
    until = serializers.DateField()
    reason = serializers.CharField(max_length=300)


class HandoverTaskSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    from_owner = serializers.IntegerField(
        source="reassignment.from_owner_id", read_only=True, allow_null=True
    )

    class Meta:
        model = HandoverTask
        fields = [
            "id",
            "customer",
            "customer_name",
            "owner",
            "from_owner",
            "reassignment",
            "kind",
            "description",
            "due_on",
            "status",
            "created_at",
            "done_at",
            "done_by",
            "done_via",
        ]
        read_only_fields = fields


class PoolCustomerSerializer(serializers.ModelSerializer):
    """What a pool page shows: no contacts, notes or history until someone owns it."""

    grade_code = serializers.CharField(source="grade.code", read_only=True)
    weighted_value = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    pooled_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "grade",
            "grade_code",
            "tier",
            "region",
            "industry",
            "employees",
            "annual_revenue",
            "source",
            "expected_value",
            "weighted_value",
            "pooled_at",
            "last_activity_at",
        ]
        read_only_fields = fields


class ReassignmentSerializer(serializers.ModelSerializer):
    handover_tasks = serializers.SerializerMethodField()

    class Meta:
        model = Reassignment
        fields = [
            "id",
            "customer",
            "from_owner",
            "to_owner",
            "by",
            "at",
            "kind",
            "grade",
            "reason",
            "forced",
            "handover_tasks",
        ]
        read_only_fields = fields

    def get_handover_tasks(self, record) -> list[dict]:
        return [
            {"id": task.pk, "kind": task.kind, "due_on": task.due_on, "status": task.status}
            for task in record.handover_tasks.all()
        ]


@extend_schema_field(OpenApiTypes.INT)
class _OwnerField(serializers.PrimaryKeyRelatedField):
    """A colleague the caller may see (their team tree; anyone for admins)."""

    def get_queryset(self):
        request = self.context["request"]
        return User.objects.visible_to(request.user)


class ReassignSerializer(serializers.Serializer):
    owner = _OwnerField()
    reason = serializers.CharField(max_length=2000)
    force = serializers.BooleanField(required=False, default=False)
    expected_owner = serializers.IntegerField(
        required=False, allow_null=True, help_text="The owner the caller saw; default: the current one."
    )


class BulkReassignSerializer(serializers.Serializer):
    customers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=1000
    )
    owner = _OwnerField()
    reason = serializers.CharField(max_length=2000)
    force = serializers.BooleanField(required=False, default=False)


class RefusalSerializer(serializers.Serializer):
    customer = serializers.IntegerField(source="customer.pk")
    code = serializers.CharField()
    message = serializers.CharField()


class BulkReassignResultSerializer(serializers.Serializer):
    moved = ReassignmentSerializer(many=True)
    refused = RefusalSerializer(many=True)


class ReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class WonConcentrationSerializer(serializers.Serializer):
    """The concentration guard (``selectors.won_concentration``): the smallest group of the
    team holding the limit's share of its won customers, and whether the method warns."""

    people = serializers.SerializerMethodField(help_text="The group's user ids, most won customers first.")
    won = serializers.IntegerField(help_text="The group's won customers.")
    team_won = serializers.IntegerField()
    team_size = serializers.IntegerField(help_text="People in the team, with or without won customers.")
    share = serializers.DecimalField(max_digits=4, decimal_places=1, help_text="The group's share, in %.")
    warns = serializers.BooleanField(help_text="One person or a few hold the limit's share or more.")
    text = serializers.SerializerMethodField(
        help_text="The warning, in the caller's language; empty when the guard does not warn."
    )

    def get_people(self, concentration) -> list[int]:
        return [person.pk for person in concentration.people]

    def get_text(self, concentration) -> str:
        return concentration.text if concentration.warns else ""


class ConflictSerializer(serializers.ModelSerializer):
    """People by name, never by user id: the holder is often in another team, whose
    users the claimant may not look up (the page shows the same names)."""

    customer = serializers.SerializerMethodField()
    claimant = serializers.CharField(source="claimant.display_name", read_only=True)
    holder = serializers.CharField(source="holder.display_name", read_only=True)
    settled_by = serializers.CharField(
        source="settled_by.display_name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = ConflictClaim
        fields = [
            "id",
            "claimed_as",
            "customer",
            "claimant",
            "holder",
            "first_contact_on",
            "evidence",
            "status",
            "created_at",
            "settled_by",
            "settled_at",
            "settlement_note",
        ]
        read_only_fields = fields

    def get_customer(self, conflict) -> int | None:
        """The customer's id, only for those who may see the customer."""
        request = self.context.get("request")
        if request is not None and in_tree(request.user, conflict.customer.owner):
            return conflict.customer_id
        return None


class ConflictCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    first_contact_on = serializers.DateField()
    evidence = serializers.CharField(max_length=4000)


class SettleSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[ConflictStatus.KEPT, ConflictStatus.TRANSFERRED, ConflictStatus.SHARED]
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    force = serializers.BooleanField(required=False, default=False)

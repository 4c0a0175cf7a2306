"""Serializers convert and validate shape; the services apply the rules."""

import copy

from rest_framework import serializers

from crm.filters import MAX_ID
from crm.models import Contact, Customer, LifecycleChange, Tag, Team, Tier, User
from crm.services import BULK_LIMIT, CONTACT_EDITABLE_FIELDS, CUSTOMER_EDITABLE_FIELDS, too_many_tags

# A customer's tags, prefetched into a plain list: Django's usual prefetch builds a related
# manager and a queryset per customer, which cost the API list more than the rest of a row.
PREFETCHED_TAGS = "tag_list"


class UserSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "first_name",
            "last_name",
            "email",
            "role",
            "team",
            "hire_date",
            "is_active",
        ]
        read_only_fields = fields


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "parent", "manager"]
        read_only_fields = fields


class CustomerSerializer(serializers.ModelSerializer):
    # Read from the list the viewset's queryset prefetches (PREFETCHED_TAGS).
    tags = serializers.SlugRelatedField(
        many=True, slug_field="name", queryset=Tag.objects.all(), required=False, source=PREFETCHED_TAGS
    )
    grade_code = serializers.CharField(source="grade.code", read_only=True)
    owner_name = serializers.CharField(
        source="owner.display_name", read_only=True, default=None, allow_null=True
    )  # null in the public pool
    probability = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    weighted_value = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    days_in_grade = serializers.IntegerField(read_only=True)
    is_stagnant = serializers.BooleanField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            *CUSTOMER_EDITABLE_FIELDS,
            "tags",
            "owner",
            "owner_name",
            "grade",
            "grade_code",
            "grade_entered_at",
            "days_in_grade",
            "is_stagnant",
            "probability",
            "probability_override",
            "probability_override_reason",
            "weighted_value",
            "lost_reason",
            "last_activity_at",
            "next_follow_up_on",
            "order_count",
            "lifecycle",
            "archived_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "grade_entered_at",
            "probability_override",
            "probability_override_reason",
            "lost_reason",
            "last_activity_at",
            "next_follow_up_on",
            "order_count",
            "lifecycle",
            "archived_at",
            "created_at",
            "updated_at",
        ]

    def get_fields(self):
        """The fields DRF builds from the model, built once per class and copied for each
        serializer (as DRF copies declared fields): introspecting the model again on every
        request cost the API list about a millisecond."""
        cls = type(self)
        if "_built_fields" not in cls.__dict__:
            cls._built_fields = super().get_fields()
        return copy.deepcopy(cls._built_fields)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["owner"].queryset = User.objects.visible_to(request.user).filter(is_active=True)
        if (
            self.instance is not None
            and not isinstance(self.instance, list | tuple)
            and hasattr(self.instance, "pk")
        ):
            # Grade and owner only move through change-grade / reassignment.
            self.fields["grade"].read_only = True
            self.fields["owner"].read_only = True
        else:
            self.fields["grade"].queryset = self.fields["grade"].queryset.filter(kind="open")
        # Each datetime field looks its time zone up once, not once per value: a page of the
        # list shows 250 datetimes, and each look-up cost more than formatting the value.
        for field in self.fields.values():
            if isinstance(field, serializers.DateTimeField) and not hasattr(field, "timezone"):
                field.timezone = field.default_timezone()


class TagNamesField(serializers.ListField):
    child = serializers.CharField(max_length=50)


class CustomerWriteSerializer(CustomerSerializer):
    """Tags are written by name, at most ``MAX_TAGS_PER_CUSTOMER``; the service resolves
    them (``services.resolve_tags``: only admins add new ones)."""

    tags = TagNamesField(required=False)

    def validate_tags(self, names: list[str]) -> list[str]:
        if error := too_many_tags(len(names)):
            raise serializers.ValidationError(error)
        return names


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "customer", *CONTACT_EDITABLE_FIELDS, "created_at"]
        read_only_fields = ["created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["customer"].queryset = Customer.objects.visible_to(request.user).live()
        if getattr(self.instance, "pk", None):
            self.fields["customer"].read_only = True


class LifecycleChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = LifecycleChange
        fields = ["id", "customer", "from_stage", "to_stage", "changed_at", "reason"]
        read_only_fields = fields


class BulkTierSerializer(serializers.Serializer):
    customers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=BULK_LIMIT
    )
    tier = serializers.ChoiceField(choices=Tier.choices)


class BulkTierResultSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text="Now at the new tier.")
    unchanged = serializers.IntegerField(help_text="At that tier already.")
    skipped = serializers.IntegerField(
        help_text="Not changed: unknown, not visible to the caller, or archived."
    )


class ProbabilityOverrideSerializer(serializers.Serializer):
    probability = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, allow_null=True
    )
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

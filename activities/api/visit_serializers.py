"""Serializers of the visits API (外勤签到): they convert and check the shape; the rules
(visibility, distance flag, plan item, photo limits) are ``activities.visits``'."""

import math

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.filters import MAX_ID
from crm.models import User

from .. import permissions
from ..models import CustomerLocation, LocationStatus, PlanItem, Purpose, Visit, VisitCompanion, VisitPhoto
from ..visits import COACHING_NOTE_MAX_LENGTH
from .serializers import VisibleCustomerField

# Larger than any fix a phone reports (an IP-based guess is tens of kilometres), small
# enough for the accuracy column.
MAX_ACCURACY_M = 1_000_000


class VisitPhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text=_("The photo, for those who may see the customer."))

    class Meta:
        model = VisitPhoto
        fields = ["id", "url", "width", "height", "size_bytes", "uploaded_at"]
        read_only_fields = fields

    def get_url(self, photo: VisitPhoto) -> str:
        return reverse("activities:visit-photo", args=[photo.pk])


class VisitCompanionSerializer(serializers.ModelSerializer):
    """Someone who went along (陪同拜访). The coaching note is for the salesperson, their
    managers and its author: ``null`` for anyone else (another companion)."""

    name = serializers.CharField(source="user.display_name", read_only=True)
    role = serializers.CharField(source="user.role", read_only=True)
    coaching_note = serializers.SerializerMethodField(
        help_text=_("Null when the caller may not read it; empty when none is written yet.")
    )

    class Meta:
        model = VisitCompanion
        fields = ["user", "name", "role", "coaching_note", "noted_at"]
        read_only_fields = fields

    def get_coaching_note(self, companion: VisitCompanion) -> str | None:
        request = self.context.get("request")
        if request is None or not permissions.can_read_coaching(request.user, companion.visit, companion):
            return None
        return companion.coaching_note


class VisitSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    photos = VisitPhotoSerializer(many=True, read_only=True)
    companions = VisitCompanionSerializer(many=True, read_only=True)
    check_out_status = serializers.ChoiceField(
        choices=LocationStatus.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("Empty until checked out."),
    )

    class Meta:
        model = Visit
        fields = [
            "id",
            "owner",
            "owner_name",
            "customer",
            "customer_name",
            "plan_item",
            "activity",
            "checked_in_at",
            "synced_at",
            "check_in_status",
            "check_in_latitude",
            "check_in_longitude",
            "check_in_accuracy_m",
            "distance_m",
            "far_from_customer",
            "set_customer_location",
            "checked_out_at",
            "check_out_status",
            "check_out_latitude",
            "check_out_longitude",
            "check_out_accuracy_m",
            "check_out_distance_m",
            "duration_minutes",
            "photos",
            "companions",
        ]
        read_only_fields = fields


class BlankAsNullMixin:
    """An empty value of an optional field is no value: the check-in form posts its
    hidden inputs as they are (no position: empty latitude and longitude)."""

    def run_validation(self, data=serializers.empty):
        if data == "" and self.allow_null:
            data = None
        return super().run_validation(data)


class FiniteFloatField(BlankAsNullMixin, serializers.FloatField):
    """A number that is one ("nan" passes every range check)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class UUIDOrBlankField(BlankAsNullMixin, serializers.UUIDField):
    pass


class FixSerializer(serializers.Serializer):
    """What the browser reported (``navigator.geolocation``), or why it reported nothing."""

    latitude = FiniteFloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = FiniteFloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    accuracy = FiniteFloatField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=MAX_ACCURACY_M,
        help_text=_("Metres, as the browser reports it."),
    )
    location_status = serializers.ChoiceField(
        choices=LocationStatus.choices,
        required=False,
        allow_blank=True,
        help_text=_(
            "Why there is no location (denied, timeout, unavailable); a position given is "
            "always saved as located."
        ),
    )

    def validate(self, attrs):
        if (attrs.get("latitude") is None) != (attrs.get("longitude") is None):
            missing = "latitude" if attrs.get("latitude") is None else "longitude"
            raise serializers.ValidationError({missing: _("Send both latitude and longitude, or neither.")})
        return attrs


@extend_schema_field(OpenApiTypes.INT)
class OwnPlanItemField(serializers.PrimaryKeyRelatedField):
    """An item of the caller's own plans (the service checks it is for this customer today)."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return PlanItem.objects.none()
        return PlanItem.objects.filter(plan__owner=request.user)


class CheckInSerializer(FixSerializer):
    customer = VisibleCustomerField()
    purpose = serializers.ChoiceField(
        choices=Purpose.choices,
        required=False,
        allow_blank=True,
        help_text=_("Defaults to the plan item's purpose."),
    )
    plan_item = OwnPlanItemField(
        required=False, allow_null=True, help_text=_("Defaults to today's visit item for this customer.")
    )
    set_location = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Make this position the customer's location, when it has none yet."),
    )
    client_key = UUIDOrBlankField(
        required=False, allow_null=True, help_text=_("The idempotency key, if not sent as a header.")
    )
    recorded_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text=_(
            "When the phone made this check-in, if it was queued offline; the server's time otherwise."
        ),
    )
    companions = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=User.objects.filter(is_active=True),
        help_text=_("Who came along (陪同拜访): the salesperson's manager, or a colleague of the team."),
    )


class CompanionInputSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        help_text=_("A colleague of the salesperson's team, or a manager over it."),
    )


class CoachingNoteSerializer(serializers.Serializer):
    coaching_note = serializers.CharField(allow_blank=True, max_length=COACHING_NOTE_MAX_LENGTH)


class CheckOutSerializer(FixSerializer):
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class VisitPhotoUploadSerializer(serializers.Serializer):
    # A plain file: the service reads it as an image (header first, so a pixel bomb is
    # refused before it is decoded), not the serializer.
    photo = serializers.FileField(help_text=_("A JPEG, PNG, WebP or GIF photo."))


class CustomerLocationInputSerializer(serializers.Serializer):
    customer = VisibleCustomerField()
    latitude = FiniteFloatField(min_value=-90, max_value=90)
    longitude = FiniteFloatField(min_value=-180, max_value=180)


class CustomerLocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerLocation
        fields = ["customer", "latitude", "longitude", "source", "set_by", "set_at"]
        read_only_fields = fields


# --- The team's day -----------------------------------------------------------------------


class TeamDayQuerySerializer(serializers.Serializer):
    date = serializers.DateField(required=False, help_text=_("Defaults to today."))
    owner = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=_("Only this person's visits (one of your team)."),
    )


class TeamDayPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField(source="display_name")
    check_ins = serializers.IntegerField()
    flagged = serializers.IntegerField(help_text=_("Check-ins far from the customer's location."))
    no_location = serializers.IntegerField()
    planned_visits = serializers.IntegerField()
    planned_visits_checked_in = serializers.IntegerField()


class TeamDayCompanionSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="user_id")
    name = serializers.CharField(source="user.display_name")


class TeamDayVisitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    owner = serializers.IntegerField(source="owner_id")
    owner_name = serializers.CharField(source="owner.display_name")
    customer = serializers.IntegerField(source="customer_id")
    customer_name = serializers.CharField(source="customer.name")
    checked_in_at = serializers.DateTimeField()
    check_in_status = serializers.ChoiceField(choices=LocationStatus.choices)
    distance_m = serializers.IntegerField(allow_null=True)
    far_from_customer = serializers.BooleanField()
    checked_out_at = serializers.DateTimeField(allow_null=True)
    duration_minutes = serializers.IntegerField(allow_null=True)
    photo_count = serializers.IntegerField()
    plan_item = serializers.IntegerField(
        source="plan_item_id",
        allow_null=True,
        help_text=_("The plan item this visit fulfils; none when unplanned."),
    )
    companions = TeamDayCompanionSerializer(many=True, help_text=_("Who went along (陪同拜访)."))


class TeamDaySerializer(serializers.Serializer):
    date = serializers.DateField(source="day")
    people = TeamDayPersonSerializer(many=True, source="summary")
    visits = TeamDayVisitSerializer(many=True)
    more = serializers.BooleanField(help_text=_("More check-ins than listed: ask for one person."))

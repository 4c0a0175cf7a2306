from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import Action
from crm.admin import AuditedAdminMixin, ReadOnlyAdmin, SingletonAdmin
from crm.glossary import cadence_label

from .models import (
    Activity,
    ActivitySettings,
    CadenceRule,
    CustomerLocation,
    DailyPlan,
    DailyReport,
    LocationSource,
    MarketReport,
    Objection,
    PlanItem,
    Visit,
    VisitPhoto,
)


@admin.register(Objection)
class ObjectionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The objection catalog: the suggested answer is shown when a salesperson logs the
    objection. Deactivate rather than delete one that was logged."""

    audit_action = Action.SETTINGS_CHANGED
    list_display = ["name", "name_zh", "order", "active"]
    list_editable = ["order", "active"]
    search_fields = ["name", "name_zh"]

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.activities.exists()


@admin.register(CadenceRule)
class CadenceRuleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Contact cadence per tier: a customer is due when its last call or visit is older."""

    audit_action = Action.SETTINGS_CHANGED
    list_display = ["tier", "call_every_days", "call_cadence", "visit_every_days", "visit_cadence"]
    list_editable = ["call_every_days", "visit_every_days"]

    @admin.display(description=_("call cadence"))
    def call_cadence(self, rule):
        """The days in the method's words (30 → monthly), as the customer page says them."""
        return cadence_label(rule.call_every_days)

    @admin.display(description=_("visit cadence"))
    def visit_cadence(self, rule):
        return cadence_label(rule.visit_every_days)


@admin.register(ActivitySettings)
class ActivitySettingsAdmin(SingletonAdmin):
    list_display = ["__str__", "report_cutoff", "check_in_flag_distance_m"]


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "kind", "customer", "owner", "purpose", "effective", "next_follow_up_on"]
    list_select_related = ["customer", "owner"]
    list_filter = ["kind", "purpose", "effective"]
    date_hierarchy = "started_at"
    search_fields = ["customer__name", "outcome"]
    show_full_result_count = False


class PlanItemInline(admin.TabularInline):
    model = PlanItem
    extra = 0
    fields = ["customer", "kind", "starts_at", "ends_at", "area", "purpose", "done"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DailyPlan)
class DailyPlanAdmin(ReadOnlyAdmin):
    list_display = ["date", "owner", "state", "submitted_at", "reviewed_by"]
    list_select_related = ["owner", "reviewed_by"]
    list_filter = ["state"]
    date_hierarchy = "date"
    inlines = [PlanItemInline]


@admin.register(DailyReport)
class DailyReportAdmin(ReadOnlyAdmin):
    list_display = ["date", "owner", "state", "is_late", "calls", "visits", "effective_activities"]
    list_select_related = ["owner"]
    list_filter = ["state", "is_late"]
    date_hierarchy = "date"


@admin.register(MarketReport)
class MarketReportAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "title", "owner", "customer"]
    list_select_related = ["owner", "customer"]
    list_filter = ["kind"]
    search_fields = ["title", "body"]


class VisitPhotoInline(admin.TabularInline):
    model = VisitPhoto
    extra = 0
    fields = ["uploaded_at", "uploaded_by", "width", "height", "size_bytes"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    """Check-ins are written by the salesperson's phone only (``activities.visits``)."""

    list_display = [
        "checked_in_at",
        "owner",
        "customer",
        "check_in_status",
        "distance_m",
        "far_from_customer",
        "checked_out_at",
        "duration_minutes",
    ]
    list_select_related = ["owner", "customer"]
    list_filter = ["check_in_status", "far_from_customer"]
    date_hierarchy = "checked_in_at"
    search_fields = ["customer__name", "owner__username"]
    show_full_result_count = False
    inlines = [VisitPhotoInline]


@admin.register(CustomerLocation)
class CustomerLocationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Where customers are: set by a first confirmed check-in, corrected here or on the
    customer page by its owner or a manager."""

    audit_action = Action.SETTINGS_CHANGED
    list_display = ["customer", "latitude", "longitude", "source", "set_by", "set_at"]
    list_select_related = ["customer", "set_by"]
    list_filter = ["source"]
    search_fields = ["customer__name"]
    raw_id_fields = ["customer"]
    readonly_fields = ["source", "set_by", "set_at"]

    def get_readonly_fields(self, request, obj=None):
        # The customer is the row's key: a correction changes the position, never whose it is.
        return [*self.readonly_fields, "customer"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        obj.source, obj.set_by, obj.set_at = LocationSource.MANUAL, request.user, timezone.now()
        super().save_model(request, obj, form, change)

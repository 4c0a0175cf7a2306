from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from core.audit import Action, audit
from core.models import Grade
from crm.admin import ReadOnlyAdmin, SingletonAdmin

from . import services
from .models import (
    ConflictClaim,
    FunnelSettings,
    GradeChange,
    HandoverStep,
    HandoverTask,
    Reassignment,
    StagnationAlert,
)


class HandoverStepInline(admin.TabularInline):
    """The grade's handover template: what a new owner does after a reassignment."""

    model = HandoverStep
    extra = 0
    fields = ["order", "kind", "description", "description_zh", "due_in_days"]


@admin.register(Grade)
class GradeAdmin(SimpleHistoryAdmin):
    """Grades are configuration: the model's ``clean`` gives clear errors for bad
    probabilities or order, and saving re-times the stagnation clock when needed."""

    list_display = [
        "code",
        "name",
        "name_zh",
        "order",
        "kind",
        "probability",
        "stagnation_days",
        "locked",
        "pool_return_days",
        "requires_decision_maker",
        "forecast_category",
    ]
    list_editable = []
    inlines = [HandoverStepInline]
    ordering = ["order"]

    def save_model(self, request, obj, form, change):
        services.save_grade(grade=obj, by=request.user)

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.customers.exists()

    def log_deletions(self, request, queryset):
        # Saves are audited by ``save_grade``; deletions happen here only.
        for grade in queryset:
            audit(actor=request.user, action=Action.GRADE_CONFIG, obj=grade, detail={"change": "deleted"})
        return super().log_deletions(request, queryset)


@admin.register(GradeChange)
class GradeChangeAdmin(ReadOnlyAdmin):
    """Read-only: the grade history is append-only."""

    list_display = ["customer", "from_grade", "to_grade", "changed_at", "changed_by", "owner"]
    list_select_related = ["customer", "from_grade", "to_grade", "changed_by", "owner"]
    list_filter = ["to_grade"]
    date_hierarchy = "changed_at"
    search_fields = ["customer__name"]


# --- Funnel management ------------------------------------------------------------------------


@admin.register(FunnelSettings)
class FunnelSettingsAdmin(SingletonAdmin):
    """One row: day counting, pool caps and waits. Saving re-times stagnation clocks
    when the day counting changes."""

    list_display = [
        "__str__",
        "day_count",
        "max_customers_per_salesperson",
        "claims_per_day",
        "reclaim_wait_days",
        "pool_warning_days",
        "grade_skip_rule",
        "concentration_share",
    ]

    def save_model(self, request, obj, form, change):
        services.save_funnel_settings(settings_row=obj, by=request.user)


@admin.register(StagnationAlert)
class StagnationAlertAdmin(ReadOnlyAdmin):
    list_display = [
        "customer",
        "grade",
        "owner",
        "stagnant_from",
        "raised_on",
        "closed_at",
        "close_reason",
        "snoozed_until",
    ]
    list_select_related = ["customer", "grade", "owner"]
    list_filter = ["grade", "close_reason"]
    date_hierarchy = "raised_on"
    search_fields = ["customer__name"]
    show_full_result_count = False


@admin.register(Reassignment)
class ReassignmentAdmin(ReadOnlyAdmin):
    list_display = ["customer", "kind", "from_owner", "to_owner", "by", "at", "forced"]
    list_select_related = ["customer", "from_owner", "to_owner", "by"]
    list_filter = ["kind", "forced"]
    date_hierarchy = "at"
    search_fields = ["customer__name", "reason"]
    show_full_result_count = False


@admin.register(HandoverTask)
class HandoverTaskAdmin(ReadOnlyAdmin):
    list_display = ["customer", "owner", "kind", "due_on", "status", "done_at", "done_via"]
    list_select_related = ["customer", "owner"]
    list_filter = ["status", "kind"]
    date_hierarchy = "due_on"
    search_fields = ["customer__name"]
    show_full_result_count = False


@admin.register(ConflictClaim)
class ConflictClaimAdmin(ReadOnlyAdmin):
    list_display = [
        "claimed_as",
        "claimant",
        "holder",
        "first_contact_on",
        "status",
        "created_at",
        "settled_by",
    ]
    list_select_related = ["claimant", "holder", "settled_by"]
    list_filter = ["status"]
    search_fields = ["claimed_as", "customer__name"]

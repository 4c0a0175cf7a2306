from django.contrib import admin

from .models import ActivityTarget, ForecastAdjustment, Target, WeeklyManagerReport, WeeklyRollup


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "period_kind",
        "period_start",
        "sales_amount",
        "gross_profit",
        "new_customers",
        "collections",
    ]
    list_filter = ["period_kind", "team"]
    raw_id_fields = ["owner", "split_from"]


@admin.register(ActivityTarget)
class ActivityTargetAdmin(admin.ModelAdmin):
    list_display = ["owner", "cadence", "calls", "visits", "new_customers"]
    list_filter = ["cadence"]
    raw_id_fields = ["owner"]


@admin.register(WeeklyRollup)
class WeeklyRollupAdmin(admin.ModelAdmin):
    """Read-only: rows come from the weekly task and ``backfill_rollups``."""

    list_display = ["salesperson", "week_start", "orders", "order_amount", "calls", "visits", "quota"]
    list_filter = ["week_start", "team"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WeeklyManagerReport)
class WeeklyManagerReportAdmin(admin.ModelAdmin):
    list_display = ["team", "week_start", "updated_by", "updated_at"]
    list_filter = ["team"]


@admin.register(ForecastAdjustment)
class ForecastAdjustmentAdmin(admin.ModelAdmin):
    """Read-only: managers adjust on the forecast page; the rows are never changed."""

    list_display = ["__str__", "period_kind", "period_start", "amount", "note", "created_by", "created_at"]
    list_filter = ["period_kind", "team"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

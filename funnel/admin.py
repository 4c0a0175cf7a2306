from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .models import Grade, GradeChange


@admin.register(Grade)
class GradeAdmin(SimpleHistoryAdmin):
    """Grades are configuration: the model's ``clean`` gives clear errors for bad
    probabilities or order, and saving re-times the stagnation clock when needed."""

    list_display = ["code", "name", "name_zh", "order", "kind", "probability", "stagnation_days",
                    "locked", "pool_return_days", "requires_decision_maker"]
    list_editable = []
    ordering = ["order"]

    def save_model(self, request, obj, form, change):
        services.save_grade(grade=obj, by=request.user)

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.customers.exists()


@admin.register(GradeChange)
class GradeChangeAdmin(admin.ModelAdmin):
    """Read-only: the grade history is append-only."""

    list_display = ["customer", "from_grade", "to_grade", "changed_at", "changed_by", "owner"]
    list_select_related = ["customer", "from_grade", "to_grade", "changed_by", "owner"]
    list_filter = ["to_grade"]
    date_hierarchy = "changed_at"
    search_fields = ["customer__name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

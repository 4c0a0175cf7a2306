from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import CrmSettings, Customer, ExportRecord, Tag, Team, User


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "manager"]
    list_select_related = ["parent", "manager"]
    search_fields = ["name"]
    autocomplete_fields = ["parent", "manager"]


@admin.register(User)
class FunnelUserAdmin(UserAdmin):
    list_display = ["username", "display_name", "role", "team", "hire_date", "is_active"]
    list_filter = ["role", "team", "is_active"]
    list_select_related = ["team"]
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("Sales organisation"), {"fields": ("role", "team", "hire_date")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (_("Sales organisation"), {"fields": ("role", "team", "hire_date")}),
    )


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    """Records are edited in the application (where the rules live); the admin is for
    looking up and for history. Deleting is not offered: archive instead."""

    list_display = ["name", "grade", "owner", "tier", "expected_value", "archived_at"]
    list_select_related = ["grade", "owner"]
    list_filter = ["grade", "tier", "source"]
    search_fields = ["name", "phone", "email"]
    readonly_fields = [field.name for field in Customer._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(CrmSettings)
class CrmSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "salespeople_may_export", "export_row_cap", "won_on_order"]

    def has_add_permission(self, request):
        return not CrmSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExportRecord)
class ExportRecordAdmin(admin.ModelAdmin):
    """Append-only audit of exports."""

    list_display = ["created_at", "user", "kind", "file_format", "row_count"]
    list_select_related = ["user"]
    list_filter = ["kind", "file_format"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

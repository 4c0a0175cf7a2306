import json

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from core.audit import Action, audit
from core.models import SecurityEvent

from . import services
from .exporting import table_response
from .models import CrmSettings, Customer, ExportRecord, LifecycleChange, Tag, Team, User


class AuditedAdminMixin:
    """Adds, changes (password changes included) and deletions made in the admin also
    go to the security audit log, in the admin's transaction, with Django's own
    description of what changed."""

    audit_action: str

    def log_addition(self, request, obj, message):
        audit(actor=request.user, action=self.audit_action, obj=obj, detail={"change": "added"})
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit(
            actor=request.user,
            action=self.audit_action,
            obj=obj,
            detail={"change": "changed", "message": str(message)},
        )
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            audit(actor=request.user, action=self.audit_action, obj=obj, detail={"change": "deleted"})
        return super().log_deletions(request, queryset)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Append-only records: looked up in the admin, written only by the services,
    where the rules live."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SingletonAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """A one-row settings model: no second row, no deletion, every change audited."""

    audit_action = Action.SETTINGS_CHANGED

    def has_add_permission(self, request):
        return not self.model.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_action = Action.TEAM_CHANGED
    list_display = ["name", "parent", "manager"]
    list_select_related = ["parent", "manager"]
    search_fields = ["name"]
    autocomplete_fields = ["parent", "manager"]


class FunnelUserChangeForm(UserChangeForm):
    """Unticking "active" is refused while the user still owns live customers."""

    def clean_is_active(self):
        is_active = self.cleaned_data.get("is_active")
        if self.instance.pk and self.instance.is_active and not is_active:
            services.ensure_may_deactivate(self.instance)
        return is_active


@admin.register(User)
class FunnelUserAdmin(AuditedAdminMixin, UserAdmin):
    audit_action = Action.USER_CHANGED
    form = FunnelUserChangeForm
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

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            obj.auth_token_set.all().delete()  # access ends: API tokens (config.ApiToken) too


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
    actions = ["purge_selected"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Purge selected archived customers (past the retention period)"))
    def purge_selected(self, request, queryset):
        purged, refused = 0, []
        for customer in queryset:
            try:
                services.purge_customer(customer=customer, by=request.user)
            except ValidationError as error:
                refused.append(f"{customer}: {' '.join(error.messages)}")
            else:
                purged += 1
        if purged:
            message = ngettext("%d customer purged.", "%d customers purged.", purged) % purged
            self.message_user(request, message, messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(CrmSettings)
class CrmSettingsAdmin(SingletonAdmin):
    list_display = ["__str__", "salespeople_may_export", "export_row_cap", "won_on_order"]


@admin.register(LifecycleChange)
class LifecycleChangeAdmin(ReadOnlyAdmin):
    """Append-only history of lifecycle stages (the services write it)."""

    list_display = ["changed_at", "customer", "from_stage", "to_stage", "reason"]
    list_select_related = ["customer"]
    list_filter = ["to_stage", "reason"]
    date_hierarchy = "changed_at"
    raw_id_fields = ["customer"]


@admin.register(ExportRecord)
class ExportRecordAdmin(ReadOnlyAdmin):
    """Append-only audit of exports."""

    list_display = ["created_at", "user", "kind", "file_format", "row_count"]
    list_select_related = ["user"]
    list_filter = ["kind", "file_format"]
    date_hierarchy = "created_at"


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """The security audit log: admins browse, filter and export it; nobody adds,
    changes or deletes a row (the model refuses too)."""

    list_display = ["created_at", "username", "ip", "action", "outcome", "object_type", "object_repr"]
    list_filter = ["action", "outcome", "object_type", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["username", "ip", "object_id", "object_repr"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["export_csv"]
    EXPORT_COLUMNS = (
        "created_at",
        "username",
        "ip",
        "action",
        "outcome",
        "object_type",
        "object_id",
        "object_repr",
        "detail",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Export selected events (CSV)"))
    def export_csv(self, request, queryset):
        rows = [
            [
                *(getattr(event, column) for column in self.EXPORT_COLUMNS[:-1]),
                json.dumps(event.detail, ensure_ascii=False, sort_keys=True),
            ]
            for event in queryset
        ]
        audit(
            actor=request.user,
            action=Action.EXPORT,
            detail={"kind": "security_events", "file_format": "csv", "rows": len(rows)},
        )
        return table_response(
            headers=self.EXPORT_COLUMNS, rows=rows, file_format="csv", filename="security-events"
        )

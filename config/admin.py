"""Admin for the API tokens: admins see who holds tokens and revoke them (never their keys)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import ApiToken
from .tokens import revoke_token


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "created", "expiry"]
    list_select_related = ["user"]
    list_filter = ["user__role", "user__team"]
    search_fields = ["user__username", "name"]
    fields = ["user", "name", "created", "expiry"]
    readonly_fields = fields
    actions = ["revoke_selected"]

    def has_add_permission(self, request):
        return False  # tokens are issued by their owner (security page, token endpoint)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: it writes the audit row

    @admin.action(description=_("Revoke selected API tokens"), permissions=["view"])
    def revoke_selected(self, request, queryset):
        tokens = list(queryset.select_related("user"))
        for token in tokens:
            revoke_token(token=token, by=request.user, reason="admin")
        self.message_user(
            request,
            ngettext("%d API token revoked.", "%d API tokens revoked.", len(tokens)) % len(tokens),
            messages.SUCCESS,
        )

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Team, User


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

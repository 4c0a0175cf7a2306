"""Filters of the funnel-management lists, shared by the pages and the API."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Grade
from crm.filters import IdFilter
from crm.models import Tier, User

from .models import ConflictStatus, HandoverStatus


def _owners(request):
    if request is None:
        return User.objects.none()
    return User.objects.visible_to(request.user).order_by("username")


def _open_grades(request):
    return Grade.objects.open().order_by("order")


class PoolFilter(django_filters.FilterSet):
    """The public pool: grade, tier, region and a name / industry search."""

    search = django_filters.CharFilter(
        method="filter_search", label=_("Search"), help_text=_("Name or industry")
    )
    grade = django_filters.ModelChoiceFilter(queryset=_open_grades, label=_("Grade"))
    tier = django_filters.ChoiceFilter(choices=Tier.choices, label=_("Tier"))
    region = django_filters.CharFilter(field_name="region", lookup_expr="icontains", label=_("Region"))
    ordering = django_filters.OrderingFilter(
        fields=(
            ("name", "name"),
            ("grade__order", "grade"),
            ("tier", "tier"),
            ("region", "region"),
            ("expected_value", "expected_value"),
            ("pooled_at", "pooled_at"),
        ),
        label=_("Sort"),
    )

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(industry__icontains=value))


class AlertFilter(django_filters.FilterSet):
    """Owner, grade, and which open alerts: to act on, snoozed, or all (every stuck
    customer, as the funnel counts them; the API's default, the page's is "to act on")."""

    TO_ACT_ON, SNOOZED, ALL = "to_act_on", "snoozed", "all"

    owner = django_filters.ModelChoiceFilter(field_name="customer__owner", queryset=_owners, label=_("Owner"))
    grade = django_filters.ModelChoiceFilter(queryset=_open_grades, label=_("Grade"))
    state = django_filters.ChoiceFilter(
        choices=[(TO_ACT_ON, _("To act on")), (SNOOZED, _("Snoozed")), (ALL, _("All stuck customers"))],
        method="filter_state",
        label=_("Show"),
        empty_label=None,
    )

    def filter_state(self, queryset, name, value):
        today = timezone.localdate()
        if value == self.TO_ACT_ON:
            return queryset.to_act_on(today)
        if value == self.SNOOZED:
            return queryset.snoozed(today)
        return queryset


class HandoverTaskFilter(django_filters.FilterSet):
    owner = django_filters.ModelChoiceFilter(queryset=_owners, label=_("New owner"))
    status = django_filters.ChoiceFilter(choices=HandoverStatus.choices, label=_("Status"))
    customer = IdFilter(field_name="customer_id", label=_("Customer"))


class ConflictFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ConflictStatus.choices, label=_("Status"))

"""Filters of the activity, plan and report lists, shared by the pages and the API."""

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.filters import IdFilter
from crm.models import User

from .models import (
    Activity,
    ActivityKind,
    DailyPlan,
    DailyReport,
    MarketReport,
    MarketReportKind,
    PlanState,
    Purpose,
    ReportState,
)


def _people(request):
    """The owner dropdown lists only colleagues the viewer may see."""
    if request is None:
        return User.objects.none()
    return User.objects.visible_to(request.user).order_by("username")


class ActivityFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ActivityKind.choices, label=_("Channel"))
    purpose = django_filters.ChoiceFilter(choices=Purpose.choices, label=_("Purpose"))
    owner = django_filters.ModelChoiceFilter(queryset=_people, label=_("Salesperson"))
    customer = IdFilter(field_name="customer_id", label=_("Customer id"))
    effective = django_filters.BooleanFilter(label=_("Effective"))
    date_from = django_filters.DateFilter(field_name="started_at", lookup_expr="date__gte", label=_("From"))
    date_to = django_filters.DateFilter(field_name="started_at", lookup_expr="date__lte", label=_("To"))
    ordering = django_filters.OrderingFilter(
        fields=(
            ("started_at", "started_at"),
            ("customer__name", "customer"),
            ("kind", "kind"),
            ("owner__username", "owner"),
        ),
        label=_("Sort"),
    )

    class Meta:
        model = Activity
        fields = ["kind", "purpose", "owner", "customer", "effective", "date_from", "date_to"]


class DailyPlanFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=PlanState.choices, label=_("State"))
    owner = django_filters.ModelChoiceFilter(queryset=_people, label=_("Salesperson"))
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte", label=_("From"))
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte", label=_("To"))

    class Meta:
        model = DailyPlan
        fields = ["date", "state", "owner", "date_from", "date_to"]


class DailyReportFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=ReportState.choices, label=_("State"))
    owner = django_filters.ModelChoiceFilter(queryset=_people, label=_("Salesperson"))
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte", label=_("From"))
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte", label=_("To"))

    class Meta:
        model = DailyReport
        fields = ["date", "state", "owner", "is_late", "date_from", "date_to"]


class MarketReportFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=MarketReportKind.choices, label=_("Kind"))
    owner = django_filters.ModelChoiceFilter(queryset=_people, label=_("Reported by"))
    # By bare id: an id that does not exist and one out of sight answer alike (IdFilterSet).
    customer = IdFilter(field_name="customer_id", label=_("Customer id"))

    class Meta:
        model = MarketReport
        fields = ["kind", "owner", "customer"]

"""Filters of the visits API (the rows are already limited to what the caller may see)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.filters import IdFilter

from .. import selectors
from ..models import LocationStatus, Visit


class VisitFilter(django_filters.FilterSet):
    owner = IdFilter(field_name="owner_id", label=_("Salesperson"))
    customer = IdFilter(field_name="customer_id", label=_("Customer id"))
    date = django_filters.DateFilter(method="checked_in_on", label=_("Date"))
    far_from_customer = django_filters.BooleanFilter(label=_("Far from the customer"))
    check_in_status = django_filters.ChoiceFilter(
        choices=LocationStatus.choices, label=_("Check-in location")
    )

    class Meta:
        model = Visit
        fields = ["owner", "customer", "date", "far_from_customer", "check_in_status"]

    def checked_in_on(self, queryset, name, value):
        return selectors.visits_on(queryset, value)

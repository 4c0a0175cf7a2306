"""The customer list's filters, shared by the page, its export and the API."""

import django_filters
from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field

from .models import Customer, Lifecycle, Source, Tier, User, stuck_q
from .selectors import customer_ids_matching
from .services import BULK_LIMIT

# The largest value a 64-bit database key (SQLite's INTEGER, PostgreSQL's bigint) holds.
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A row id in the query string: a whole number a key can hold, else a 400. (A
    decimal filter passed any number on, and SQLite's driver failed on a huge one.)"""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


class IdFilterSet(django_filters.FilterSet):
    """A FilterSet whose generated foreign-key filters (``filterset_fields``,
    ``Meta.fields``) take a bare id and never look the row up.

    django-filter's default looks the id up among *all* rows of the related table: an
    id that does not exist answered 400 "Select a valid choice", one of a row the user
    may not see an empty list — telling which ids exist. Here both give the same empty
    list, as the rows themselves are already limited to what the user may see.
    (Declared ``ModelChoiceFilter``s over visible rows, e.g. an owner dropdown, answer
    the same 400 for both.)
    """

    FILTER_DEFAULTS = {
        **django_filters.filterset.FILTER_FOR_DBFIELD_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
    }


class CustomerIdsField(forms.Field):
    """Customers picked by id, the parameter repeated (``customer=1&customer=2``, as the
    list's checkboxes send them): whole numbers a key holds, at most ``BULK_LIMIT``."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        values = list(value or [])
        if len(values) > BULK_LIMIT:
            raise forms.ValidationError(
                _("Pick at most %(limit)d customers at once.") % {"limit": BULK_LIMIT}, code="too_many"
            )
        one = forms.IntegerField(min_value=1, max_value=MAX_ID)
        return sorted({one.clean(item) for item in values})


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "integer", "minimum": 1},
        "maxItems": BULK_LIMIT,
        "description": "Only these customers (the parameter repeated).",
    }
)
class CustomerIdsFilter(django_filters.Filter):
    """Only the customers picked (none picked: no filter)."""

    field_class = CustomerIdsField

    def filter(self, qs, value):
        return qs.filter(pk__in=value) if value else qs


class FilterBackend(DjangoFilterBackend):
    """The API's filter backend (``DEFAULT_FILTER_BACKENDS``): ``filterset_fields``
    become an ``IdFilterSet``."""

    filterset_base = IdFilterSet


def _owners(request):
    """The owners one may filter by. Only what their names need is read: an admin's list
    builds 200 of them on every request."""
    if request is None:
        return User.objects.none()
    return (
        User.objects.visible_to(request.user)
        .filter(is_active=True)
        .order_by("username")
        .only("pk", "username", "first_name", "last_name")
    )


class StableOrderingFilter(django_filters.OrderingFilter):
    """Rows that tie on the chosen column (the same grade, the same day) keep one order
    from page to page: the id breaks the tie."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        return qs.order_by(*qs.query.order_by, "pk") if value else qs


class CustomerFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", label=_("Search"), help_text=_("Name, contact name or phone")
    )
    tier = django_filters.ChoiceFilter(choices=Tier.choices, label=_("Tier"))
    source = django_filters.ChoiceFilter(choices=Source.choices, label=_("Source"))
    lifecycle = django_filters.ChoiceFilter(choices=Lifecycle.choices, label=_("Lifecycle"))
    owner = django_filters.ModelChoiceFilter(queryset=_owners, label=_("Owner"))
    tag = django_filters.CharFilter(field_name="tags__name", label=_("Tag"))
    stagnant = django_filters.BooleanFilter(method="filter_stagnant", label=_("Stagnant only"))
    archived = django_filters.BooleanFilter(method="filter_archived", label=_("Archived"))
    customer = CustomerIdsFilter(label=_("Customers"))
    ordering = StableOrderingFilter(
        fields=(
            ("name", "name"),
            ("grade__order", "grade"),
            ("grade_entered_at", "grade_entered_at"),
            ("tier", "tier"),
            ("owner__username", "owner"),
            ("expected_value", "expected_value"),
            ("weighted_value", "weighted_value"),
            ("last_activity_at", "last_activity"),
            ("next_follow_up_on", "next_follow_up"),
            ("created_at", "created"),
        ),
        label=_("Sort"),
    )

    class Meta:
        model = Customer
        # "grade" is generated from the model's foreign key (choices: the configured grades).
        fields = [
            "search",
            "grade",
            "tier",
            "lifecycle",
            "source",
            "owner",
            "tag",
            "stagnant",
            "archived",
            "customer",
        ]

    @property
    def qs(self):
        queryset = super().qs
        # Archived customers stay out of the list unless asked for.
        if getattr(self.form, "cleaned_data", {}).get("archived") is None:
            queryset = queryset.filter(archived_at__isnull=True)
        return queryset

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # The same matching as the navbar's quick search.
        return queryset.filter(pk__in=customer_ids_matching(value, getattr(self.request, "user", None)))

    def filter_stagnant(self, queryset, name, value):
        if value is None:
            return queryset
        stuck = stuck_q(timezone.now())
        return queryset.filter(stuck) if value else queryset.exclude(stuck)

    def filter_archived(self, queryset, name, value):
        return queryset.filter(archived_at__isnull=not value)

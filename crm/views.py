"""Customer pages. Thin: a selector reads, a form validates, one service writes."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import naturalday
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.forms import ModelChoiceField, TextInput
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import dateformat
from django.utils.formats import get_format
from django.utils.timezone import template_localtime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import ListView

from core.replicas import ReplicaReadsMixin

from . import extensions, selectors, services
from .exporting import export_response
from .filters import CustomerFilter
from .forms import (
    BulkTierForm,
    ContactForm,
    CustomerCreateForm,
    CustomerForm,
    MergeForm,
    ProbabilityOverrideForm,
    apply_service_errors,
)
from .links import url_for_pk
from .models import Contact, Lifecycle, Tier
from .pagination import CappedCountPaginator
from .permissions import can_export
from .templatetags.contact_links import tel_href
from .templatetags.formatting import grade_badge, money


class CustomerListView(ListView):
    template_name = "crm/customer_list.html"
    paginate_by = 50
    context_object_name = "customers"

    def get_queryset(self):
        self.filterset = CustomerFilter(
            self.request.GET, request=self.request, queryset=selectors.customers_visible_to(self.request.user)
        )
        queryset = self.filterset.qs
        if not self.request.GET.get("ordering"):
            queryset = queryset.order_by("name", "pk")
        return queryset

    def get_paginator(self, queryset, per_page, **kwargs):
        return CappedCountPaginator(
            queryset, per_page, page_number=self.request.GET.get(self.page_kwarg), **kwargs
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        show_owner = not self.request.user.is_salesperson
        customers = list(context["customers"])
        context.update(
            customers=customers,
            rows=_rows(customers, show_owner=show_owner),
            filterset=self.filterset,
            filter_fields=_filter_fields(self.filterset.form, show_owner=show_owner),
            query_string=query.urlencode(),
            # The settings row is read only if the rule needs it (for salespeople).
            can_export=can_export(self.request.user),
            show_owner=show_owner,
            tiers=Tier.choices,
        )
        return context


class CustomerBulkTierView(View):
    """The list's bulk "change tier" (POST): the ticked customers, or every one the
    list's filter (this URL's query string) matches; back to the list with what was
    done. Only the caller's visible live customers change (``bulk_change_tier``)."""

    def post(self, request):
        back = HttpResponseRedirect(f"{reverse('crm:customer-list')}?{request.GET.urlencode()}")
        form = BulkTierForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, errors[0])
            return back
        data = form.cleaned_data
        visible = selectors.customers_visible_to(request.user)
        if data["all_matching"]:
            filterset = CustomerFilter(request.GET, request=request, queryset=visible)
            if not filterset.is_valid():
                messages.error(request, _("The filter is not valid; filter the list again."))
                return back
            customers, requested = filterset.qs, None
        else:
            customers, requested = visible.filter(pk__in=data["customer"]), len(data["customer"])
        try:
            result = services.bulk_change_tier(
                customers=customers, tier=data["tier"], by=request.user, requested=requested
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
            return back
        tier = Tier(data["tier"]).label
        messages.success(
            request,
            ngettext(
                "Tier set to %(tier)s for %(count)d customer.",
                "Tier set to %(tier)s for %(count)d customers.",
                result.changed,
            )
            % {"tier": tier, "count": result.changed},
        )
        if result.skipped:
            messages.warning(
                request,
                ngettext(
                    "%(count)d customer was not changed: it is archived or not yours to edit.",
                    "%(count)d customers were not changed: they are archived or not yours to edit.",
                    result.skipped,
                )
                % {"count": result.skipped},
            )
        return back


def _filter_fields(form, *, show_owner: bool) -> list[tuple]:
    """(bound field, its options or None for a text box) for the list's filter bar; an
    option is (value, label, selected), written by ``{% select_options %}``.

    The options are read and marked here, once: a model field's own choice iterator
    opens a server-side cursor on PostgreSQL (three round trips), and the template loop
    over an admin's 200 owners cost milliseconds."""
    hidden = {"search", "ordering", "archived", "customer"} | (set() if show_owner else {"owner"})
    return [
        (field, None if isinstance(field.field.widget, TextInput) else _options(field))
        for field in form
        if field.name not in hidden
    ]


def _options(field) -> list[tuple]:
    chosen = str(field.value())
    values_and_labels = [(str(value), label) for value, label in _choices(field.field)]
    return [(value, label, value == chosen) for value, label in values_and_labels]


def _choices(field) -> list[tuple]:
    if not isinstance(field, ModelChoiceField):
        return list(field.widget.choices)
    empty = [("", field.empty_label)] if field.empty_label is not None else []
    return empty + [(field.prepare_value(row), field.label_from_instance(row)) for row in field.queryset]


def _rows(customers: list, *, show_owner: bool) -> list[dict]:
    """Each row's link and formatted cells, computed in Python once per page and once per
    grade or calendar day: the same tags and filters applied row by row through the
    template engine cost most of the list's CPU time. Plain dicts, as the template reads
    a dict's keys faster than a model's attributes."""
    detail_url = url_for_pk("crm:customer-detail")
    tiers = {value: str(label) for value, label in Tier.choices}
    stages = {value: str(label) for value, label in Lifecycle.choices}
    badges, natural_days, short_dates = {}, {}, {}
    rows = []
    for customer in customers:
        if customer.grade_id not in badges:
            badges[customer.grade_id] = grade_badge(customer.grade)
        row = {
            "pk": customer.pk,
            "url": detail_url(customer.pk),
            "name": customer.name,
            "archived": customer.archived_at is not None,
            "grade": badges[customer.grade_id],
            "stagnant": customer.is_stagnant,
            "days_in_grade": customer.days_in_grade,
            "tier": tiers.get(customer.tier, customer.tier),
            "lifecycle": stages.get(customer.lifecycle, customer.lifecycle),
            "expected_value": money(customer.expected_value),
            "weighted_value": money(customer.weighted_value),
        }
        if show_owner:
            row["owner"] = customer.owner.display_name if customer.owner else None
        if customer.last_activity_at:
            last_activity = template_localtime(customer.last_activity_at)
            row["last_activity_iso"] = last_activity.isoformat()  # the date filter's "c"
            day = last_activity.date()
            if day not in natural_days:
                natural_days[day] = naturalday(last_activity)
            row["last_activity_day"] = natural_days[day]
        follow_up = customer.next_follow_up_on
        if follow_up not in short_dates:
            short_dates[follow_up] = date_filter(follow_up, "SHORT_DATE_FORMAT") or "—"
        row["next_follow_up"] = short_dates[follow_up]
        rows.append(row)
    return rows


EXPORT_HEADERS = [
    _("Name"),
    _("Grade"),
    _("Days in grade"),
    _("Tier"),
    _("Owner"),
    _("Expected yearly value"),
    _("Probability (%)"),
    _("Weighted value"),
    _("Industry"),
    _("Region"),
    _("Source"),
    _("Phone"),
    _("E-mail"),
    _("Last activity"),
    _("Next follow-up"),
    _("Lifecycle"),
]


class CustomerExportView(ReplicaReadsMixin, View):
    """The filtered list as CSV/Excel: only visible rows, capped, and always recorded."""

    def get(self, request):
        filterset = CustomerFilter(
            request.GET, request=request, queryset=selectors.customers_visible_to(request.user)
        )
        return export_response(
            request,
            kind="customers",
            queryset=filterset.qs.order_by("name", "pk"),
            headers=EXPORT_HEADERS,
            row=lambda c: [
                c.name,
                c.grade.code,
                c.days_in_grade,
                c.get_tier_display(),
                c.owner.display_name if c.owner else "",
                c.expected_value,
                c.probability,
                c.weighted_value,
                c.industry,
                c.region,
                c.get_source_display(),
                c.phone,
                c.email,
                c.last_activity_at,
                c.next_follow_up_on,
                c.get_lifecycle_display(),
            ],
        )


CONTACT_EXPORT_HEADERS = [
    _("Customer"),
    _("Name"),
    _("Title"),
    _("Key-person role"),
    _("Phone"),
    _("E-mail"),
    _("WeChat"),
    _("Owner"),
]


class ContactExportView(ReplicaReadsMixin, View):
    """Contacts of the filtered customer list (same filters, same policy, same helper)."""

    def get(self, request):
        filterset = CustomerFilter(
            request.GET, request=request, queryset=selectors.customers_visible_to(request.user)
        )
        contacts = (
            selectors.contacts_visible_to(request.user)
            .filter(customer__in=filterset.qs.values("pk"))
            .order_by("customer__name", "name", "pk")
        )
        return export_response(
            request,
            kind="contacts",
            queryset=contacts,
            headers=CONTACT_EXPORT_HEADERS,
            row=lambda c: [
                c.customer.name,
                c.name,
                c.title,
                c.get_role_display(),
                c.phone,
                c.email,
                c.wechat,
                c.customer.owner.display_name if c.customer.owner else "",
            ],
        )


class CustomerCreateView(View):
    template_name = "crm/customer_form.html"

    def get(self, request):
        return render(request, self.template_name, {"form": CustomerCreateForm(user=request.user)})

    def post(self, request):
        form = CustomerCreateForm(request.POST, user=request.user)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                customer = services.create_customer(by=request.user, **data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
                return redirect("crm:customer-detail", pk=customer.pk)
        return render(request, self.template_name, {"form": form}, status=400)


def render_customer_page(request, pk, *, override_form=None, status=200):
    """The customer page; a bound form with errors is shown in place (status 400)."""
    customer = selectors.customer_for_detail(request.user, pk)
    panels = []
    for panel in extensions.customer_panels():
        panel_context = panel.context(request, customer)
        if panel_context is not None:
            panels.append({"panel": panel, "context": panel_context})
    history = selectors.customer_history(customer)
    return render(
        request,
        "crm/customer_detail.html",
        {
            "customer": customer,
            "decision_maker_gap": selectors.has_decision_maker_gap(customer),
            "lifecycle_was": Lifecycle(customer.lifecycle_was).label if customer.lifecycle_was else "",
            "timeline": _timeline_rows(selectors.customer_timeline(customer, history)),
            "history": history,
            "action_panels": [p for p in panels if p["panel"].column == "actions"],
            "main_panels": [p for p in panels if p["panel"].column == "main"],
            "side_panels": [p for p in panels if p["panel"].column == "side"],
            "override_form": override_form
            or ProbabilityOverrideForm(
                initial={
                    "probability": customer.probability_override,
                    "reason": customer.probability_override_reason,
                }
            ),
            "can_manage": request.user.is_manager_or_admin,
        },
        status=status,
    )


@dataclass(frozen=True)
class TimelineRow(extensions.TimelineEntry):
    """A timeline entry with its cells formatted for the page."""

    iso: str = ""  # the date filter's "c"
    when: str = ""
    detail_html: str = ""


def _timeline_rows(entries: list[extensions.TimelineEntry]) -> list[TimelineRow]:
    """The timeline's cells formatted in Python once per page: two date filters and a
    line-break filter on each of fifty-odd entries cost the template engine milliseconds."""
    short_datetime = get_format("SHORT_DATETIME_FORMAT")
    rows = []
    for entry in entries:
        at = template_localtime(entry.at)
        rows.append(
            TimelineRow(
                **vars(entry),
                iso=at.isoformat(),
                when=dateformat.format(at, short_datetime),
                detail_html=linebreaksbr(entry.detail) if entry.detail else "",
            )
        )
    return rows


class CustomerDetailView(View):
    def get(self, request, pk):
        return render_customer_page(request, pk)


class CustomerUpdateView(View):
    template_name = "crm/customer_form.html"

    def get(self, request, pk):
        customer = _live_visible_customer(request, pk)
        return render(
            request, self.template_name, {"form": CustomerForm(instance=customer), "customer": customer}
        )

    def post(self, request, pk):
        customer = _live_visible_customer(request, pk)
        form = CustomerForm(request.POST, instance=customer)
        if form.is_valid():
            data = {field: form.cleaned_data[field] for field in services.CUSTOMER_EDITABLE_FIELDS}
            try:
                services.update_customer(
                    customer=customer, by=request.user, tags=form.cleaned_data["tags"], **data
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("crm:customer-detail", pk=customer.pk)
        return render(request, self.template_name, {"form": form, "customer": customer}, status=400)


def _visible_customer(request, pk):
    return get_object_or_404(selectors.customers_visible_to(request.user), pk=pk)


def _live_visible_customer(request, pk):
    """Editing needs a live customer: an archived one answers 404 here (restore first)."""
    return get_object_or_404(selectors.customers_visible_to(request.user).filter(archived_at=None), pk=pk)


class CustomerArchiveView(View):
    def post(self, request, pk):
        customer = _visible_customer(request, pk)
        services.archive_customer(customer=customer, by=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, _("%(name)s archived. A manager can restore it.") % {"name": customer.name})
        return redirect("crm:customer-list")


class CustomerRestoreView(View):
    def post(self, request, pk):
        customer = _visible_customer(request, pk)
        if not request.user.is_manager_or_admin:
            raise PermissionDenied
        try:
            services.restore_customer(customer=customer, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("%(name)s restored.") % {"name": customer.name})
        return redirect("crm:customer-detail", pk=customer.pk)


class ProbabilityOverrideView(View):
    def post(self, request, pk):
        customer = _visible_customer(request, pk)
        form = ProbabilityOverrideForm(request.POST)
        if form.is_valid():
            try:
                services.set_probability_override(
                    customer=customer,
                    by=request.user,
                    probability=form.cleaned_data["probability"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Probability updated."))
                return redirect("crm:customer-detail", pk=customer.pk)
        return render_customer_page(request, customer.pk, override_form=form, status=400)


class CustomerMergeView(View):
    """Managers and admins merge a duplicate (among customers they can see) into this one."""

    template_name = "crm/customer_merge.html"

    def _setup(self, request, pk):
        if not request.user.is_manager_or_admin:
            raise PermissionDenied
        customer = _live_visible_customer(request, pk)
        candidates = selectors.customers_visible_to(request.user).filter(archived_at=None).exclude(pk=pk)
        # Candidates come from a search (at most 50), never a list of every customer.
        search = request.GET.get("search", "").strip() or request.POST.get("search", "").strip()
        if not search:
            return customer, candidates.none(), search
        matches = candidates.filter(Q(name__icontains=search) | Q(phone_digits__contains=search))
        first_matches = list(matches.values_list("pk", flat=True)[:50])
        return customer, candidates.filter(pk__in=first_matches).order_by("name"), search

    def get(self, request, pk):
        customer, candidates, search = self._setup(request, pk)
        form = MergeForm(candidates=candidates)
        return render(request, self.template_name, {"customer": customer, "form": form, "search": search})

    def post(self, request, pk):
        customer, candidates, search = self._setup(request, pk)
        form = MergeForm(request.POST, candidates=candidates)
        if form.is_valid():
            try:
                services.merge_customers(keep=customer, merge=form.cleaned_data["other"], by=request.user)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Customers merged."))
                return redirect("crm:customer-detail", pk=customer.pk)
        return render(
            request, self.template_name, {"customer": customer, "form": form, "search": search}, status=400
        )


class ContactFormView(View):
    template_name = "crm/contact_form.html"

    def _objects(self, request, pk, contact_pk=None):
        customer = _live_visible_customer(request, pk)
        contact = get_object_or_404(Contact, pk=contact_pk, customer=customer) if contact_pk else None
        return customer, contact

    def get(self, request, pk, contact_pk=None):
        customer, contact = self._objects(request, pk, contact_pk)
        return render(
            request,
            self.template_name,
            {"form": ContactForm(instance=contact), "customer": customer, "contact": contact},
        )

    def post(self, request, pk, contact_pk=None):
        customer, contact = self._objects(request, pk, contact_pk)
        form = ContactForm(request.POST, instance=contact)
        if form.is_valid():
            try:
                if contact is None:
                    services.create_contact(customer=customer, by=request.user, **form.cleaned_data)
                else:
                    services.update_contact(contact=contact, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Contact saved."))
                return HttpResponseRedirect(reverse("crm:customer-detail", args=[customer.pk]) + "#contacts")
        return render(
            request, self.template_name, {"form": form, "customer": customer, "contact": contact}, status=400
        )


# --- Quick search ------------------------------------------------------------------------


class QuickSearchView(View):
    """The navbar's customer search (``?q=``): under the search box as an htmx fragment
    (``HX-Request``), or as a page of its own (no JavaScript, or Enter pressed). Each
    customer comes with whom to call, a tap-to-call link and the registered actions
    ("Log call"). Two queries, whatever the data (``selectors.quick_search``)."""

    def get(self, request):
        query = selectors.clean_search_text(request.GET.get("q", ""))
        hits = selectors.quick_search(request.user, query)
        context = {
            "query": query,
            "rows": _search_rows(hits, show_owner=not request.user.is_salesperson),
            "too_short": len(query) < selectors.QUICK_SEARCH_MIN_LENGTH,
            "min_length": selectors.QUICK_SEARCH_MIN_LENGTH,
        }
        if request.headers.get("HX-Request") == "true":
            return render(request, "crm/_quick_search_results.html", context)
        return render(request, "crm/search.html", context)


def _search_rows(hits: list[selectors.QuickSearchHit], *, show_owner: bool) -> list[dict]:
    detail_url = url_for_pk("crm:customer-detail")
    actions = [
        (
            str(action.label),
            url_for_pk(action.view_name),
            f"?{action.query}" if action.query else "",
            action.key,
        )
        for action in extensions.search_actions()
    ]
    badges, pool = {}, _("Public pool")
    rows = []
    for hit in hits:
        customer = hit.customer
        if customer.grade_id not in badges:
            badges[customer.grade_id] = grade_badge(customer.grade)
        rows.append(
            {
                "url": detail_url(customer.pk),
                "name": customer.name,
                "grade": badges[customer.grade_id],
                "owner": (customer.owner.display_name if customer.owner else pool) if show_owner else "",
                "contact": hit.contact.name if hit.contact else "",
                "phone": hit.phone,
                "tel": tel_href(hit.phone),
                "actions": [
                    {"label": label, "url": url(customer.pk) + query, "key": key}
                    for label, url, query, key in actions
                ],
            }
        )
    return rows

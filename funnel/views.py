"""Funnel pages: change a customer's grade, record an order, the funnel summary."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from crm.selectors import customers_visible_to, users_visible_to
from crm.views import apply_service_errors

from . import selectors, services
from .forms import ChangeGradeForm, OrderForm


def _live_visible_customer(request, pk):
    return get_object_or_404(customers_visible_to(request.user).filter(archived_at=None), pk=pk)


class ChangeGradeView(View):
    def post(self, request, pk):
        customer = _live_visible_customer(request, pk)
        form = ChangeGradeForm(request.POST, customer=customer)
        if form.is_valid():
            try:
                services.change_grade(customer=customer, grade=form.cleaned_data["grade"], by=request.user,
                                      note=form.cleaned_data["note"])
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Grade changed to %(grade)s.") % {"grade": form.cleaned_data["grade"]})
        else:
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("crm:customer-detail", pk=customer.pk)


class RecordOrderView(View):
    template_name = "funnel/order_form.html"

    def get(self, request, pk):
        customer = _live_visible_customer(request, pk)
        form = OrderForm(initial={"signed_on": timezone.localdate()})
        return render(request, self.template_name, {"form": form, "customer": customer})

    def post(self, request, pk):
        customer = _live_visible_customer(request, pk)
        form = OrderForm(request.POST)
        if form.is_valid():
            try:
                services.record_order(customer=customer, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Order recorded."))
                return redirect("crm:customer-detail", pk=customer.pk)
        return render(request, self.template_name, {"form": form, "customer": customer}, status=400)


class FunnelSummaryView(View):
    """Count and weighted value per grade for what the viewer may see (optionally one owner)."""

    def get(self, request):
        owners = users_visible_to(request.user).filter(is_active=True)
        owner = None
        if request.GET.get("owner"):
            owner = get_object_or_404(owners, pk=request.GET["owner"])
        rows = selectors.funnel_summary(request.user, owner=owner)
        open_rows = [row for row in rows if row["grade"].is_open]
        return render(request, "funnel/summary.html", {
            "rows": rows,
            "owners": owners if not request.user.is_salesperson else [],
            "owner": owner,
            "total_count": sum(row["count"] for row in open_rows),
            "total_weighted": sum(row["weighted"] for row in open_rows),
        })

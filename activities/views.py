"""Pages of the daily routine. Thin: a selector reads, a form validates, one service writes.

htmx requests (``HX-Request: true``) get fragments that update the row in place;
every action also works as a plain POST that redirects (no JavaScript needed).
Validation errors answer 422 to htmx (swapped in place, see ``htmx-config`` in
``base.html``) and 400 to a plain form post; a forbidden action answers 403.
"""

import re
from collections.abc import Callable
from datetime import date
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, localize, time_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.generic import ListView

from crm import services as crm_services
from crm.forms import apply_service_errors
from crm.links import url_for_pk
from crm.models import Tier
from crm.selectors import customers_visible_to
from crm.templatetags.formatting import grade_badge
from funnel import selectors as funnel_selectors

from . import permissions, selectors, services
from .filters import ActivityFilter, MarketReportFilter
from .forms import (
    ActivityForm,
    DailyReportForm,
    DateForm,
    MarketReportForm,
    PlanAddForm,
    PlanItemForm,
    ReviewForm,
    quick_follow_up_dates,
)
from .models import ActivityKind, DailyPlan, DailyReport, PlanItem, PlanItemKind, Purpose
from .my_day_blocks import extra_blocks, target_progress

ROW_ID = re.compile(r"^[a-z]+-\d+$")


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def safe_next(request, default: str) -> str:
    """Where to go after a plain POST: the ``next`` the page asked for, if it is ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _parse_day(value: str | None, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Http404 from None


# --- My day -------------------------------------------------------------------------------


class MyDayView(View):
    """The start page: today's plan, follow-ups due (overdue first), cadence-due customers,
    handover tasks and alerts; for managers also what waits for their approval."""

    def get(self, request):
        day = selectors.my_day(request.user)
        # Each row's element id: the htmx form and the logged row replace exactly it.
        for item in day.plan.items.all() if day.plan else []:
            item.row_id = f"plan-{item.pk}"
        for prefix, customers in (("follow", day.follow_ups), ("cadence", day.cadence)):
            for customer in customers:
                customer.row_id = f"{prefix}-{customer.pk}"
        blocks = extra_blocks(request.user)
        _label_rows(request.user, quote(request.path), day, blocks)
        return render(
            request,
            "activities/my_day.html",
            {
                "day": day,
                "extra_blocks": blocks,
                "target_progress": target_progress(request.user, day.today),
                "can_review": request.user.is_manager_or_admin,
                **_plan_add_context(request.path),
            },
        )


def _plan_add_context(next_path: str) -> dict:
    """What each row's "Add to tomorrow's plan" posts to, and where it comes back."""
    return {"plan_add_url": reverse("activities:plan-add-customers"), "plan_add_next": next_path}


def _label_rows(user, next_path: str, day: selectors.MyDay, blocks: list[dict]) -> None:
    """Give each "my day" row its links and texts, made in Python once per page and once
    per grade, number of days or date: the same URL reversals, tags, filters and
    blocktranslates run row by row in the template (up to 50 rows a block) cost most of
    the page's time. Same strings, same translations as the template had."""
    texts = _RowTexts(next_path)
    for item in day.plan.items.all() if day.plan else []:
        texts.label(item, item.customer, purpose=item.purpose)
        item.time_text = texts.time_range(item.starts_at, item.ends_at)
        texts.check_in(item)
    for customer in day.follow_ups:
        texts.label(customer, customer)
        customer.overdue_text = texts.days_overdue(customer.days_overdue)
    for customer in day.cadence:
        texts.label(customer, customer)
        customer.last_call_text = texts.last_call(customer.last_call_at) if customer.call_due else ""
        customer.last_visit_text = texts.last_visit(customer.last_visit_at) if customer.visit_due else ""
    extra = {block["key"]: block["items"] for block in blocks}
    for task in extra["handover"]:
        texts.label(task, task.customer)
        task.overdue_text = texts.days_overdue(task.days_overdue)
        task.due_text = texts.due_on(task.due_on)
    for alert in extra["alerts"]:
        texts.label(alert, alert.customer)
        alert.stuck_text = texts.stuck(alert.customer.days_in_grade)
        alert.owner_name = alert.customer.owner.display_name if alert.customer.owner_id != user.pk else ""


def _my_day_live(request, customer, logged_row: str) -> dict:
    """What else changes on "my day" when a row logs an activity (swapped out of band):
    today's counts and targets, the due blocks' counts, and the other rows of the same
    customer the page shows (``rows``, sent by activities.js; ids of other customers'
    rows are ignored). Constant queries whatever the page holds."""
    user, today = request.user, timezone.localdate()
    wanted = {row for row in request.POST.getlist("rows") if ROW_ID.match(row) and row != logged_row}
    texts = _RowTexts(quote(reverse("home")))
    plan_rows = _live_plan_rows(user, customer, today, wanted, texts)
    due_rows, gone = _live_due_rows(customer, today, wanted, texts)
    due = {
        key: {"count": min(count, selectors.MY_DAY_ROWS), "more": count > selectors.MY_DAY_ROWS}
        for key, count in selectors.due_counts(user, today).items()
    }
    return {
        "live": True,
        "live_rows": plan_rows + due_rows,
        "due": due,
        "deleted_rows": gone + _done_task_rows(user, wanted),
        "counts": selectors.activity_counts(user, today),
        "target_progress": target_progress(user, today),
        **_plan_add_context(reverse("home")),
    }


def _live_plan_rows(user, customer, today: date, wanted: set[str], texts: "_RowTexts") -> list[dict]:
    """Today's plan items the page shows for the customer, as they are now (done)."""
    if not any(row.startswith("plan-") for row in wanted):
        return []
    plan = selectors.plan_with_items(user, today)
    rows = []
    for item in plan.items.all() if plan else []:
        item.row_id = f"plan-{item.pk}"
        if item.row_id in wanted and item.customer_id == customer.pk:
            texts.label(item, item.customer, purpose=item.purpose)
            item.time_text = texts.time_range(item.starts_at, item.ends_at)
            texts.check_in(item)
            rows.append({"block": "plan", "row": item, "customer": item.customer})
    return rows


def _live_due_rows(
    customer, today: date, wanted: set[str], texts: "_RowTexts"
) -> tuple[list[dict], list[str]]:
    """The customer's follow-up and cadence rows: updated while still due there, else gone."""
    rule = selectors.cadence_rules().get(customer.tier) if f"cadence-{customer.pk}" in wanted else None
    flags = selectors.cadence_flags(customer, rule) if rule else {}
    follow_up_due = customer.next_follow_up_on is not None and customer.next_follow_up_on <= today
    rows, gone = [], []
    for prefix, due in (("follow", follow_up_due), ("cadence", any(flags.values()))):
        row_id = f"{prefix}-{customer.pk}"
        if row_id not in wanted:
            continue
        if not due:
            gone.append(row_id)
            continue
        customer.row_id = row_id
        texts.label(customer, customer)
        if prefix == "follow":
            customer.overdue_text = texts.days_overdue((today - customer.next_follow_up_on).days)
        customer.call_due, customer.visit_due = flags.get("call_due"), flags.get("visit_due")
        customer.last_call_text = texts.last_call(customer.last_call_at) if customer.call_due else ""
        customer.last_visit_text = texts.last_visit(customer.last_visit_at) if customer.visit_due else ""
        rows.append({"block": prefix, "row": customer, "customer": customer})
    return rows, gone


def _done_task_rows(user, wanted: set[str]) -> list[str]:
    """The handover task rows the page shows whose task the activity completed."""
    tasks = {int(row.split("-")[1]): row for row in wanted if row.startswith("handover-")}
    if not tasks:
        return []
    open_ids = set(
        funnel_selectors.open_handover_tasks_for(user).filter(pk__in=tasks).values_list("pk", flat=True)
    )
    return [row for pk, row in tasks.items() if pk not in open_ids]


class _RowTexts:
    """The texts of "my day" rows, translated once per page and made once per value (a
    grade's badge, "3 days overdue"); the customer and log-activity links from one URL
    reversal per kind."""

    def __init__(self, next_path: str):
        self.next_path = next_path
        self.detail_url = url_for_pk("crm:customer-detail")
        self.log_url = url_for_pk("activities:log-activity")
        self.check_in_url = url_for_pk("activities:visit-check-in")
        self.visit_url = url_for_pk("activities:visit-detail")
        self.checked_in = _("Checked in %(time)s")
        self.tiers = {value: str(label) for value, label in Tier.choices}
        self.log_with = _("Log an activity with %(name)s")
        self.last_call_ago, self.never_called = _("last call %(when)s ago"), _("never called")
        self.last_visit_ago, self.never_visited = _("last visit %(when)s ago"), _("never visited")
        self.made: dict[tuple, str] = {}

    def _once(self, key: tuple, make: Callable[[], str]) -> str:
        if key not in self.made:
            self.made[key] = make()
        return self.made[key]

    def label(self, row, customer, purpose: str = "") -> None:
        """What every row shows: the customer's link, grade and tier, and "log call / visit"
        links that open the form in the row's slot and come back here."""
        customer.detail_url = self.detail_url(customer.pk)
        customer.grade_html = self._once(("grade", customer.grade_id), lambda: grade_badge(customer.grade))
        customer.tier_label = self.tiers.get(customer.tier, customer.tier)
        customer.log_label = self.log_with % {"name": customer.name}
        purpose = f"&purpose={purpose}" if purpose else ""
        call, visit = (f"{self.log_url(customer.pk)}?kind={kind}{purpose}" for kind in ("call", "visit"))
        back, in_row = f"&next={self.next_path}", f"&row={row.row_id}&next={self.next_path}"
        row.call_href, row.call_hx = call + back, call + in_row
        row.visit_href, row.visit_hx = visit + back, visit + in_row

    def check_in(self, item) -> None:
        """A planned visit: "Check in" (its check-in page), or "Checked in 10:32" linking to
        the visit once one fulfilled it (``selectors.plan_with_items`` annotates it)."""
        item.check_in_href = item.checked_in_href = item.checked_in_text = ""
        if item.check_in_visit_id:
            item.checked_in_href = self.visit_url(item.check_in_visit_id)
            item.checked_in_text = self.checked_in % {
                "time": time_format(timezone.localtime(item.checked_in_at), "H:i")
            }
        elif item.kind == PlanItemKind.VISIT:
            item.check_in_href = f"{self.check_in_url(item.customer_id)}?plan_item={item.pk}"

    @staticmethod
    def time_range(starts_at, ends_at) -> str:
        if not starts_at:
            return _("any time")
        start = time_format(starts_at, "H:i")
        return f"{start}–{time_format(ends_at, 'H:i')}" if ends_at else start

    def days_overdue(self, days: int) -> str:
        """ "3 days overdue", or "" when not overdue."""
        if days <= 0:
            return ""
        return self._once(
            ("overdue", days),
            lambda: (
                ngettext("%(days)s day overdue", "%(days)s days overdue", days) % {"days": localize(days)}
            ),
        )

    def due_on(self, day: date) -> str:
        return self._once(
            ("due", day), lambda: _("due %(date)s") % {"date": date_format(day, "SHORT_DATE_FORMAT")}
        )

    def stuck(self, days: int) -> str:
        return self._once(
            ("stuck", days),
            lambda: (
                ngettext("Stuck: %(days)s day in grade", "Stuck: %(days)s days in grade", days)
                % {"days": localize(days)}
            ),
        )

    def last_call(self, at) -> str:
        return self.last_call_ago % {"when": timesince(at)} if at else self.never_called

    def last_visit(self, at) -> str:
        return self.last_visit_ago % {"when": timesince(at)} if at else self.never_visited


# --- Activities ---------------------------------------------------------------------------


class ActivityListView(ListView):
    template_name = "activities/activity_list.html"
    paginate_by = 50
    context_object_name = "activities"

    def get_queryset(self):
        self.filterset = ActivityFilter(
            self.request.GET,
            request=self.request,
            queryset=selectors.activities_visible_to(self.request.user),
        )
        queryset = self.filterset.qs
        if not self.request.GET.get("ordering"):
            queryset = queryset.order_by("-started_at", "-pk")
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filterset=self.filterset,
            query_string=query.urlencode(),
            show_owner=not self.request.user.is_salesperson,
        )
        return context


class LogActivityView(View):
    """Log an activity for a customer: a full page, or (htmx) a short form inside the
    "my day" row that, once saved, replaces the row with its updated state."""

    full_template = "activities/activity_form.html"
    fragment_template = "activities/_log_form.html"

    def _setup(self, request, pk):
        customer = get_object_or_404(customers_visible_to(request.user).filter(archived_at=None), pk=pk)
        row = request.POST.get("row") or request.GET.get("row") or ""
        return customer, (row if ROW_ID.match(row) else f"customer-{customer.pk}")

    def _context(self, request, customer, form, row):
        return {
            "customer": customer,
            "form": form,
            "row": row,
            "quick_dates": quick_follow_up_dates(timezone.localdate()),
            "next": safe_next(request, reverse("crm:customer-detail", args=[customer.pk])),
        }

    def get(self, request, pk):
        customer, row = self._setup(request, pk)
        initial = {}
        if request.GET.get("kind") in ActivityKind.values:
            initial["kind"] = request.GET["kind"]
        if request.GET.get("purpose") in Purpose.values:
            initial["purpose"] = request.GET["purpose"]
        form = ActivityForm(customer=customer, initial=initial)
        template = self.fragment_template if is_htmx(request) else self.full_template
        return render(request, template, self._context(request, customer, form, row))

    def post(self, request, pk):
        customer, row = self._setup(request, pk)
        form = ActivityForm(request.POST, customer=customer)
        if form.is_valid():
            try:
                activity = services.log_activity(by=request.user, customer=customer, **form.service_kwargs())
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                return self._logged(request, customer, activity, row)
        context = self._context(request, customer, form, row)
        if is_htmx(request):
            response = render(request, self.fragment_template, context, status=422)
            response["HX-Retarget"] = f"#slot-{row}"
            response["HX-Reswap"] = "innerHTML"
            return response
        return render(request, self.full_template, context, status=400)

    def _logged(self, request, customer, activity, row):
        message = _("%(kind)s with %(name)s logged.") % {
            "kind": activity.get_kind_display(),
            "name": customer.name,
        }
        confirming_call_on = getattr(activity, "confirming_call_on", None)
        if confirming_call_on is not None:
            message += " " + _("Confirming call suggested for %(date)s, the next working day.") % {
                "date": f"{date_format(confirming_call_on, 'D')} {date_format(confirming_call_on)}"
            }
        if is_htmx(request):
            customer.refresh_from_db()
            context = {"customer": customer, "activity": activity, "row": row, "message": message}
            if request.POST.get("myday") == "1":
                context.update(_my_day_live(request, customer, row))
            return render(request, "activities/_logged_row.html", context)
        messages.success(request, message)
        return redirect(safe_next(request, reverse("crm:customer-detail", args=[customer.pk])))


# --- Plans & reports (the salesperson's side) --------------------------------------------------


class PlansView(View):
    """A salesperson's plans and reports: today's with their states, the recent ones, and
    a date picker to open the plan or report of another day."""

    def get(self, request):
        today = timezone.localdate()
        own = {"owner": request.user}
        plans = list(selectors.plans_visible_to(request.user).filter(**own).order_by("-date")[:30])
        reports = list(selectors.reports_visible_to(request.user).filter(**own).order_by("-date")[:30])
        return render(
            request,
            "activities/plans.html",
            {
                "today": today,
                "today_plan": next((p for p in plans if p.date == today), None),
                "today_report": next((r for r in reports if r.date == today), None),
                "plans": plans,
                "reports": reports,
                "date_form": DateForm(initial={"date": today}),
            },
        )


class OpenPlanView(View):
    def post(self, request):
        form = DateForm(request.POST)
        if form.is_valid():
            try:
                plan = services.open_plan(by=request.user, day=form.cleaned_data["date"])
            except ValidationError as error:
                messages.error(request, _error_text(error))
            else:
                return redirect("activities:plan-detail", pk=plan.pk)
        else:
            messages.error(request, _("Choose a date."))
        return redirect("activities:plans")


def _visible_plan(request, pk) -> DailyPlan:
    try:
        return selectors.plan_for_detail(request.user, pk)
    except DailyPlan.DoesNotExist:
        raise Http404 from None


def _visible_report(request, pk) -> DailyReport:
    try:
        return selectors.report_for_detail(request.user, pk)
    except DailyReport.DoesNotExist:
        raise Http404 from None


class PlanDetailView(View):
    template_name = "activities/plan_detail.html"

    def get(self, request, pk, item_form=None, status=200):
        plan = _visible_plan(request, pk)
        is_owner = permissions.is_owner(request.user, plan)
        editable = is_owner and plan.is_editable
        if item_form is None and editable:
            item_form = PlanItemForm(customers=_plannable_customers(request.user))
        return render(
            request,
            self.template_name,
            {
                "plan": plan,
                "is_owner": is_owner,
                "is_reviewer": permissions.is_reviewer_of(request.user, plan.owner),
                "review_form": ReviewForm(),
                **(_add_item_context(request, plan, item_form) if editable else {"item_form": None}),
            },
            status=status,
        )


def _plannable_customers(user):
    return customers_visible_to(user).filter(archived_at=None).order_by("name")


def _add_item_context(request, plan: DailyPlan, form: PlanItemForm) -> dict:
    """The "add a customer" form with its picker: the customers the search text (``q``)
    finds, or the due ones; the one already chosen (a form sent back) stays first."""
    q = request.GET.get("q", "")
    picker = selectors.plan_picker(request.user, plan, q=q)
    chosen = form.cleaned_data.get("customer") if form.is_bound and hasattr(form, "cleaned_data") else None
    if chosen is not None:
        chosen.default_purpose = selectors.default_purpose(chosen)
        picker = [chosen, *(customer for customer in picker if customer.pk != chosen.pk)]
    return {
        "item_form": form,
        "picker": picker,
        "picker_q": q,
        "chosen_id": chosen.pk if chosen else None,
        "plan": plan,
    }


class PlanPickerView(View):
    """The picker's rows for a search text (htmx, as the owner types)."""

    def get(self, request, pk):
        plan = _visible_plan(request, pk)
        if not permissions.is_owner(request.user, plan):
            raise PermissionDenied
        return render(
            request,
            "activities/_plan_picker.html",
            {
                "picker": selectors.plan_picker(request.user, plan, q=request.GET.get("q", "")),
                "picker_q": request.GET.get("q", ""),
                "plan": plan,
            },
        )


class AddPlanItemView(View):
    """Add one customer (time slot, purpose…) to the owner's plan. htmx: the items and a
    fresh form come back in place (no reload); a plain POST redirects to the plan."""

    def post(self, request, pk):
        plan = _visible_plan(request, pk)
        form = PlanItemForm(request.POST, customers=_plannable_customers(request.user))
        if form.is_valid():
            try:
                services.add_plan_item(plan=plan, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                message = _("%(name)s added to the plan.") % {"name": form.cleaned_data["customer"]}
                if is_htmx(request):
                    return self._items(request, plan.pk, message)
                messages.success(request, message)
                return redirect("activities:plan-detail", pk=plan.pk)
        if is_htmx(request):
            response = render(
                request,
                "activities/_plan_item_form.html",
                _add_item_context(request, _visible_plan(request, pk), form),
                status=422,
            )
            response["HX-Retarget"], response["HX-Reswap"] = "#plan-add", "outerHTML"
            return response
        return PlanDetailView().get(request, pk, item_form=form, status=400)

    @staticmethod
    def _items(request, pk: int, message: str):
        plan = _visible_plan(request, pk)
        fresh = PlanItemForm(customers=_plannable_customers(request.user))
        context = {"is_owner": True, "message": message, **_add_item_context(request, plan, fresh)}
        return render(request, "activities/_plan_items_added.html", context)


class PlanAddCustomersView(View):
    """One click: put customers on the user's plan of a day (tomorrow by default) — a
    "my day" row, the customer page, the customer list's selection. htmx gets a short
    status in place of the button (422 when refused); a plain POST goes back to
    ``next`` (else the plan) with a message."""

    def post(self, request):
        form = PlanAddForm(request.POST)
        if not form.is_valid():
            return self._refused(
                request, " ".join(str(error) for errors in form.errors.values() for error in errors)
            )
        day = form.cleaned_data["day"] or selectors.next_plan_day()
        try:
            result = services.add_customers_to_plan(
                by=request.user,
                customer_ids=form.cleaned_data["customer"],
                day=day,
                kind=form.cleaned_data["kind"] or PlanItemKind.VISIT,
            )
        except ValidationError as error:
            return self._refused(request, _error_text(error))
        message = plan_added_message(result)
        plan_url = reverse("activities:plan-detail", args=[result.plan.pk])
        if is_htmx(request):
            return render(request, "activities/_plan_added.html", {"message": message, "plan_url": plan_url})
        messages.success(request, message)
        return redirect(safe_next(request, plan_url))

    @staticmethod
    def _refused(request, text: str):
        if is_htmx(request):
            return render(request, "activities/_plan_added.html", {"error": text}, status=422)
        messages.error(request, text)
        return redirect(safe_next(request, reverse("activities:plans")))


def plan_added_message(result: services.PlanAddResult) -> str:
    """ "2 customers added to your plan for 8 Dec 2026. 1 was already on it." """
    when = date_format(result.plan.date, "DATE_FORMAT")
    added = len(result.added)
    if added == 1 and not result.already_planned:
        parts = [
            _("%(name)s added to your plan for %(date)s.")
            % {"name": result.added[0].customer.name, "date": when}
        ]
    elif added:
        parts = [
            ngettext(
                "%(count)s customer added to your plan for %(date)s.",
                "%(count)s customers added to your plan for %(date)s.",
                added,
            )
            % {"count": added, "date": when}
        ]
    else:
        parts = [_("Already on your plan for %(date)s.") % {"date": when}]
    if added and result.already_planned:
        parts.append(
            ngettext("%(count)s was already on it.", "%(count)s were already on it.", result.already_planned)
            % {"count": result.already_planned}
        )
    if result.unknown:
        parts.append(
            ngettext(
                "%(count)s could not be added (archived or not yours).",
                "%(count)s could not be added (archived or not yours).",
                result.unknown,
            )
            % {"count": result.unknown}
        )
    return " ".join(parts)


def _visible_item(request, pk) -> PlanItem:
    item = get_object_or_404(PlanItem.objects.select_related("plan", "customer"), pk=pk)
    if not selectors.plans_visible_to(request.user).filter(pk=item.plan_id).exists():
        raise Http404
    return item


class RemovePlanItemView(View):
    def post(self, request, pk):
        item = _visible_item(request, pk)
        try:
            services.remove_plan_item(item=item, by=request.user)
        except ValidationError as error:
            return _action_error(request, error)
        messages.success(request, _("%(name)s taken off the plan.") % {"name": item.customer.name})
        return redirect("activities:plan-detail", pk=item.plan_id)


class PlanItemDoneView(View):
    def post(self, request, pk):
        item = _visible_item(request, pk)
        services.set_plan_item_done(item=item, by=request.user, done=request.POST.get("done") == "1")
        return redirect(safe_next(request, reverse("activities:plan-detail", args=[item.plan_id])))


def _action_error(request, error: ValidationError, status: int = 400):
    """A refused transition on a plain POST: a short page that says why (never a 500)."""
    return render(
        request,
        "activities/action_error.html",
        {"message": _error_text(error), "back": safe_next(request, reverse("home"))},
        status=status,
    )


class ReportDetailView(View):
    template_name = "activities/report_detail.html"

    def _render(self, request, report, form=None, status=200):
        is_owner = permissions.is_owner(request.user, report)
        if form is None and is_owner and report.is_editable:
            form = DailyReportForm(instance=report)
        return render(
            request,
            self.template_name,
            {
                "report": report,
                "is_owner": is_owner,
                "is_reviewer": permissions.is_reviewer_of(request.user, report.owner),
                "form": form if is_owner and report.is_editable else None,
                "activities": selectors.activities_of_owner_on(report.owner, report.date),
                "plan": selectors.plan_with_items(report.owner, report.date),
                "review_form": ReviewForm(),
                "cutoff": services.report_cutoff(report.date),
            },
            status=status,
        )

    def get(self, request, pk):
        return self._render(request, _visible_report(request, pk))

    def post(self, request, pk):
        """Save the owner's fields; with the "Submit to my manager" button of the same form
        (``name="submit"``), save what is in the form and submit it in one transaction:
        a refused field or move submits nothing and shows the typed values with the errors."""
        report = _visible_report(request, pk)
        if not permissions.is_owner(request.user, report):
            raise PermissionDenied
        form = DailyReportForm(request.POST, instance=report)
        submit = "submit" in request.POST
        if form.is_valid():
            try:
                with transaction.atomic():
                    report = services.update_report(report=report, by=request.user, **form.cleaned_data)
                    if submit:
                        services.submit_report(report=report, by=request.user)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                done = SubmitReportView.done_message if submit else _("Report saved.")
                messages.success(request, str(done))
                return redirect("activities:report-detail", pk=report.pk)
        report.refresh_from_db()
        if not report.is_editable:  # submitted meanwhile (another tab): no form to show the reason on
            for error in form.non_field_errors():
                messages.error(request, error)
        return self._render(request, report, form=form, status=400)


class OpenReportView(View):
    def post(self, request):
        form = DateForm(request.POST)
        if form.is_valid():
            try:
                report = services.open_report(by=request.user, day=form.cleaned_data["date"])
            except ValidationError as error:
                messages.error(request, _error_text(error))
            else:
                return redirect("activities:report-detail", pk=report.pk)
        else:
            messages.error(request, _("Choose a date."))
        return redirect("activities:plans")


# --- Submitting and reviewing --------------------------------------------------------------


class TransitionView(View):
    """One POST moving a plan or a report through its states with one service.

    The row must be visible (else 404); the service decides who may move it (403) and
    from which state (400). From the Approvals page (htmx) the person's row comes back
    updated in place; otherwise the browser is sent back where it came from."""

    kind = "plan"  # or "report"
    service = None  # staticmethod(the service)
    takes_comment = False
    done_message = ""

    def post(self, request, pk):
        row = _visible_plan(request, pk) if self.kind == "plan" else _visible_report(request, pk)
        form = ReviewForm(request.POST)
        form.is_valid()
        kwargs = {self.kind: row, "by": request.user}
        if self.takes_comment:
            kwargs["comment"] = form.cleaned_data.get("comment", "")
        try:
            self.service(**kwargs)
        except ValidationError as error:
            if is_htmx(request):
                return self._row(request, row, error=_error_text(error), status=422)
            return _action_error(request, error)
        if is_htmx(request):
            return self._row(request, row, message=str(self.done_message))
        messages.success(request, str(self.done_message))
        detail = "activities:plan-detail" if self.kind == "plan" else "activities:report-detail"
        return redirect(safe_next(request, reverse(detail, args=[row.pk])))

    def _row(self, request, row, status=200, **extra):
        approval = selectors.approval_row(request.user, row.owner_id, row.date)
        if approval is None:
            return HttpResponse(status=204 if status == 200 else status)
        return render(
            request,
            "activities/_approval_row.html",
            {"row": approval, "back": safe_next(request, reverse("activities:approvals")), **extra},
            status=status,
        )


class SubmitPlanView(TransitionView):
    service = staticmethod(services.submit_plan)
    done_message = gettext_lazy("Plan submitted to your manager.")


class ApprovePlanView(TransitionView):
    service, takes_comment = staticmethod(services.approve_plan), True
    done_message = gettext_lazy("Plan approved.")


class ReturnPlanView(TransitionView):
    service, takes_comment = staticmethod(services.return_plan), True
    done_message = gettext_lazy("Plan returned.")


class SubmitReportView(TransitionView):
    kind, service = "report", staticmethod(services.submit_report)
    done_message = gettext_lazy("Report submitted to your manager.")


class SignOffReportView(TransitionView):
    kind, service, takes_comment = "report", staticmethod(services.sign_off_report), True
    done_message = gettext_lazy("Report signed off.")


class ReturnReportView(TransitionView):
    kind, service, takes_comment = "report", staticmethod(services.return_report), True
    done_message = gettext_lazy("Report returned.")


class ApprovalsView(View):
    """The team's plans and reports of a day, their states, one-click review, and who
    has not submitted yet. Managers and admins."""

    def get(self, request):
        if not request.user.is_manager_or_admin:
            raise PermissionDenied
        day = _parse_day(request.GET.get("date"), timezone.localdate())
        rows = selectors.approvals(request.user, day)
        return render(
            request,
            "activities/approvals.html",
            {
                "day": day,
                "rows": rows,
                "review_form": ReviewForm(),
                "missing_plans": [row.person for row in rows if row.plan_missing],
                "missing_reports": [row.person for row in rows if row.report_missing],
            },
        )


# --- Escalations --------------------------------------------------------------------------


class MarketReportListView(ListView):
    template_name = "activities/market_report_list.html"
    paginate_by = 50
    context_object_name = "market_reports"

    def get_queryset(self):
        self.filterset = MarketReportFilter(
            self.request.GET,
            request=self.request,
            queryset=selectors.market_reports_visible_to(self.request.user),
        )
        return self.filterset.qs.order_by("-created_at", "-pk")

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(filterset=self.filterset, query_string=query.urlencode(), **kwargs)


class MarketReportCreateView(View):
    template_name = "activities/market_report_form.html"

    def _customers(self, request):
        return customers_visible_to(request.user).filter(archived_at=None).order_by("name")

    def get(self, request):
        initial = {"kind": request.GET.get("kind", "market")}
        if request.GET.get("customer", "").isdigit():
            initial["customer"] = int(request.GET["customer"])
        form = MarketReportForm(initial=initial, customers=self._customers(request))
        return render(request, self.template_name, {"form": form})

    def post(self, request):
        form = MarketReportForm(request.POST, customers=self._customers(request))
        if form.is_valid():
            try:
                report = services.file_market_report(by=request.user, **form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Sent: your manager has been notified."))
                return redirect("activities:market-report-detail", pk=report.pk)
        return render(request, self.template_name, {"form": form}, status=400)


class MarketReportDetailView(View):
    def get(self, request, pk):
        report = get_object_or_404(selectors.market_reports_visible_to(request.user), pk=pk)
        return render(request, "activities/market_report_detail.html", {"report": report})


# --- Notifications ------------------------------------------------------------------------


class NotificationListView(ListView):
    template_name = "activities/notifications.html"
    paginate_by = 50
    context_object_name = "notifications"

    def get_queryset(self):
        queryset = selectors.notifications_of(self.request.user)
        if self.request.GET.get("unread") == "1":
            queryset = queryset.filter(read_at__isnull=True)
        return queryset

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(query_string=query.urlencode(), **kwargs)


class NotificationReadView(View):
    """Mark one of the user's notifications read and follow its link (or come back)."""

    def post(self, request, pk):
        notification = get_object_or_404(selectors.notifications_of(request.user), pk=pk)
        crm_services.mark_notifications_read(user=request.user, ids=[notification.pk])
        if request.POST.get("follow") == "1" and url_has_allowed_host_and_scheme(
            notification.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(notification.url)
        return redirect(safe_next(request, reverse("activities:notifications")))


class NotificationReadAllView(View):
    def post(self, request):
        count = crm_services.mark_notifications_read(user=request.user)
        messages.success(request, _("%(count)s notifications marked read.") % {"count": count})
        return redirect("activities:notifications")

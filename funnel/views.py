"""Funnel pages: grades and orders, the funnel summary, and funnel management —
stagnation alerts, reassignment, handover, departure, the public pool, conflicts and
the balance view. Thin: a selector reads, a form validates, one service writes."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import ListView

from crm.extensions import page_panels
from crm.filters import CustomerFilter
from crm.forms import apply_service_errors
from crm.selectors import customers_visible_to, teams_visible_to, users_visible_to

from . import permissions, selectors, services
from .customer_page import grade_panel_session_key
from .filters import AlertFilter, ConflictFilter, HandoverTaskFilter, PoolFilter
from .forms import (
    BulkReassignForm,
    ChangeGradeForm,
    ConflictForm,
    DepartureForm,
    DepartureTeammatesForm,
    OrderForm,
    ReassignForm,
    ReleaseForm,
    SettleForm,
    SinceForm,
    SnoozeAlertForm,
)
from .models import FunnelSettings, HandoverStatus
from .services import ReassignConflict, StaleWrite


def _live_visible_customer(request, pk):
    return get_object_or_404(customers_visible_to(request.user).filter(archived_at=None), pk=pk)


class ChangeGradeView(View):
    def post(self, request, pk):
        customer = _live_visible_customer(request, pk)
        form = ChangeGradeForm(request.POST, customer=customer)
        if form.is_valid():
            data = form.cleaned_data
            seen = data["expected_grade"] or customer.grade_id  # the grade the page showed
            try:
                services.change_grade(
                    customer=customer,
                    grade=data["grade"],
                    by=request.user,
                    note=data["note"],
                    expected_grade_id=seen,
                )
            except StaleWrite as error:
                messages.error(request, error.message)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                if hasattr(error, "error_dict"):  # shown again on the fields at fault
                    request.session[grade_panel_session_key(customer.pk)] = {
                        "grade": data["grade"].pk,
                        "note": data["note"],
                        "errors": error.message_dict,
                    }
            else:
                messages.success(
                    request, _("Grade changed to %(grade)s.") % {"grade": form.cleaned_data["grade"]}
                )
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
        return render(
            request,
            "funnel/summary.html",
            {
                "rows": rows,
                "owners": owners if not request.user.is_salesperson else [],
                "owner": owner,
                "total_count": sum(row["count"] for row in open_rows),
                "total_weighted": sum(row["weighted"] for row in open_rows),
            },
        )


# --- Funnel management: helpers ----------------------------------------------------------


def _require_manager(request) -> None:
    if not request.user.is_manager_or_admin:
        raise PermissionDenied


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _query_string(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _messages_of(error: ValidationError | ReassignConflict | PermissionDenied) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error.message if isinstance(error, ReassignConflict) else error)


class FilteredListView(ListView):
    """A list filtered by a FilterSet over a selector, paginated, filters kept in the URL."""

    paginate_by = 50
    filterset_class = None

    def base_queryset(self):
        raise NotImplementedError

    def filter_data(self):
        return self.request.GET

    def get_queryset(self):
        self.filterset = self.filterset_class(
            self.filter_data(), request=self.request, queryset=self.base_queryset()
        )
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            filterset=self.filterset,
            query_string=_query_string(self.request),
            show_owner=not self.request.user.is_salesperson,
            today=timezone.localdate(),
        )
        return context


# --- Stagnation alerts ---------------------------------------------------------------------


class AlertListView(FilteredListView):
    """Open stagnation alerts the user may see — after each scan, one per customer the
    funnel shows as stuck — those to act on first (snoozed ones on their own list), with
    the days each customer is stuck and the row actions: log an activity, reassign
    (managers), snooze."""

    template_name = "funnel/alert_list.html"
    context_object_name = "alerts"
    filterset_class = AlertFilter

    def filter_data(self):
        data = self.request.GET.copy()
        data.setdefault("state", AlertFilter.TO_ACT_ON)
        return data

    def base_queryset(self):
        return selectors.alerts_visible_to(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = context["today"]
        every_state = self.filter_data().copy()
        every_state["state"] = AlertFilter.ALL
        every = AlertFilter(every_state, request=self.request, queryset=self.base_queryset()).qs
        context.update(
            counts=selectors.alert_counts(every, today),
            state=self.filterset.form.cleaned_data.get("state") or AlertFilter.ALL,
            snooze_form=SnoozeAlertForm(),
            snooze_min=today + timedelta(days=1),
            snooze_max=today + timedelta(days=services.MAX_SNOOZE_DAYS),
            snooze_default=today + timedelta(days=7),
            panels=page_panels("funnel:alert-list", self.request),
        )
        return context


class SnoozeAlertView(View):
    """Snooze an alert the user sees (POST: a date and a reason); anyone else gets 404."""

    def post(self, request, pk):
        alert = get_object_or_404(selectors.alerts_visible_to(request.user), pk=pk)
        form = SnoozeAlertForm(request.POST)
        if form.is_valid():
            try:
                services.snooze_alert(alert=alert, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                messages.error(request, _messages_of(error))
            else:
                messages.success(
                    request,
                    _("%(name)s is snoozed until %(date)s.")
                    % {
                        "name": alert.customer.name,
                        "date": date_format(form.cleaned_data["until"], "SHORT_DATE_FORMAT"),
                    },
                )
        else:
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(_next_url(request, reverse("funnel:alert-list")))


# --- Public pool ---------------------------------------------------------------------------


class PoolListView(FilteredListView):
    """公海: every signed-in user sees the pool (limited fields) and may claim from it."""

    template_name = "funnel/pool_list.html"
    context_object_name = "customers"
    filterset_class = PoolFilter

    def base_queryset(self):
        return selectors.pool_customers(self.request.user).order_by("name", "pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_claim"] = permissions.can_claim(self.request.user)
        return context


class PoolDetailView(View):
    """A pool customer's limited page: what a salesperson needs to decide to claim it.
    Contacts, notes and history stay private until someone owns the customer."""

    def get(self, request, pk):
        customer = get_object_or_404(selectors.pool_customers(request.user), pk=pk)
        return render(
            request,
            "funnel/pool_detail.html",
            {
                "customer": customer,
                "can_claim": permissions.can_claim(request.user),
                "contact_count": customer.contacts.count(),
            },
        )


class ClaimView(View):
    """领取 (POST): htmx swaps the pool row in place; without JavaScript, a redirect."""

    def post(self, request, pk):
        customer = selectors.pool_customers(request.user).filter(pk=pk).first()
        if customer is None:
            if not _is_htmx(request):
                raise Http404
            return render(
                request,
                "funnel/_pool_row.html",
                {"message": _("This customer is no longer in the pool."), "gone": True},
            )
        try:
            services.claim_customer(customer=customer, by=request.user)
        except (ValidationError, ReassignConflict) as error:
            message = _messages_of(error)
            if _is_htmx(request):
                return render(
                    request,
                    "funnel/_pool_row.html",
                    {"customer": customer, "can_claim": True, "message": message},
                )
            messages.error(request, message)
            return redirect(_next_url(request, reverse("funnel:pool-list")))
        if _is_htmx(request):
            return render(request, "funnel/_pool_row.html", {"customer": customer, "claimed": True})
        messages.success(request, _("%(name)s is now yours.") % {"name": customer.name})
        return redirect("crm:customer-detail", pk=customer.pk)


class ReleaseView(View):
    """退回公海 by hand (POST): the owner or a manager over them, with a reason."""

    def post(self, request, pk):
        customer = _live_visible_customer(request, pk)
        form = ReleaseForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
            return redirect("crm:customer-detail", pk=customer.pk)
        try:
            services.release_customer(customer=customer, by=request.user, reason=form.cleaned_data["reason"])
        except (ValidationError, ReassignConflict) as error:
            messages.error(request, _messages_of(error))
            return redirect("crm:customer-detail", pk=customer.pk)
        messages.success(request, _("%(name)s went back to the public pool.") % {"name": customer.name})
        return redirect("crm:customer-list")


# --- Reassignment ----------------------------------------------------------------------------


class ReassignView(View):
    """改派 one customer (managers within their tree, admins): a form page; the customer
    page carries the same form."""

    template_name = "funnel/reassign_form.html"

    def _customer(self, request, pk):
        customer = get_object_or_404(customers_visible_to(request.user).filter(archived_at=None), pk=pk)
        if not request.user.is_manager_or_admin or not (
            request.user.is_admin or permissions.in_tree(request.user, customer.owner)
        ):
            raise PermissionDenied
        return customer

    def get(self, request, pk):
        customer = self._customer(request, pk)
        return render(
            request,
            self.template_name,
            {"customer": customer, "form": ReassignForm.for_customer(request.user, customer)},
        )

    def post(self, request, pk):
        customer = self._customer(request, pk)
        form = ReassignForm.for_customer(request.user, customer, request.POST)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            expected = data["expected_owner"] if "expected_owner" in request.POST else customer.owner_id
            try:
                record = services.reassign_customer(
                    customer=customer,
                    new_owner=data["owner"],
                    by=request.user,
                    reason=data["reason"],
                    force=data.get("force", False),
                    expected_owner_id=expected,
                )
            except ReassignConflict as error:
                form.add_error(None, error.message)
                status = 409
            except PermissionDenied as error:
                form.add_error(None, str(error))
                status = 403
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(name)s reassigned to %(owner)s; %(count)d handover task created.",
                        "%(name)s reassigned to %(owner)s; %(count)d handover tasks created.",
                        record.handover_tasks.count(),
                    )
                    % {
                        "name": customer.name,
                        "owner": data["owner"].display_name,
                        "count": record.handover_tasks.count(),
                    },
                )
                return redirect("crm:customer-detail", pk=customer.pk)
        return render(request, self.template_name, {"customer": customer, "form": form}, status=status)


BULK_LIST_LIMIT = 200


def _bulk_form(request, visible, data=None):
    return BulkReassignForm(
        data,
        customers=visible,
        owners=selectors.assignable_owners(request.user),
        may_force=permissions.can_force(request.user),
    )


class BulkReassignView(View):
    """改派 many: filter the customers, tick them, choose the new owner and the reason.
    The list shows at most 200 rows (narrow the filters for more). The customer list's
    bulk bar sends its selection here: ``customer`` ids (or its filter) and ``tick=all``,
    which ticks every row shown."""

    template_name = "funnel/bulk_reassign.html"

    def _context(self, request, form=None):
        _require_manager(request)
        visible = customers_visible_to(request.user).filter(archived_at=None)
        filterset = CustomerFilter(request.GET, request=request, queryset=visible)
        ordered = filterset.qs.order_by("owner__username", "grade__order", "name", "pk")
        rows = list(ordered[: BULK_LIST_LIMIT + 1])
        if form is not None:  # sent back with an error: the ticks stay
            ticked = set(form.data.getlist("customers"))
        elif request.GET.get("tick") == "all":  # from the customer list's selection
            ticked = {str(customer.pk) for customer in rows}
        else:
            ticked = set()
        form = form or _bulk_form(request, visible)
        return {
            "filterset": filterset,
            "customers": rows[:BULK_LIST_LIMIT],
            "capped": len(rows) > BULK_LIST_LIMIT,
            "form": form,
            "limit": BULK_LIST_LIMIT,
            "query_string": request.GET.urlencode(),
            "ticked": ticked,
        }

    def get(self, request):
        return render(request, self.template_name, self._context(request))

    def post(self, request):
        _require_manager(request)
        visible = customers_visible_to(request.user).filter(archived_at=None)
        form = _bulk_form(request, visible, request.POST)
        if not form.is_valid():
            return render(request, self.template_name, self._context(request, form), status=400)
        data = form.cleaned_data
        expected = {}
        for customer in data["customers"]:
            seen = request.POST.get(f"seen_{customer.pk}")
            if seen is None:
                expected[customer.pk] = customer.owner_id
            else:
                expected[customer.pk] = int(seen) if seen.isdigit() else None
        try:
            result = services.reassign(
                customers=data["customers"],
                new_owner=data["owner"],
                by=request.user,
                reason=data["reason"],
                force=data.get("force", False),
                expected_owners=expected,
            )
        except (ValidationError, PermissionDenied) as error:
            form.add_error(None, _messages_of(error))
            return render(request, self.template_name, self._context(request, form), status=400)
        if result.moved:
            messages.success(
                request,
                ngettext(
                    "%(count)d customer reassigned to %(owner)s.",
                    "%(count)d customers reassigned to %(owner)s.",
                    len(result.moved),
                )
                % {"count": len(result.moved), "owner": data["owner"].display_name},
            )
        for refusal in result.refused:
            messages.warning(request, refusal.message)
        query = request.GET.copy()
        query.pop("tick", None)  # done: the rows shown again are not ticked again
        return HttpResponseRedirect(f"{request.path}?{query.urlencode()}")


# --- Handover ------------------------------------------------------------------------------------


class HandoverTaskListView(FilteredListView):
    """Handover tasks: a salesperson's own, a manager's team's (open ones unless filtered)."""

    template_name = "funnel/handover_task_list.html"
    context_object_name = "tasks"
    filterset_class = HandoverTaskFilter

    def base_queryset(self):
        tasks = selectors.handover_tasks_visible_to(self.request.user).order_by("due_on", "pk")
        if not self.request.GET.get("status"):
            tasks = tasks.filter(status=HandoverStatus.OPEN)
        return tasks


class TickHandoverTaskView(View):
    """Tick a handover task done (POST); htmx swaps the row, otherwise a redirect back."""

    def post(self, request, pk):
        task = get_object_or_404(selectors.handover_tasks_visible_to(request.user), pk=pk)
        try:
            task = services.tick_handover_task(task=task, by=request.user)
        except ValidationError as error:
            if _is_htmx(request):
                return render(
                    request,
                    "funnel/_handover_task_row.html",
                    {"task": task, "message": _messages_of(error), "today": timezone.localdate()},
                )
            messages.error(request, _messages_of(error))
        else:
            if _is_htmx(request):
                return render(
                    request,
                    "funnel/_handover_task_row.html",
                    {
                        "task": task,
                        "today": timezone.localdate(),
                        "show_owner": not request.user.is_salesperson,
                    },
                )
            messages.success(request, _("Handover task done."))
        return redirect(_next_url(request, reverse("funnel:handover-tasks")))


class HandoverProgressView(View):
    """Handover progress for managers: per new owner, tasks done / open / overdue."""

    def get(self, request):
        _require_manager(request)
        today = timezone.localdate()
        form = SinceForm(request.GET or None)
        since = (
            form.cleaned_data.get("since") if form.is_bound and form.is_valid() else None
        ) or today - timedelta(days=30)
        rows = selectors.handover_progress(request.user, since=since, today=today)
        return render(
            request,
            "funnel/handover_progress.html",
            {
                "rows": rows,
                "form": form,
                "since": since,
                "totals": {key: sum(row[key] for row in rows) for key in ("done", "open", "overdue")},
            },
        )


# --- Departure -------------------------------------------------------------------------------------


class DepartureListView(View):
    """Start a departure handover for someone of the team (managers, admins)."""

    def get(self, request):
        _require_manager(request)
        return render(
            request, "funnel/departure_list.html", {"people": selectors.departing_candidates(request.user)}
        )


class DepartureWizardView(View):
    """离职交接: choose teammates → review the proposed balanced split (change any row) →
    apply in one transaction, which also ends the leaver's access."""

    template_name = "funnel/departure_wizard.html"

    def _setup(self, request, pk):
        """The leaver, and whom to offer: their teammates, other teams only when the
        manager asked (``other_teams=1``, kept through the steps)."""
        _require_manager(request)
        leaver = get_object_or_404(selectors.departing_candidates(request.user), pk=pk)
        if not permissions.can_run_departure(request.user, leaver):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else request.GET
        other_teams = data.get("other_teams") == "1"
        candidates = selectors.departure_takers(request.user, leaver, other_teams=other_teams)
        return leaver, candidates, other_teams

    def _render_choice(self, request, leaver, teammates_form, customers, other_teams, status=200):
        return render(
            request,
            self.template_name,
            {
                "leaver": leaver,
                "teammates_form": teammates_form,
                "customers": customers,
                "other_teams": other_teams,
            },
            status=status,
        )

    def _render_split(self, request, leaver, teammates_form, form, proposal, other_teams, status=200):
        teammates = form.teammates
        return render(
            request,
            self.template_name,
            {
                "leaver": leaver,
                "teammates_form": teammates_form,
                "teammates": teammates,
                "form": form,
                "customers": form.customers,
                "summary": _split_summary(form.customers, proposal, teammates),
                "locked_count": sum(1 for customer in form.customers if customer.grade.locked),
                "other_teams": other_teams,
            },
            status=status,
        )

    def get(self, request, pk):
        leaver, candidates, other_teams = self._setup(request, pk)
        teammates_form = DepartureTeammatesForm(
            request.GET if "teammates" in request.GET else None, candidates=candidates
        )
        customers = selectors.departure_customers(leaver)
        if not (teammates_form.is_bound and teammates_form.is_valid()):
            return self._render_choice(request, leaver, teammates_form, customers, other_teams)
        teammates = list(teammates_form.cleaned_data["teammates"])
        proposal = selectors.propose_split(customers, teammates)
        form = DepartureForm(
            customers=customers,
            teammates=teammates,
            proposal=proposal,
            may_force=permissions.can_force(request.user),
        )
        return self._render_split(request, leaver, teammates_form, form, proposal, other_teams)

    def post(self, request, pk):
        leaver, candidates, other_teams = self._setup(request, pk)
        teammates_form = DepartureTeammatesForm(request.POST, candidates=candidates)
        customers = selectors.departure_customers(leaver)
        if not teammates_form.is_valid():
            return self._render_choice(request, leaver, teammates_form, customers, other_teams, status=400)
        form = DepartureForm(
            request.POST,
            customers=customers,
            proposal={},
            teammates=list(teammates_form.cleaned_data["teammates"]),
            may_force=permissions.can_force(request.user),
        )
        if form.is_valid():
            try:
                result = services.apply_departure(
                    leaver=leaver,
                    assignments=form.assignments(),
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    force=form.cleaned_data.get("force", False),
                )
            except (ValidationError, PermissionDenied) as error:
                form.add_error(None, error.messages if isinstance(error, ValidationError) else str(error))
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(name)s's %(count)d customer was handed over and their access has ended.",
                        "%(name)s's %(count)d customers were handed over and their access has ended.",
                        len(result.moved),
                    )
                    % {"name": leaver.display_name, "count": len(result.moved)},
                )
                return redirect("funnel:departure-list")
        # The split as the manager left it (not a new proposal): the summary keeps their numbers.
        return self._render_split(
            request, leaver, teammates_form, form, form.assignments(), other_teams, status=400
        )


def _split_summary(customers, proposal, teammates) -> list[dict]:
    """Per teammate: the proposed count and weighted value, per grade and in total."""
    rows = {
        person.pk: {"person": person, "count": 0, "weighted": Decimal(0), "grades": defaultdict(int)}
        for person in teammates
    }
    for customer in customers:
        person = proposal.get(customer.pk)
        if person is not None and person.pk in rows:
            row = rows[person.pk]
            row["count"] += 1
            row["weighted"] += customer.weighted_value
            row["grades"][customer.grade.label] += 1
    return [{**row, "grades": dict(row["grades"])} for row in rows.values()]


# --- Conflicts (撞单) ------------------------------------------------------------------------------


class ConflictListView(FilteredListView):
    template_name = "funnel/conflict_list.html"
    context_object_name = "conflicts"
    filterset_class = ConflictFilter

    def base_queryset(self):
        return selectors.conflicts_visible_to(self.request.user).order_by("-created_at", "-pk")


class ConflictCreateView(View):
    """Raise a conflict claim after the duplicate check refused a customer."""

    template_name = "funnel/conflict_form.html"

    def get(self, request):
        if not permissions.can_claim(request.user):
            raise PermissionDenied
        initial = {key: request.GET.get(key, "") for key in ("name", "phone", "email")}
        return render(request, self.template_name, {"form": ConflictForm(initial=initial)})

    def post(self, request):
        if not permissions.can_claim(request.user):
            raise PermissionDenied
        form = ConflictForm(request.POST)
        if form.is_valid():
            try:
                conflict = services.raise_conflict(by=request.user, **form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Conflict raised; the managers concerned will settle it."))
                return redirect("funnel:conflict-detail", pk=conflict.pk)
        return render(request, self.template_name, {"form": form}, status=400)


class ConflictDetailView(View):
    """The claim, the default rule's suggestion and, for a manager over both, the settlement."""

    template_name = "funnel/conflict_detail.html"

    def _context(self, request, conflict, form=None):
        may_settle = conflict.is_open and permissions.can_settle(request.user, conflict)
        if may_settle and form is None:
            form = SettleForm(may_force=permissions.can_force(request.user))
        return {
            "conflict": conflict,
            "form": form if may_settle else None,
            "customer_visible": permissions.in_tree(request.user, conflict.customer.owner),
            "suggestion": selectors.conflict_suggestion(
                conflict, recent_days=FunnelSettings.load().conflict_recent_days, now=timezone.now()
            )
            if may_settle
            else None,
        }

    def get(self, request, pk):
        conflict = get_object_or_404(selectors.conflicts_visible_to(request.user), pk=pk)
        return render(request, self.template_name, self._context(request, conflict))

    def post(self, request, pk):
        conflict = get_object_or_404(selectors.conflicts_visible_to(request.user), pk=pk)
        if not permissions.can_settle(request.user, conflict):
            raise PermissionDenied
        form = SettleForm(request.POST, may_force=permissions.can_force(request.user))
        status = 400
        if form.is_valid():
            try:
                data = form.cleaned_data
                services.settle_conflict(
                    conflict=conflict,
                    by=request.user,
                    outcome=data["outcome"],
                    note=data["note"],
                    force=data.get("force", False),
                )
            except ReassignConflict as error:
                form.add_error(None, error.message)
                status = 409
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Conflict settled; both salespeople were told."))
                return redirect("funnel:conflict-detail", pk=conflict.pk)
        return render(request, self.template_name, self._context(request, conflict, form), status=status)


# --- Balance view ---------------------------------------------------------------------------------


class BalanceView(View):
    """Per salesperson of the team: count and weighted value per grade, won customers,
    and the method's warnings (managers and admins)."""

    def get(self, request):
        _require_manager(request)
        teams = teams_visible_to(request.user)
        if request.user.is_manager:
            teams = teams.filter(pk__in=request.user.visible_team_ids)
        team = None
        if request.GET.get("team"):
            team = get_object_or_404(teams, pk=request.GET["team"]) if request.GET["team"].isdigit() else None
            if team is None:
                raise Http404
        data = selectors.balance(request.user, team=team, today=timezone.localdate())
        return render(request, "funnel/balance.html", {**data, "teams": teams, "team": team})

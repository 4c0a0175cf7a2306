"""Pages of field visits (外勤签到): check in at a customer, the visit (check out, photos),
a photo itself, and the customer's location. Thin: a form validates, one service in
``visits`` writes, a message and a redirect. Every read goes through the visibility rule
(a visit and its photos are visible when their customer is): not visible → 404;
visible but not the visitor's → 403.
"""

from csp.decorators import csp_replace
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import localize, time_format
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from crm.forms import apply_service_errors
from crm.selectors import customers_visible_to

from . import permissions, selectors, visits
from .forms import (
    CheckInForm,
    CheckOutForm,
    CoachingNoteForm,
    CompanionForm,
    CustomerLocationForm,
    VisitPhotoForm,
)
from .models import ActivitySettings, CustomerLocation, LocationStatus, Visit, VisitPhoto


def _live_customer(request, pk):
    return get_object_or_404(customers_visible_to(request.user).filter(archived_at=None), pk=pk)


def _visible_visit(request, pk) -> Visit:
    return get_object_or_404(selectors.visits_visible_to(request.user), pk=pk)


def _check_in_message(visit: Visit, resent: bool) -> str:
    if resent:
        return _("This check-in was already saved.")
    where = {"name": visit.customer.name, "time": time_format(timezone.localtime(visit.checked_in_at), "H:i")}
    if visit.set_customer_location:
        return _("Checked in at %(name)s at %(time)s — saved as the customer's location.") % where
    if visit.distance_m is not None:
        where["distance"] = localize(visit.distance_m)
        if visit.far_from_customer:
            return (
                _(
                    "Checked in at %(name)s at %(time)s — %(distance)s m from the customer: "
                    "far from its known location."
                )
                % where
            )
        return _("Checked in at %(name)s at %(time)s — %(distance)s m from the customer") % where
    if visit.check_in_status == LocationStatus.FIXED:
        return _("Checked in at %(name)s at %(time)s — the customer's location is not known yet.") % where
    return _("Checked in at %(name)s at %(time)s — no location") % where


class CheckInView(View):
    """Check in at a customer (planned: ``?plan_item=<id>``, or not). The form's
    location fields are filled by ``static/js/visits.js``; without them the visit is
    saved as "no location", never refused for it."""

    template_name = "activities/visit_check_in.html"

    @staticmethod
    def _form(request, customer, **kwargs) -> CheckInForm:
        items = selectors.check_in_plan_items(request.user, customer, timezone.localdate())
        companions = list(selectors.companion_candidates(request.user))
        return CheckInForm(customer=customer, plan_items=items, companions=companions, **kwargs)

    def _render(self, request, customer, form, status=200):
        has_location = CustomerLocation.objects.filter(customer=customer).exists()
        if has_location:
            form.fields.pop("set_location", None)
        return render(request, self.template_name, {"customer": customer, "form": form}, status=status)

    def get(self, request, pk):
        customer = _live_customer(request, pk)
        form = self._form(request, customer, chosen_item=request.GET.get("plan_item", ""))
        return self._render(request, customer, form)

    def post(self, request, pk):
        customer = _live_customer(request, pk)
        form = self._form(request, customer, data=request.POST)
        if form.is_valid():
            try:
                visit, created = visits.check_in(by=request.user, customer=customer, **form.service_kwargs())
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _check_in_message(visit, resent=not created))
                return redirect("activities:visit-detail", pk=visit.pk)
        return self._render(request, customer, form, status=400)


class VisitDetailView(View):
    """The visit: when and where, distance and flag, plan item, duration; the visitor
    checks out and adds photos here."""

    template_name = "activities/visit_detail.html"

    @classmethod
    def render_page(
        cls,
        request,
        visit,
        *,
        check_out_form=None,
        photo_form=None,
        companion_form=None,
        note_form=None,
        status=200,
    ):
        is_visitor = visit.owner_id == request.user.pk
        photos = list(visit.photos.all())
        can_add_photo = is_visitor and len(photos) < settings.VISIT_PHOTOS_PER_VISIT
        return render(
            request,
            cls.template_name,
            {
                **_companions_context(request, visit, companion_form, note_form),
                "visit": visit,
                "photos": photos,
                "is_visitor": is_visitor,
                "check_out_form": (check_out_form or CheckOutForm())
                if is_visitor and not visit.is_checked_out
                else None,
                "photo_form": (photo_form or VisitPhotoForm()) if can_add_photo else None,
                "photo_limit_mb": settings.VISIT_PHOTO_MAX_UPLOAD_BYTES // 1_048_576,
                "flag_distance_m": ActivitySettings.load().check_in_flag_distance_m
                if visit.far_from_customer
                else None,
            },
            status=status,
        )

    def get(self, request, pk):
        return self.render_page(request, _visible_visit(request, pk))


def _companions_context(request, visit: Visit, companion_form, note_form) -> dict:
    """Who went along, the notes the viewer may read, their own note's form, and the form
    to add a companion for the visitor and their managers."""
    user = request.user
    companions = list(visit.companions.all())
    for companion in companions:
        companion.readable = permissions.can_read_coaching(user, visit, companion)
    mine = next((companion for companion in companions if companion.user_id == user.pk), None)
    can_manage = permissions.can_manage_companions(user, visit)
    if can_manage and companion_form is None:
        joined = {companion.user_id for companion in companions}
        candidates = [p for p in selectors.companion_candidates(visit.owner) if p.pk not in joined]
        companion_form = CompanionForm(candidates=candidates) if candidates else None
    if mine is not None and note_form is None:
        note_form = CoachingNoteForm(initial={"coaching_note": mine.coaching_note})
    return {
        "companions": companions,
        "can_manage_companions": can_manage,
        "companion_form": companion_form if can_manage else None,
        "note_form": note_form if mine is not None else None,
        "sees_customer": customers_visible_to(user).filter(pk=visit.customer_id).exists(),
    }


class CompanionAddView(View):
    """The visitor or their manager adds someone who went along (陪同拜访)."""

    def post(self, request, pk):
        visit = _visible_visit(request, pk)
        if not permissions.can_manage_companions(request.user, visit):
            raise PermissionDenied(
                _("Only the salesperson who made the visit or their manager may change who went along.")
            )
        form = CompanionForm(request.POST, candidates=list(selectors.companion_candidates(visit.owner)))
        if form.is_valid():
            try:
                companion = visits.add_companion(by=request.user, visit=visit, user=form.cleaned_data["user"])
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request, _("%(name)s went along on this visit.") % {"name": companion.user.display_name}
                )
                return redirect(reverse("activities:visit-detail", args=[visit.pk]) + "#companions")
        return VisitDetailView.render_page(request, visit, companion_form=form, status=400)


class CompanionRemoveView(View):
    """Take a companion off the visit (the visitor, their manager, or the companion)."""

    def post(self, request, pk, user_id):
        visit = _visible_visit(request, pk)
        companion = get_object_or_404(visit.companions.select_related("user"), user_id=user_id)
        visits.remove_companion(by=request.user, visit=visit, user=companion.user)
        messages.success(
            request, _("%(name)s is no longer on this visit.") % {"name": companion.user.display_name}
        )
        return redirect(reverse("activities:visit-detail", args=[visit.pk]) + "#companions")


class CoachingNoteView(View):
    """A companion writes their coaching note; nobody else may (403)."""

    def post(self, request, pk):
        visit = _visible_visit(request, pk)
        form = CoachingNoteForm(request.POST)
        if form.is_valid():
            try:
                visits.write_coaching_note(
                    by=request.user, visit=visit, note=form.cleaned_data["coaching_note"]
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Coaching note saved."))
                return redirect(reverse("activities:visit-detail", args=[visit.pk]) + "#companions")
        if not visit.companions.filter(user=request.user).exists():
            raise PermissionDenied(_("Only a companion on this visit may write a coaching note on it."))
        return VisitDetailView.render_page(request, visit, note_form=form, status=400)


def _visitor_only(request, visit: Visit) -> None:
    if visit.owner_id != request.user.pk:
        raise PermissionDenied(_("Only the salesperson who made the visit may change it."))


class CheckOutView(View):
    def post(self, request, pk):
        visit = _visible_visit(request, pk)
        _visitor_only(request, visit)
        form = CheckOutForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                visit = visits.check_out(
                    by=request.user,
                    visit=visit,
                    fix=data["fix"],
                    status=data["location_status"],
                    outcome=data["outcome"],
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Checked out at %(time)s — a visit of %(minutes)s minutes.")
                    % {
                        "time": time_format(timezone.localtime(visit.checked_out_at), "H:i"),
                        "minutes": localize(visit.duration_minutes),
                    },
                )
                return redirect("activities:visit-detail", pk=visit.pk)
        visit = _visible_visit(request, pk)
        return VisitDetailView.render_page(request, visit, check_out_form=form, status=400)


@method_decorator(csrf_exempt, name="dispatch")
class VisitPhotoAddView(View):
    """Add a photo. An upload over the cap is refused from its ``Content-Length``
    before Django reads (and spools to disk) the body; the CSRF check, which would read
    it, runs only after that (Django's pattern for upload handling: ``csrf_exempt`` on
    the view, ``csrf_protect`` on what processes the request). Nothing is stored for a
    refused upload."""

    def post(self, request, pk):
        visit = _visible_visit(request, pk)
        _visitor_only(request, visit)
        try:
            visits.refuse_oversized_request(request.META.get("CONTENT_LENGTH"))
        except ValidationError as error:
            form = VisitPhotoForm.refused(error)
            response = VisitDetailView.render_page(request, visit, photo_form=form, status=413)
            response["Connection"] = "close"  # the unread body is not left on a kept-alive connection
            return response
        return csrf_protect(self._store)(request, visit)

    def _store(self, request, visit):
        form = VisitPhotoForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                visits.attach_photo(by=request.user, visit=visit, upload=form.cleaned_data["photo"])
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Photo added."))
                return redirect(reverse("activities:visit-detail", args=[visit.pk]) + "#photos")
        return VisitDetailView.render_page(
            request, _visible_visit(request, visit.pk), photo_form=form, status=400
        )


# Opened on its own, a JPEG is shown in the browser's own image document, which styles it
# inline: allowed for this response only (an image, sent with nosniff, runs no script).
@method_decorator(csp_replace({"style-src": ["'unsafe-inline'"]}), name="get")
class VisitPhotoView(View):
    """The photo's bytes, only for people who may see the visit's customer; private
    caching (never a shared cache), and never a public MEDIA_URL."""

    def get(self, request, pk):
        photo = get_object_or_404(VisitPhoto.objects.visible_to(request.user), pk=pk)
        try:
            image = photo.image.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(image, content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=3600"
        return response


class CustomerLocationView(View):
    """Where the customer is: the owner or a manager sets or corrects it (typed, or
    "use my current position"). GET is the form on its own page (a phone's way in)."""

    template_name = "activities/customer_location_form.html"

    def _setup(self, request, pk):
        customer = _live_customer(request, pk)
        if not permissions.can_correct_location(request.user, customer):
            raise PermissionDenied(_("Only the customer's owner or a manager may correct its location."))
        return customer

    def get(self, request, pk):
        customer = self._setup(request, pk)
        known = CustomerLocation.objects.filter(customer=customer).first()
        initial = {"latitude": known.latitude, "longitude": known.longitude} if known else {}
        return render(
            request,
            self.template_name,
            {"customer": customer, "known": known, "form": CustomerLocationForm(initial=initial)},
        )

    def post(self, request, pk):
        customer = self._setup(request, pk)
        form = CustomerLocationForm(request.POST)
        if form.is_valid():
            try:
                visits.set_customer_location(by=request.user, customer=customer, fix=form.cleaned_data["fix"])
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("The customer's location is saved."))
                return redirect(reverse("crm:customer-detail", args=[customer.pk]) + "#location")
        known = CustomerLocation.objects.filter(customer=customer).first()
        return render(
            request, self.template_name, {"customer": customer, "known": known, "form": form}, status=400
        )

"""Import pages: history, upload, preview/progress/result, confirm, cancel, templates."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from . import registry, selectors, services
from .forms import ImportUploadForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _visible_batch(request, pk):
    return get_object_or_404(selectors.imports_visible_to(request.user), pk=pk)


class ImportListView(ListView):
    template_name = "imports/import_list.html"
    context_object_name = "batches"
    paginate_by = 25

    def get_queryset(self):
        return selectors.import_list_for(self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            show_user=not self.request.user.is_salesperson,
            query_string="",
            kinds=registry.choices(),
            **kwargs,
        )


class ImportCreateView(View):
    template_name = "imports/import_form.html"

    def _render(self, request, form, status=200):
        return render(request, self.template_name, {"form": form, "kinds": registry.choices()}, status=status)

    def get(self, request):
        return self._render(request, ImportUploadForm(initial={"kind": request.GET.get("kind", "customers")}))

    def post(self, request):
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                batch = services.start_import(
                    by=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"]
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                return redirect("imports:detail", pk=batch.pk)
        return self._render(request, form, status=400)


class ImportDetailView(View):
    def get(self, request, pk):
        batch = _visible_batch(request, pk)
        return render(
            request,
            "imports/import_detail.html",
            {
                "batch": batch,
                "is_uploader": batch.user_id == request.user.pk,
                "importer": registry.get(batch.kind),
            },
        )


class ImportProgressView(View):
    """The progress fragment htmx polls twice a second (a 20,000-row check can take only
    a couple of seconds, and the bar should be seen moving); once the batch stops running it
    answers without the polling trigger and asks htmx to reload the page (result)."""

    def get(self, request, pk):
        batch = _visible_batch(request, pk)
        response = render(request, "imports/_progress.html", {"batch": batch})
        if not batch.is_running and request.headers.get("HX-Request"):
            response["HX-Refresh"] = "true"
        return response


class ImportConfirmView(View):
    def post(self, request, pk):
        batch = _visible_batch(request, pk)
        try:
            batch = services.confirm_import(batch=batch, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if batch.state == "done":
                messages.success(
                    request,
                    _("Import finished: %(created)s created, %(updated)s updated.")
                    % {"created": batch.created_count, "updated": batch.updated_count},
                )
        return redirect("imports:detail", pk=batch.pk)


class ImportCancelView(View):
    def post(self, request, pk):
        batch = _visible_batch(request, pk)
        try:
            services.cancel_import(batch=batch, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Import cancelled; nothing was written."))
        return redirect("imports:detail", pk=batch.pk)


class ImportTemplateView(View):
    """The empty template as .xlsx, headers in English or Chinese (``?language=zh-hans``)."""

    def get(self, request):
        kind = request.GET.get("kind", "customers")
        if registry.get(kind) is None:
            raise Http404
        language = request.GET.get("language") or get_language() or "en"
        content = services.template_workbook(kind, language)
        suffix = "zh" if language.startswith("zh") else "en"
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="import-{kind}-template-{suffix}.xlsx"'
        return response

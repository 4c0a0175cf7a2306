"""The activity list as CSV/Excel, through crm's one export path (policy, cap, record,
formula neutralisation): the same filters as the page, only visible activities."""

from django.utils.translation import gettext_lazy as _
from django.views import View

from core.replicas import ReplicaReadsMixin
from crm import glossary
from crm.exporting import export_response

from . import selectors
from .filters import ActivityFilter

HEADERS = [
    _("When"),
    _("Customer"),
    _("Contact"),
    _("Channel"),
    _("Purpose"),
    _("Duration (minutes)"),
    _("Outcome"),
    _("Effective"),
    _("Objection"),
    _("Next follow-up"),
    glossary.COMPETITOR_NEWS,
    _("Expense (CNY)"),
    _("Salesperson"),
]


class ActivityExportView(ReplicaReadsMixin, View):
    def get(self, request):
        filterset = ActivityFilter(
            request.GET, request=request, queryset=selectors.activities_visible_to(request.user)
        )
        return export_response(
            request,
            kind="activities",
            queryset=filterset.qs.order_by("-started_at", "-pk"),
            headers=HEADERS,
            row=lambda a: [
                a.started_at,
                a.customer.name,
                a.contact.name if a.contact else "",
                a.get_kind_display(),
                a.get_purpose_display(),
                a.duration_minutes,
                a.outcome,
                _("yes") if a.effective else _("no"),
                a.objection.display_name if a.objection else "",
                a.next_follow_up_on,
                a.competitor_news,
                a.expense,
                a.owner.display_name,
            ],
        )

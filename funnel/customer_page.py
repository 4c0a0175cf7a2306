"""What the funnel adds to the customer page: the grade panel and grade moves on the timeline."""
from django.utils.translation import gettext as _

from crm.extensions import CustomerPanel, TimelineEntry, register_customer_panel, register_timeline_source

from . import selectors
from .forms import ChangeGradeForm


def grade_panel_context(request, customer) -> dict | None:
    if customer.is_archived:
        return {"customer": customer, "form": None}
    return {"customer": customer, "form": ChangeGradeForm(customer=customer)}


def grade_changes_timeline(customer, limit: int) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            at=change.changed_at, kind="grade", icon="⇅",
            title=_("Grade %(from)s → %(to)s") % {
                "from": change.from_grade.code if change.from_grade else "—", "to": change.to_grade.code,
            },
            detail=change.note,
            actor=change.changed_by.display_name if change.changed_by else "",
        )
        for change in selectors.grade_timeline(customer, limit)
    ]


def register() -> None:
    register_customer_panel(CustomerPanel(key="funnel.grade", template_name="funnel/customer_grade_panel.html",
                                          context=grade_panel_context, column="main", order=10))
    register_timeline_source(grade_changes_timeline)

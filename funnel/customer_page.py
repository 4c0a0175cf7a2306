"""What the funnel adds to the customer page: the grade panel, the owner panel (alert,
handover tasks, reassign and release), and grade moves and reassignments on the timeline."""

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.extensions import (
    CustomerPanel,
    TimelineEntry,
    register_customer_annotations,
    register_customer_panel,
    register_timeline_source,
)

from . import permissions, selectors
from .forms import ChangeGradeForm, ReassignForm, ReleaseForm
from .models import HandoverTask, StagnationAlert


def grade_panel_session_key(pk: int) -> str:
    return f"funnel.grade_panel.{pk}"


def grade_panel_context(request, customer) -> dict | None:
    if customer.is_archived:
        return {"customer": customer, "form": None}
    refused = request.session.pop(grade_panel_session_key(customer.pk), None)
    if not refused:
        return {"customer": customer, "form": ChangeGradeForm(customer=customer)}
    # The last move was refused: offer it again with the errors on the fields at fault.
    form = ChangeGradeForm(customer=customer, initial={"grade": refused["grade"], "note": refused["note"]})
    form.cleaned_data = {}  # unbound: add_error needs somewhere to drop the field from
    for name, errors in refused["errors"].items():
        for message in errors:
            form.add_error(name if name in form.fields else None, message)
    return {"customer": customer, "form": form}


def grade_changes_timeline(customer, limit: int) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            at=change.changed_at,
            kind="grade",
            icon="⇅",
            title=_("Grade %(from)s → %(to)s")
            % {
                "from": change.from_grade.label if change.from_grade else "—",
                "to": change.to_grade.label,
            },
            detail=change.note,
            actor=change.changed_by.display_name if change.changed_by else "",
        )
        for change in selectors.grade_timeline(customer, limit)
    ]


def register() -> None:
    register_customer_panel(
        CustomerPanel(
            key="funnel.grade",
            column="main",
            order=10,
            template_name="funnel/customer_grade_panel.html",
            context=grade_panel_context,
        )
    )
    register_timeline_source(grade_changes_timeline)
    register_management()


# --- Owner, handover and alert: the side panel, and reassignments on the timeline ------------


def owner_panel_annotations() -> dict:
    """Read with the page's customer: whether it has an open stagnation alert (which is
    for its current stay at its grade) and open handover tasks."""
    return {
        "has_open_stagnation_alert": Exists(StagnationAlert.objects.open().filter(customer=OuterRef("pk"))),
        "has_open_handover_tasks": Exists(HandoverTask.objects.open().filter(customer=OuterRef("pk"))),
    }


def owner_panel_context(request, customer) -> dict | None:
    """Stagnation alert, open handover tasks, and the reassign / release forms for those
    who may use them — two queries at most (tasks when there are some, owner choices)."""
    user = request.user
    live = not customer.is_archived
    may_reassign = (
        live and user.is_manager_or_admin and (user.is_admin or permissions.in_tree(user, customer.owner))
    )
    tasks = (
        HandoverTask.objects.open().filter(customer=customer).select_related("owner", "step")
        if customer.has_open_handover_tasks
        else []
    )
    return {
        "customer": customer,
        "alert": customer.has_open_stagnation_alert,
        "tasks": list(tasks),
        "reassign_form": ReassignForm.for_customer(user, customer) if may_reassign else None,
        "release_form": ReleaseForm() if live and permissions.can_release(user, customer) else None,
        "locked": customer.grade.locked,
        "today": timezone.localdate(),
    }


def reassignments_timeline(customer, limit: int) -> list[TimelineEntry]:
    def people(record) -> str:
        return _("%(from)s → %(to)s") % {
            "from": record.from_owner.display_name if record.from_owner else _("public pool"),
            "to": record.to_owner.display_name if record.to_owner else _("public pool"),
        }

    return [
        TimelineEntry(
            at=record.at,
            kind="reassignment",
            icon="⇄",
            title=f"{record.get_kind_display()}: {people(record)}"
            + (" · " + str(_("forced past a locked grade")) if record.forced else ""),
            detail=record.reason,
            actor=record.by.display_name if record.by else _("system"),
        )
        for record in selectors.reassignment_timeline(customer, limit)
    ]


def register_management() -> None:
    register_customer_panel(
        CustomerPanel(
            key="funnel.owner",
            column="side",
            order=10,
            template_name="funnel/customer_owner_panel.html",
            context=owner_panel_context,
        )
    )
    register_customer_annotations(owner_panel_annotations)
    register_timeline_source(reassignments_timeline)

"""What activities add to the customer page: a contact panel (log a call or visit,
cadence status) and every activity on the timeline."""
from django.utils.translation import gettext as _

from crm.extensions import (
    CustomerPanel,
    TimelineEntry,
    register_customer_annotations,
    register_customer_panel,
    register_timeline_source,
)

from . import selectors
from .models import ActivityKind, CadenceRule, CallStage, Purpose

ICONS = {ActivityKind.CALL: "☎", ActivityKind.VISIT: "⌂", ActivityKind.EMAIL: "✉",
         ActivityKind.MESSAGE: "✆", ActivityKind.MEETING: "◎"}


def contact_panel_context(request, customer) -> dict | None:
    """Last call / visit, next follow-up, whether the cadence is due. No query: the tier's
    rule comes with the page's customer (``rule_annotations``), the dates are the
    customer's own denormalized fields."""
    rule = None
    if customer.cadence_id is not None:
        rule = CadenceRule(pk=customer.cadence_id, tier=customer.tier,
                           call_every_days=customer.cadence_call_every_days,
                           visit_every_days=customer.cadence_visit_every_days)
    flags = selectors.cadence_flags(customer, rule) if rule else {}
    return {"customer": customer, "rule": rule, "flags": flags, "can_log": not customer.is_archived}


def activities_timeline(customer, limit: int) -> list[TimelineEntry]:
    """Labels and phrases are translated once per call, not once per activity: each
    ``get_FOO_display`` re-reads its field's choices, translating every label."""
    kinds, purposes, stages = ({value: str(label) for value, label in choices.choices}
                               for choices in (ActivityKind, Purpose, CallStage))
    effective, objection_line, follow_up_line = (
        _("effective"), _("Objection: %(objection)s"), _("Next follow-up: %(date)s"))
    entries = []
    for activity in selectors.customer_activities(customer, limit):
        parts = [purposes.get(activity.purpose, activity.purpose)]
        if activity.call_stage:
            parts.append(stages.get(activity.call_stage, str(activity.call_stage)))
        if activity.contact:
            parts.append(activity.contact.name)
        if activity.effective:
            parts.append(effective)
        detail = [activity.outcome]
        if activity.objection:
            detail.append(objection_line % {"objection": activity.objection.display_name})
        if activity.next_follow_up_on:
            detail.append(follow_up_line % {"date": activity.next_follow_up_on.isoformat()})
        entries.append(TimelineEntry(
            at=activity.started_at, kind="activity", icon=ICONS.get(activity.kind, "•"),
            title=f"{kinds.get(activity.kind, activity.kind)} · {' · '.join(parts)}",
            detail="\n".join(line for line in detail if line), actor=activity.owner.display_name,
        ))
    return entries


def register() -> None:
    register_customer_panel(CustomerPanel(
        key="activities.contact", template_name="activities/customer_panel.html",
        context=contact_panel_context, column="side", order=10,
    ))
    register_customer_annotations(selectors.rule_annotations)
    register_timeline_source(activities_timeline)

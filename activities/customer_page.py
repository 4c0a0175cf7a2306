"""What activities add to the customer page: a contact panel (log a call or visit,
cadence status) and every activity on the timeline; and "Log call" on each customer the
quick search finds. Field visits add the customer's location with its last check-ins, and
the action bar (Call, Log call, Check in, Navigate)."""

import re
from urllib.parse import quote

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.extensions import (
    CustomerAction,
    CustomerPanel,
    TimelineEntry,
    register_customer_annotations,
    register_customer_panel,
    register_search_action,
    register_timeline_source,
)
from crm.glossary import cadence_label
from crm.models import KeyPersonRole, User

from . import permissions, selectors
from .forms import CustomerLocationForm
from .models import ActivityKind, CadenceRule, CallStage, LocationSource, Purpose

ICONS = {
    ActivityKind.CALL: "☎",
    ActivityKind.VISIT: "⌂",
    ActivityKind.EMAIL: "✉",
    ActivityKind.MESSAGE: "✆",
    ActivityKind.FAX: "℻",
    ActivityKind.MEETING: "◎",
}


def contact_panel_context(request, customer) -> dict | None:
    """Last call / visit, next follow-up, whether the cadence is due. No query: the tier's
    rule comes with the page's customer (``rule_annotations``), the dates are the
    customer's own denormalized fields."""
    rule = None
    if customer.cadence_id is not None:
        rule = CadenceRule(
            pk=customer.cadence_id,
            tier=customer.tier,
            call_every_days=customer.cadence_call_every_days,
            visit_every_days=customer.cadence_visit_every_days,
        )
    flags, cadence = {}, {}
    if rule is not None:
        flags = selectors.cadence_flags(customer, rule)
        # In the method's words: 30 days is "monthly" (每月), not "every 30 days".
        cadence = {"call": cadence_label(rule.call_every_days), "visit": cadence_label(rule.visit_every_days)}
    return {
        "customer": customer,
        "rule": rule,
        "flags": flags,
        "cadence": cadence,
        "can_log": not customer.is_archived,
    }


def activities_timeline(customer, limit: int) -> list[TimelineEntry]:
    """Labels and phrases are translated once per call, not once per activity: each
    ``get_FOO_display`` re-reads its field's choices, translating every label."""
    kinds, purposes, stages = (
        {value: str(label) for value, label in choices.choices}
        for choices in (ActivityKind, Purpose, CallStage)
    )
    effective, objection_line, follow_up_line = (
        _("effective"),
        _("Objection: %(objection)s"),
        _("Next follow-up: %(date)s"),
    )
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
        entries.append(
            TimelineEntry(
                at=activity.started_at,
                kind="activity",
                icon=ICONS.get(activity.kind, "•"),
                title=f"{kinds.get(activity.kind, activity.kind)} · {' · '.join(parts)}",
                detail="\n".join(line for line in detail if line),
                actor=activity.owner.display_name,
            )
        )
    return entries


# --- Field visits: the location panel and the action bar ---------------------------------------


def _field_visits(request, customer) -> selectors.CustomerVisits:
    """Read once for both panels (one query): the last check-ins and the viewer's open visit."""
    if not hasattr(customer, "field_visits"):
        customer.field_visits = selectors.customer_visits(request.user, customer)
    return customer.field_visits


def _known_location(customer) -> dict | None:
    """From the page's customer query (``selectors.location_annotations``): no query."""
    if customer.location_latitude is None:
        return None
    set_by = ""
    if customer.location_set_by_username:
        set_by = User.name_from(
            customer.location_set_by_first_name,
            customer.location_set_by_last_name,
            customer.location_set_by_username,
        )
    return {
        "latitude": customer.location_latitude,
        "longitude": customer.location_longitude,
        "source": LocationSource(customer.location_source).label,
        "set_at": customer.location_set_at,
        "set_by": set_by,
    }


def location_panel_context(request, customer) -> dict:
    location = _known_location(customer)
    can_correct = not customer.is_archived and permissions.can_correct_location(request.user, customer)
    initial = {"latitude": location["latitude"], "longitude": location["longitude"]} if location else {}
    return {
        "customer": customer,
        "location": location,
        "visits": _field_visits(request, customer).recent,
        "form": CustomerLocationForm(initial=initial) if can_correct else None,
    }


def _phone(customer) -> str:
    """Whom "Call" rings: the decision maker, else the first contact with a phone, else the
    company's number (the page's contacts are prefetched, sorted by name)."""
    contacts = sorted(customer.contacts.all(), key=lambda c: c.role != KeyPersonRole.DECISION_MAKER)
    return next((c.phone for c in contacts if c.phone.strip()), "") or customer.phone


def _geo_uri(customer, location: dict | None) -> str:
    """A ``geo:`` link the phone's map app opens: the known position, else the address."""
    if location is not None:
        return f"geo:{location['latitude']},{location['longitude']}"
    if customer.address.strip():
        return f"geo:0,0?q={quote(customer.address.strip())}"
    return ""


def action_bar_context(request, customer) -> dict:
    """Call, Log call, Check in (Check out while the viewer's visit there today is open)
    and Navigate: a bar at the thumb on phones, a row of buttons on a desktop."""
    phone = _phone(customer)
    return {
        "customer": customer,
        "can_log": not customer.is_archived,
        "tel": re.sub(r"[^0-9+*#,;]", "", phone),
        "phone": phone,
        "open_visit": _field_visits(request, customer).open_visit,
        "navigate": _geo_uri(customer, _known_location(customer)),
    }


def register() -> None:
    register_customer_panel(
        CustomerPanel(
            key="activities.contact",
            template_name="activities/customer_panel.html",
            context=contact_panel_context,
            column="side",
            order=10,
        )
    )
    register_customer_annotations(selectors.rule_annotations)
    register_timeline_source(activities_timeline)
    register_customer_panel(
        CustomerPanel(
            key="activities.actions",
            template_name="activities/_action_bar.html",
            context=action_bar_context,
            column="actions",
            order=10,
        )
    )
    register_customer_panel(
        CustomerPanel(
            key="activities.location",
            template_name="activities/customer_location_panel.html",
            context=location_panel_context,
            column="side",
            order=20,
        )
    )
    register_customer_annotations(selectors.location_annotations)
    register_search_action(
        CustomerAction(
            key="activities.log-call",
            label=gettext_lazy("Log call"),
            view_name="activities:log-activity",
            query=f"kind={ActivityKind.CALL.value}",
            order=10,
        )
    )

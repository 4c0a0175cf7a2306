"""No report ever shows more effective calls than connected ones (issue 16: 2), as a
property over random mixes of activities: channel, call stage, contact role and the
"effective" the salesperson asked for, logged through the service — plus legacy rows
written straight into the table, ticked effective whatever their stage. The daily
report's figures, "my day"'s counter and the weekly rollup all count a call as
effective only when it connected.

Each hypothesis example runs in its own savepoint, rolled back at its end."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activities import selectors as activity_selectors
from activities.models import Activity, ActivityKind, CallStage, Purpose
from activities.services import log_activity
from activities.tests.factories import at
from crm.models import KeyPersonRole
from crm.tests.factories import ContactFactory, CustomerFactory
from funnel.tests.factories import ensure_default_grades
from reports.models import WeeklyRollup
from reports.periods import week_start
from reports.services import compute_weekly_rollups

KINDS = (ActivityKind.CALL, ActivityKind.VISIT, ActivityKind.EMAIL)
ROLES = (None, *KeyPersonRole.values)
KEY_PEOPLE = {KeyPersonRole.DECISION_MAKER, KeyPersonRole.RECOMMENDER}

activities = st.lists(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(KINDS),
            "stage": st.sampled_from(CallStage.values),
            "role": st.sampled_from(ROLES),
            "effective": st.sampled_from((None, True, False)),
            "legacy": st.booleans(),
        }
    ),
    max_size=12,
)


def _record(spec: dict, *, owner, customer, contacts, when) -> None:
    kind = spec["kind"]
    stage = spec["stage"] if kind == ActivityKind.CALL else None
    contact = contacts[spec["role"]]
    if spec["legacy"]:
        # Before the rule: stored as asked, even "effective" on a call nobody answered.
        Activity.objects.create(
            owner=owner,
            customer=customer,
            contact=contact,
            kind=kind,
            call_stage=stage,
            effective=bool(spec["effective"]),
            purpose=Purpose.SERVICE,
            started_at=when,
        )
        return
    log_activity(
        by=owner,
        customer=customer,
        kind=kind,
        purpose=Purpose.SERVICE,
        started_at=when,
        contact=contact,
        call_stage=stage,
        effective=spec["effective"],
        next_follow_up_on=when.date() + timedelta(days=1),
    )


def _ticked(spec: dict) -> bool:
    """What the salesperson (or the legacy row) said: their choice, else the key-person default."""
    if spec["effective"] is None:
        return not spec["legacy"] and spec["role"] in KEY_PEOPLE
    return spec["effective"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mix=activities)
def test_effective_calls_never_exceed_connected_calls(personas, mix):
    salesperson = personas.salesperson
    day = week_start(timezone.localdate()) - timedelta(days=5)  # last week's Wednesday: a closed week
    with transaction.atomic():
        ensure_default_grades()
        customer = CustomerFactory(owner=salesperson)
        contacts = {role: role and ContactFactory(customer=customer, role=role) for role in ROLES}
        for minute, spec in enumerate(mix):
            _record(spec, owner=salesperson, customer=customer, contacts=contacts, when=at(day, 10, minute))

        figures = activity_selectors.day_figures(salesperson, day)
        counts = activity_selectors.activity_counts(salesperson, day)
        compute_weekly_rollups(week=day)
        rollup = WeeklyRollup.objects.filter(salesperson=salesperson, week_start=week_start(day)).first()

        calls = [s for s in mix if s["kind"] == ActivityKind.CALL]
        connected = sum(s["stage"] >= CallStage.CONNECTED for s in calls)
        assert figures["connected_calls"] == connected
        assert figures["effective_calls"] == sum(
            s["stage"] >= CallStage.CONNECTED and _ticked(s) for s in calls
        )
        assert figures["effective_calls"] <= figures["connected_calls"]
        others = len(mix) - len(calls)
        assert counts["effective"] == figures["effective_activities"] <= connected + others
        if rollup is not None:
            assert (rollup.calls, rollup.connected_calls) == (len(calls), connected)
            assert rollup.effective_calls == figures["effective_calls"] <= rollup.connected_calls
        else:
            assert not mix
        transaction.set_rollback(True)

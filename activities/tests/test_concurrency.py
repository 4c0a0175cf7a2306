"""Real concurrency on PostgreSQL, two connections at once: a manager and an admin
approving the same plan (or signing off the same report) in the same instant, or one
manager double-clicking through the API, leave one decision and one history row; the
other gets a clear refusal. (SQLite serializes writers, so this runs on PostgreSQL
only; CI sets DATABASE_URL to PostgreSQL.)"""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import DailyPlan, DailyReport, PlanState, ReportState, ReviewEvent
from conftest import at_once, race, skip_or_fail
from core.audit import Action
from core.models import SecurityEvent
from crm.tests.factories import CustomerFactory

from .factories import ensure_default_catalog, submitted_plan

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://…")
    ensure_default_catalog()


def _submitted_report(owner) -> DailyReport:
    return services.submit_report(report=services.open_report(by=owner, day=timezone.localdate()), by=owner)


def test_two_reviewers_approving_the_same_plan_at_once_leave_one_approval(personas):
    plan = submitted_plan(personas.salesperson, CustomerFactory(owner=personas.salesperson))
    seen_by_manager, seen_by_admin = DailyPlan.objects.get(pk=plan.pk), DailyPlan.objects.get(pk=plan.pk)

    outcomes = race(
        lambda: services.approve_plan(plan=seen_by_manager, by=personas.manager),
        lambda: services.approve_plan(plan=seen_by_admin, by=personas.admin),
        refusal=ValidationError,
    )

    assert outcomes == ["refused", "won"]
    assert DailyPlan.objects.get(pk=plan.pk).state == PlanState.APPROVED
    assert ReviewEvent.objects.filter(plan=plan, to_state=PlanState.APPROVED).count() == 1


def test_sign_off_and_return_at_once_leave_one_decision(personas):
    report = _submitted_report(personas.salesperson)
    first, second = DailyReport.objects.get(pk=report.pk), DailyReport.objects.get(pk=report.pk)

    outcomes = race(
        lambda: services.sign_off_report(report=first, by=personas.manager),
        lambda: services.return_report(report=second, by=personas.admin, comment="Redo"),
        refusal=ValidationError,
    )

    assert outcomes == ["refused", "won"]
    state = DailyReport.objects.get(pk=report.pk).state
    assert state in {ReportState.SIGNED_OFF, ReportState.RETURNED}
    assert ReviewEvent.objects.filter(report=report).exclude(to_state=ReportState.SUBMITTED).count() == 1


@pytest.mark.parametrize(
    "kind, route, decided, refusal",
    [
        ("plan", "dailyplan-approve", PlanState.APPROVED, "Only a submitted plan can be approved."),
        (
            "report",
            "dailyreport-sign-off",
            ReportState.SIGNED_OFF,
            "Only a submitted report can be signed off.",
        ),
    ],
    ids=["plan", "report"],
)
def test_a_double_click_on_approve_through_the_api_leaves_one_approval(
    personas, kind, route, decided, refusal
):
    owner = personas.salesperson
    row = submitted_plan(owner, CustomerFactory(owner=owner)) if kind == "plan" else _submitted_report(owner)
    clicks = []
    for _click in range(2):
        client = Client()
        client.force_login(personas.manager)
        clicks.append(
            lambda client=client: client.post(
                reverse(route, args=[row.pk]), {"comment": "OK"}, content_type="application/json"
            )
        )

    responses = at_once(*clicks)

    assert sorted(response.status_code for response in responses) == [200, 400]
    assert refusal in next(response.content.decode() for response in responses if response.status_code == 400)
    row.refresh_from_db()
    assert (row.state, row.reviewed_by) == (decided, personas.manager)
    assert ReviewEvent.objects.filter(to_state=decided, **{kind: row}).count() == 1
    assert (
        SecurityEvent.objects.filter(
            action=Action.APPROVAL, object_type=row._meta.label_lower, object_id=str(row.pk)
        ).count()
        == 1
    )

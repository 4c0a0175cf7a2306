"""Real concurrency on PostgreSQL, two connections at once: a manager and an admin
approving the same plan (or signing off the same report) in the same instant leave one
decision and one history row; the other gets a clear refusal. (SQLite serializes
writers, so this runs on PostgreSQL only; CI sets DATABASE_URL to PostgreSQL.)"""
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from activities import services
from activities.models import DailyPlan, DailyReport, PlanState, ReportState, ReviewEvent
from conftest import skip_or_fail
from crm.tests.factories import CustomerFactory

from .factories import ensure_default_catalog, submitted_plan

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://…")
    ensure_default_catalog()


def _race(*attempts) -> list[str]:
    """Each ``attempt()`` in its own thread (its own connection), released at once."""
    barrier = threading.Barrier(len(attempts))
    outcomes = [""] * len(attempts)

    def run(index, attempt):
        try:
            barrier.wait(timeout=10)
            attempt()
            outcomes[index] = "won"
        except ValidationError:
            outcomes[index] = "refused"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, attempt)) for i, attempt in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


def test_two_reviewers_approving_the_same_plan_at_once_leave_one_approval(personas):
    plan = submitted_plan(personas.salesperson, CustomerFactory(owner=personas.salesperson))
    seen_by_manager, seen_by_admin = DailyPlan.objects.get(pk=plan.pk), DailyPlan.objects.get(pk=plan.pk)

    outcomes = _race(lambda: services.approve_plan(plan=seen_by_manager, by=personas.manager),
                     lambda: services.approve_plan(plan=seen_by_admin, by=personas.admin))

    assert outcomes == ["refused", "won"]
    assert DailyPlan.objects.get(pk=plan.pk).state == PlanState.APPROVED
    assert ReviewEvent.objects.filter(plan=plan, to_state=PlanState.APPROVED).count() == 1


def test_sign_off_and_return_at_once_leave_one_decision(personas):
    opened = services.open_report(by=personas.salesperson, day=timezone.localdate())
    report = services.submit_report(report=opened, by=personas.salesperson)
    first, second = DailyReport.objects.get(pk=report.pk), DailyReport.objects.get(pk=report.pk)

    outcomes = _race(lambda: services.sign_off_report(report=first, by=personas.manager),
                     lambda: services.return_report(report=second, by=personas.admin, comment="Redo"))

    assert outcomes == ["refused", "won"]
    state = DailyReport.objects.get(pk=report.pk).state
    assert state in {ReportState.SIGNED_OFF, ReportState.RETURNED}
    assert ReviewEvent.objects.filter(report=report).exclude(to_state=ReportState.SUBMITTED).count() == 1

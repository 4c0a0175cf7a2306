"""The demo routine: weeks of activities, plans and reports, with late and returned ones."""
import random

from django.utils import timezone

from activities.demo import create_demo_activities
from activities.models import Activity, DailyPlan, DailyReport, PlanState, ReportState, ReviewEvent
from crm.demo import create_demo_organisation
from crm.models import Customer
from crm.tests.factories import CustomerFactory


def test_the_demo_has_weeks_of_routine_with_late_and_returned_ones(db):
    today = timezone.localdate()
    users = create_demo_organisation(today)
    for username in ("sales_east1", "sales_west1"):
        for n in range(6):
            CustomerFactory(owner=users[username], name=f"{username} demo customer {n}")

    counts = create_demo_activities(today, random.Random(7))

    assert counts["activities"] == Activity.objects.count() > 50
    assert DailyPlan.objects.filter(date=today, state=PlanState.SUBMITTED).count() == 2
    assert DailyReport.objects.filter(is_late=True).exists()
    assert ReviewEvent.objects.filter(to_state__in=[PlanState.RETURNED, ReportState.RETURNED]).exists()
    assert not Customer.objects.filter(owner=users["sales_east1"], last_activity_at__isnull=True).exists()
    signed = DailyReport.objects.filter(state=ReportState.SIGNED_OFF).first()
    assert signed.reviewed_by == users["mgr_east"] or signed.reviewed_by == users["mgr_west"]

    assert create_demo_activities(today, random.Random(7))["plans"] == 0  # not twice

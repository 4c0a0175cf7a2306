"""The demo routine: weeks of activities, plans and reports, with late and returned ones."""

import random
from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from activities import selectors
from activities.demo import create_demo_activities
from activities.models import Activity, DailyPlan, DailyReport, PlanState, ReportState, ReviewEvent
from activities.services import FIGURE_FIELDS
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


def test_generated_routine_is_consistent_with_what_logging_would_leave(db):
    """``generate_data`` writes activities, plans and reports set-based; the result must
    be what the services would have produced: dates on the customer, report figures."""
    call_command(
        "generate_data", customers=150, users=8, teams=2, activities=1500, weeks=4, seed=3, stdout=StringIO()
    )

    assert Activity.objects.count() == 1500
    today = timezone.localdate()
    activities = list(Activity.objects.select_related("customer").order_by("started_at", "pk"))
    for activity in activities:
        assert activity.owner_id == activity.customer.owner_id
        assert activity.customer.created_at <= activity.started_at
        assert today - timedelta(weeks=4) <= selectors.local_date(activity.started_at) < today
    fields = ["last_activity_at", "last_call_at", "last_visit_at", "next_follow_up_on"]
    expected: dict[int, dict] = {}
    for activity in activities:  # crm.services.record_contact, in the order they happened
        dates = expected.setdefault(activity.customer_id, dict.fromkeys(fields))
        dates["last_activity_at"] = activity.started_at
        dates["next_follow_up_on"] = activity.next_follow_up_on or dates["next_follow_up_on"]
        if activity.kind in ("call", "visit"):
            dates[f"last_{activity.kind}_at"] = activity.started_at
    for customer in Customer.objects.all():
        dates = {field: getattr(customer, field) for field in fields}
        assert dates == expected.get(customer.pk, dict.fromkeys(fields))
    reports = list(DailyReport.objects.select_related("owner"))
    assert reports and DailyReport.objects.filter(state=ReportState.SIGNED_OFF).exists()
    for report in reports:
        figures = selectors.day_figures(report.owner, report.date)
        assert {name: getattr(report, name) for name in FIGURE_FIELDS} == {
            name: figures[name] for name in FIGURE_FIELDS
        }
        assert report.money_collected == figures["collected"]
    assert not DailyPlan.objects.filter(date=today).exclude(state=PlanState.SUBMITTED).exists()
    assert not DailyPlan.objects.filter(date__lt=today).exclude(state=PlanState.APPROVED).exists()

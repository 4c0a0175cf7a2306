"""Merging two customers, archiving and restoring one carry their activities, plan items
and escalations along (``crm.services.merge_customers`` re-points every foreign key)."""

from datetime import timedelta

from django.utils import timezone

from activities import selectors, services
from activities.models import Activity, MarketReport, PlanItem, Purpose
from crm.services import archive_customer, merge_customers, restore_customer
from crm.tests.factories import CustomerFactory

from .factories import log_call, log_visit


def test_merging_moves_activities_plan_items_and_escalations_to_the_kept_customer(personas):
    owner = personas.salesperson
    keep = CustomerFactory(owner=owner, name="Eastwind Trading")
    merge = CustomerFactory(owner=owner, name="Eastwind Shanghai Branch")
    kept_call = log_call(keep, started_at=timezone.now() - timedelta(days=3))
    merged_visit = log_visit(merge, started_at=timezone.now() - timedelta(days=2))
    merged_call = log_call(
        merge,
        started_at=timezone.now() - timedelta(hours=1),
        next_follow_up_on=timezone.localdate() + timedelta(days=1),
    )
    plan = services.open_plan(by=owner, day=timezone.localdate() + timedelta(days=1))
    item = services.add_plan_item(plan=plan, by=owner, customer=merge, purpose=Purpose.ORDER)
    escalation = services.file_market_report(
        by=owner, kind="complaint", customer=merge, title="Late", body="x"
    )

    merge_customers(keep=keep, merge=merge, by=personas.manager)

    assert set(Activity.objects.filter(customer=keep)) == {kept_call, merged_visit, merged_call}
    assert not Activity.objects.filter(customer=merge).exists()
    assert PlanItem.objects.get(pk=item.pk).customer == keep
    assert MarketReport.objects.get(pk=escalation.pk).customer == keep
    keep.refresh_from_db()
    assert keep.last_visit_at == merged_visit.started_at
    assert keep.last_call_at == merged_call.started_at
    assert keep.last_activity_at == merged_call.started_at
    assert keep.next_follow_up_on == merged_call.next_follow_up_on  # the earlier of the two agreed
    assert [a.pk for a in selectors.customer_activities(keep, 10)] == [
        merged_call.pk,
        merged_visit.pk,
        kept_call.pk,
    ]


def test_archiving_and_restoring_keep_the_activities(personas):
    customer = CustomerFactory(owner=personas.salesperson)
    activity = log_call(customer)

    archive_customer(customer=customer, by=personas.salesperson)
    assert list(selectors.activities_visible_to(personas.salesperson)) == [activity]
    restore_customer(customer=customer, by=personas.manager)

    assert Activity.objects.get().customer_id == customer.pk
    assert list(selectors.activities_visible_to(personas.salesperson)) == [activity]

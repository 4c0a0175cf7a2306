"""工作交接 of won (成交) customers: a change of salesperson hands them over too — by
default a visit by the new owner within 7 days, configurable like every grade's template."""

import importlib
from datetime import timedelta

from django.utils import timezone

from funnel import selectors
from funnel.models import HandoverKind, HandoverStatus, HandoverStep, HandoverTask
from funnel.services import apply_departure, complete_handover_tasks, reassign_customer
from funnel.tests.builders import customer_at
from funnel.tests.factories import apps_as_of, grade

won_step = importlib.import_module("funnel.migrations.0014_won_handover_step")


def test_reassigning_a_won_customer_creates_a_visit_within_7_days(personas):
    customer = customer_at("WON", personas.salesperson, name="Loyal Buyer")

    reassign_customer(customer=customer, new_owner=personas.teammate, by=personas.manager, reason="Territory")

    task = HandoverTask.objects.get(customer=customer)
    assert (task.owner, task.kind, task.status) == (
        personas.teammate,
        HandoverKind.VISIT,
        HandoverStatus.OPEN,
    )
    assert task.due_on == timezone.localdate() + timedelta(days=7)
    assert task.description == won_step.DESCRIPTION


def test_a_departure_with_won_customers_creates_their_handover_tasks(personas):
    won = [customer_at("WON", personas.salesperson, name=f"Signed {n}") for n in range(2)]
    open_one = customer_at("D", personas.salesperson, name="Still Talking")
    assignments = {
        customer.pk: personas.teammate for customer in selectors.departure_customers(personas.salesperson)
    }

    apply_departure(leaver=personas.salesperson, assignments=assignments, by=personas.manager)

    for customer in won:
        task = HandoverTask.objects.get(customer=customer)
        assert (task.owner, task.kind) == (personas.teammate, HandoverKind.VISIT)
        assert task.due_on == timezone.localdate() + timedelta(days=7)
    assert HandoverTask.objects.filter(customer=open_one, owner=personas.teammate).exists()


def test_the_won_template_is_configurable_like_the_other_grades(personas):
    HandoverStep.objects.filter(grade=grade("WON")).update(kind=HandoverKind.PHONE, due_in_days=2)
    customer = customer_at("WON", personas.salesperson)

    reassign_customer(customer=customer, new_owner=personas.teammate, by=personas.manager, reason="Territory")

    task = HandoverTask.objects.get(customer=customer)
    assert (task.kind, task.due_on) == (HandoverKind.PHONE, timezone.localdate() + timedelta(days=2))


def test_a_visit_by_the_new_owner_completes_the_won_handover(personas):
    customer = customer_at("WON", personas.salesperson)
    reassign_customer(customer=customer, new_owner=personas.teammate, by=personas.manager, reason="Territory")

    complete_handover_tasks(customer=customer, channel="visit", by=personas.teammate, at=timezone.now())

    assert HandoverTask.objects.get(customer=customer).status == HandoverStatus.DONE


def test_the_data_migration_adds_the_step_only_where_none_exists(personas):
    customer_at("WON", personas.salesperson)  # the default templates are in place
    won = grade("WON")

    won_step.create_won_step(apps_as_of("funnel", "0014_won_handover_step"), schema_editor=None)
    assert HandoverStep.objects.filter(grade=won).count() == 1

    HandoverStep.objects.filter(grade=won).delete()
    HandoverStep.objects.create(
        grade=won, kind=HandoverKind.EMAIL, due_in_days=1, description="Thank-you mail"
    )
    won_step.create_won_step(apps_as_of("funnel", "0014_won_handover_step"), schema_editor=None)
    assert list(HandoverStep.objects.filter(grade=won).values_list("description", flat=True)) == [
        "Thank-you mail"
    ]
    assert not HandoverStep.objects.filter(grade=grade("LOST")).exists()

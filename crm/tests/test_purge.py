"""Retention: archived customers stay restorable for at least 90 days; after that only
an admin may purge one (customer, contacts and their field history), and the purge is
in the security audit log."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from core.models import SecurityAction, SecurityEvent
from crm import services
from crm.models import Contact, Customer
from crm.tests.factories import ContactFactory, CustomerFactory, OrderFactory


@pytest.fixture
def archived(personas):
    customer = CustomerFactory(owner=personas.salesperson)
    ContactFactory(customer=customer)
    ContactFactory(customer=customer)
    return services.archive_customer(customer=customer, by=personas.salesperson, reason="Closed down")


def _later(days: int):
    return time_machine.travel(timezone.now() + timedelta(days=days), tick=False)


def test_archived_customers_are_kept_at_least_ninety_days():
    assert settings.ARCHIVE_RETENTION_DAYS >= 90


@pytest.mark.django_db
def test_an_admin_purges_an_archived_customer_after_the_retention(archived, personas):
    pk = archived.pk
    contact_ids = list(archived.contacts.values_list("pk", flat=True))

    with _later(settings.ARCHIVE_RETENTION_DAYS + 1):
        services.purge_customer(customer=archived, by=personas.admin)

    assert not Customer.objects.filter(pk=pk).exists()
    assert not Contact.objects.filter(pk__in=contact_ids).exists()
    assert not Customer.history.filter(id=pk).exists()
    assert not Contact.history.filter(id__in=contact_ids).exists()
    purge = SecurityEvent.objects.get(action=SecurityAction.PURGE)
    assert (purge.actor, purge.object_type, purge.object_id, purge.detail["contacts"]) == (
        personas.admin,
        "crm.customer",
        str(pk),
        2,
    )


@pytest.mark.django_db
def test_within_the_retention_the_customer_stays_restorable_and_is_not_purged(archived, personas):
    with _later(settings.ARCHIVE_RETENTION_DAYS - 1):
        with pytest.raises(ValidationError, match="can be restored until"):
            services.purge_customer(customer=archived, by=personas.admin)
        services.restore_customer(customer=archived, by=personas.manager)

    assert Customer.objects.get(pk=archived.pk).archived_at is None
    assert not SecurityEvent.objects.filter(action=SecurityAction.PURGE).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["salesperson", "manager"])
def test_only_admins_may_purge(archived, personas, role):
    with _later(settings.ARCHIVE_RETENTION_DAYS + 1), pytest.raises(PermissionDenied):
        services.purge_customer(customer=archived, by=personas.user(role))

    assert Customer.objects.filter(pk=archived.pk).exists()


@pytest.mark.django_db
def test_a_live_customer_is_never_purged(personas):
    customer = CustomerFactory(owner=personas.salesperson)

    with _later(365), pytest.raises(ValidationError, match="Only archived customers"):
        services.purge_customer(customer=customer, by=personas.admin)

    assert Customer.objects.filter(pk=customer.pk).exists()


@pytest.mark.django_db
def test_a_customer_with_orders_is_kept(personas):
    customer = CustomerFactory(owner=personas.salesperson)
    OrderFactory(customer=customer, amount=Decimal(1000), signed_on=date(2025, 3, 1))
    services.archive_customer(customer=customer, by=personas.admin)

    with _later(settings.ARCHIVE_RETENTION_DAYS + 1), pytest.raises(ValidationError, match="orders"):
        services.purge_customer(customer=customer, by=personas.admin)

    assert Customer.objects.filter(pk=customer.pk).exists()


@pytest.mark.django_db
def test_the_admin_action_purges_what_is_due_and_explains_what_is_not(archived, client_as, personas):
    also_due = services.archive_customer(
        customer=CustomerFactory(owner=personas.salesperson), by=personas.admin
    )

    with _later(settings.ARCHIVE_RETENTION_DAYS + 1):
        client = client_as("admin")
        recent = services.archive_customer(
            customer=CustomerFactory(owner=personas.salesperson), by=personas.admin
        )
        response = client.post(
            reverse("admin:crm_customer_changelist"),
            {
                "action": "purge_selected",
                "_selected_action": [archived.pk, also_due.pk, recent.pk],
            },
            follow=True,
        )

    assert response.status_code == 200
    assert not Customer.objects.filter(pk__in=[archived.pk, also_due.pk]).exists()
    assert Customer.objects.filter(pk=recent.pk).exists()
    assert "can be restored until" in response.content.decode()

from datetime import date
from decimal import Decimal

import factory
from django.utils import timezone

from crm import services
from crm.models import Contact, Customer, Order, Role, Team, User


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.SALESPERSON
    team = factory.SubFactory(TeamFactory)
    password = factory.django.Password("correct-horse-battery")


class CustomerFactory(factory.django.DjangoModelFactory):
    """A live customer, created through ``crm.services.create_customer`` (duplicate check,
    stagnation clock, history) by ``by`` (default: its owner).

    ``CustomerFactory(owner=None, by=admin)`` puts one in the public pool.
    """

    class Meta:
        model = Customer
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Customer {n} Trading")
    owner = factory.SubFactory(UserFactory)
    grade = factory.LazyFunction(lambda: grade_by_code("E"))
    by = factory.LazyAttribute(lambda customer: customer.owner)

    @classmethod
    def _create(cls, model_class, *args, by=None, owner=None, grade=None, name="", **fields):
        return services.create_customer(by=by, owner=owner, grade=grade, name=name, **fields)


class ContactFactory(factory.django.DjangoModelFactory):
    """A contact at a customer, created through ``crm.services.create_contact``."""

    class Meta:
        model = Contact
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Faker("name")
    by = factory.LazyAttribute(lambda contact: contact.customer.owner)

    @classmethod
    def _create(cls, model_class, *args, customer=None, by=None, name="", **fields):
        return services.create_contact(customer=customer, by=by, name=name, **fields)


class OrderFactory(factory.django.DjangoModelFactory):
    """A signed order, created through ``crm.services.create_order`` (lifecycle kept;
    the customer stays at its grade — ``funnel.services.record_order`` moves it to won)."""

    class Meta:
        model = Order
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    amount = Decimal("100000.00")
    signed_on = factory.LazyFunction(date.today)
    by = factory.LazyAttribute(lambda order: order.customer.owner)

    @classmethod
    def _create(cls, model_class, *args, customer=None, by=None, **fields):
        return services.create_order(customer=customer, by=by, **fields)


def grade_by_code(code: str):
    from funnel.tests.factories import grade

    return grade(code)


def bulk_customers(
    *, owner: User | None, count: int, grade, prefix: str = "Bulk", start: int = 0
) -> list[Customer]:
    """Customers number ``start`` to ``start + count`` in one INSERT (for query-count
    tests). ``bulk_create`` skips ``Customer.save``, so the normalized name (unique per
    live customer) and the weighted value are set here."""
    now = timezone.now()
    key = owner.pk if owner else "pool"
    customers = [
        Customer(
            name=f"{prefix} {key} {n}",
            name_normalized=f"{prefix.lower()}{key}n{n}",
            owner=owner,
            grade=grade,
            grade_entered_at=now,
            expected_value=Decimal(1000 * (n + 1)),
        )
        for n in range(start, start + count)
    ]
    for customer in customers:
        customer.refresh_weighted_value()
    return Customer.objects.bulk_create(customers)

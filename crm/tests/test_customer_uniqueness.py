"""Customer uniqueness in the database (issue 17): two live customers never share a
normalized name or a phone, whatever path writes them; a race lost at the unique index
gets the same friendly duplicate message; and a duplicate that already exists (legacy
data, a contact's phone) can still be edited by its owner. (Parallel creates on
PostgreSQL: ``config/tests/test_idempotent_races.py``.)"""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crm import services
from crm.importing import services as imports
from crm.models import Contact, Customer
from crm.normalize import normalize_company_name, normalize_email, phone_digits
from crm.tests.factories import CustomerFactory
from crm.tests.test_imports import upload, workbook_from_template
from funnel.tests.factories import grade

phone_migration = importlib.import_module("crm.migrations.0015_customer_live_phone_unique")
name_migration = importlib.import_module("crm.migrations.0016_restore_customer_live_name_unique")


def _legacy_copy(customer: Customer, **fields) -> Customer:
    """A second row written past the services (an old import, SQL), as legacy data is."""
    values = {"name": f"{customer.name} (old)", "grade": customer.grade, "owner": customer.owner, **fields}
    copy = Customer(**values)
    copy.name_normalized = normalize_company_name(copy.name)
    copy.phone_digits, copy.email_normalized = phone_digits(copy.phone), normalize_email(copy.email)
    Customer.objects.bulk_create([copy])
    return copy


# --- The database refuses --------------------------------------------------------------------


def test_the_database_refuses_a_second_live_customer_with_the_same_phone_digits(personas):
    first = CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics", phone="021-5555 0101")

    with pytest.raises(IntegrityError), transaction.atomic():
        _legacy_copy(first, name="Harbour Point", phone="021 5555 0101")


def test_an_archived_customer_and_customers_without_a_phone_may_share_one(personas):
    first = CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics", phone="021-5555 0101")
    Customer.objects.filter(pk=first.pk).update(archived_at=timezone.now())

    _legacy_copy(first, name="Harbour Point", phone="021 5555 0101")
    _legacy_copy(first, name="No Phone One", phone="")
    _legacy_copy(first, name="No Phone Two", phone="")

    assert Customer.objects.filter(phone_digits="02155550101").count() == 2


def test_a_phone_race_lost_at_the_unique_index_is_the_friendly_duplicate_error(personas, monkeypatch):
    # given: the other create committed after this one's duplicate check ran
    CustomerFactory(owner=personas.teammate, name="Harbor Point Logistics", phone="021-5555 0101")
    monkeypatch.setattr(services, "ensure_not_duplicate", lambda **kwargs: None)

    # when
    with pytest.raises(ValidationError) as refused:
        services.create_customer(
            by=personas.salesperson,
            owner=personas.salesperson,
            grade=grade("E"),
            name="Harbour Point Ltd",
            phone="(021) 5555-0101",
        )

    # then
    assert refused.value.message_dict == {
        "phone": [f"This customer already exists and is owned by {personas.teammate.display_name}."]
    }
    assert Customer.objects.count() == 1


# --- A duplicate that exists can be edited by its owner -------------------------------------------


def test_the_owner_edits_the_notes_of_a_customer_that_shares_an_email_and_a_contact_phone(personas):
    # given: legacy data, two customers of one owner sharing an e-mail; a contact of the
    # second has the first one's phone
    first = CustomerFactory(
        owner=personas.salesperson,
        name="Harbor Point Logistics",
        phone="021-5555 0101",
        email="info@harbor.cn",
    )
    second = _legacy_copy(first, name="Harbor Point Shipping", email="INFO@harbor.cn")
    Contact.objects.bulk_create(
        [Contact(customer=second, name="Lin Mei", phone="021 5555 0101", phone_digits="02155550101")]
    )

    # when
    edited = services.update_customer(customer=first, by=personas.salesperson, notes="Visit in May.")
    other = services.update_customer(
        customer=second, by=personas.salesperson, notes="Same group.", email="info@harbor.cn"
    )

    # then
    assert (edited.notes, other.notes) == ("Visit in May.", "Same group.")


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "harbor point logistics"), ("phone", "02155550101"), ("email", "Info@Harbor.cn")],
)
def test_changing_a_name_phone_or_email_to_another_customer_s_is_still_refused(personas, field, value):
    CustomerFactory(
        owner=personas.teammate, name="Harbor Point Logistics", phone="021-5555 0101", email="info@harbor.cn"
    )
    mine = CustomerFactory(owner=personas.salesperson, name="Bright Star Foods")

    with pytest.raises(ValidationError) as refused:
        services.update_customer(customer=mine, by=personas.salesperson, **{field: value})

    assert list(refused.value.message_dict) == [field]


def test_an_import_that_updates_a_legacy_duplicate_without_changing_its_email_is_accepted(personas):
    first = CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics", email="info@harbor.cn")
    _legacy_copy(first, name="Harbor Point Shipping", email="info@harbor.cn")
    rows = [{"ID": first.pk, "E-mail": "info@harbor.cn", "Industry": "Shipping"}]

    batch = imports.start_import(
        by=personas.salesperson,
        kind="customers",
        upload=upload(workbook_from_template(rows, "en"), "update.xlsx"),
    )
    imports.confirm_import(batch=batch, by=personas.salesperson)

    assert (batch.update_count, batch.duplicate_count, batch.error_count) == (1, 0, 0)
    first.refresh_from_db()
    assert first.industry == "Shipping"


# --- The migration on a database with duplicates -------------------------------------------------


class _SchemaEditor:
    connection = connection


def test_the_migration_stops_on_live_customers_sharing_a_phone_and_names_them(personas):
    # given: a database from before the index, with two live customers sharing a phone
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX customer_live_phone_unique")  # rolled back with the test
    first = CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics", phone="021-5555 0101")
    second = _legacy_copy(first, name="Harbour Point", phone="021 5555 0101")

    with pytest.raises(RuntimeError) as stopped:
        phone_migration.refuse_live_duplicate_phones(apps, _SchemaEditor())

    message = str(stopped.value)
    assert f"phone 02155550101: #{first.pk} Harbor Point Logistics; #{second.pk} Harbour Point" in message
    assert "Merge each group into one customer" in message


def test_the_migration_passes_a_database_without_shared_live_phones(personas):
    CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics", phone="021-5555 0101")

    phone_migration.refuse_live_duplicate_phones(apps, _SchemaEditor())


def test_every_constraint_and_index_the_models_declare_exists_in_the_database(db):
    # On PostgreSQL an AlterField once dropped customer_live_name_unique with the plain
    # index it replaced (crm 0010; restored by 0016): the models said unique, the database not.
    missing = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if not model._meta.managed or model._meta.proxy:
                continue
            present = connection.introspection.get_constraints(cursor, model._meta.db_table)
            declared = [*model._meta.constraints, *model._meta.indexes]
            missing += [f"{model._meta.label}.{item.name}" for item in declared if item.name not in present]

    assert missing == []


def test_the_name_migration_stops_on_live_customers_sharing_a_name_and_names_them(personas):
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX customer_live_name_unique")  # rolled back with the test
    first = CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics")
    second = _legacy_copy(first, name="HARBOR POINT LOGISTICS CO., LTD.")

    with pytest.raises(RuntimeError) as stopped:
        name_migration.refuse_live_duplicate_names(apps, _SchemaEditor())

    assert f"#{first.pk} Harbor Point Logistics; #{second.pk} HARBOR POINT LOGISTICS CO., LTD." in str(
        stopped.value
    )

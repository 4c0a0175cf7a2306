"""Archive, restore and merge (nothing is hard-deleted; history is kept), the decision-maker
flag, and the field history on the customer page."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from crm import services
from crm.models import Contact, Customer, KeyPersonRole, Lifecycle, Order
from crm.tests.factories import ContactFactory, CustomerFactory, OrderFactory
from funnel.models import GradeChange
from funnel.services import change_grade
from funnel.tests.builders import funnel_settings
from funnel.tests.factories import grade


@pytest.fixture
def customer(personas):
    return CustomerFactory(owner=personas.salesperson, name="Northwind Ltd", grade=grade("E"))


# --- Archive and restore -----------------------------------------------------------------


def test_a_salesperson_deletes_on_the_page_by_archiving(personas, client_as, customer):
    client = client_as("salesperson")

    response = client.post(reverse("crm:customer-archive", args=[customer.pk]), {"reason": "Went bankrupt"})

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.archived_at is not None
    # Gone from the list, still there with its history.
    assert customer not in client.get(reverse("crm:customer-list")).context["customers"]
    record = customer.history.first()
    assert (record.history_user, record.history_change_reason) == (personas.salesperson, "Went bankrupt")
    assert client.get(reverse("crm:customer-detail", args=[customer.pk])).status_code == 200


def test_an_api_delete_archives_and_keeps_the_row(personas, client_as, customer):
    change_grade(customer=customer, grade=grade("D"), by=personas.salesperson)

    response = client_as("salesperson").delete(reverse("customer-detail", args=[customer.pk]))

    assert response.status_code == 204
    customer.refresh_from_db()
    assert customer.archived_at is not None
    assert customer.grade_changes.count() == 1
    listed = client_as("salesperson").get(reverse("customer-list")).json()
    assert listed["count"] == 0
    archived = client_as("salesperson").get(reverse("customer-list"), {"archived": "true"}).json()
    assert [row["id"] for row in archived["results"]] == [customer.pk]


def test_an_archived_customer_cannot_be_edited_regraded_or_given_orders(personas, customer):
    services.archive_customer(customer=customer, by=personas.salesperson)

    with pytest.raises(ValidationError):
        services.update_customer(customer=customer, by=personas.salesperson, industry="Steel")
    with pytest.raises(ValidationError):
        change_grade(customer=customer, grade=grade("D"), by=personas.salesperson)
    with pytest.raises(ValidationError):
        OrderFactory(customer=customer)


@pytest.mark.parametrize("via", ["page", "api"])
def test_a_salesperson_may_not_restore(personas, client_as, customer, via):
    services.archive_customer(customer=customer, by=personas.salesperson)
    client = client_as("salesperson")

    if via == "page":
        response = client.post(reverse("crm:customer-restore", args=[customer.pk]))
    else:
        response = client.post(reverse("customer-restore", args=[customer.pk]))

    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.archived_at is not None


@pytest.mark.parametrize(("role", "via"), [("manager", "page"), ("admin", "api")])
def test_a_manager_or_admin_restores_with_the_history_kept(personas, client_as, customer, role, via):
    change_grade(customer=customer, grade=grade("D"), by=personas.salesperson, note="met the buyer")
    services.archive_customer(customer=customer, by=personas.salesperson)

    if via == "page":
        response = client_as(role).post(reverse("crm:customer-restore", args=[customer.pk]))
        assert response.status_code == 302
    else:
        response = client_as(role).post(reverse("customer-restore", args=[customer.pk]))
        assert response.status_code == 200
        assert response.json()["archived_at"] is None

    customer.refresh_from_db()
    assert customer.archived_at is None
    assert customer.grade.code == "D"
    assert customer.grade_changes.get().note == "met the buyer"
    reasons = list(customer.history.values_list("history_change_reason", flat=True)[:2])
    assert reasons == ["Restored", "Archived"]


def test_restore_is_refused_when_a_live_duplicate_exists_now(personas, customer):
    services.archive_customer(customer=customer, by=personas.salesperson)
    CustomerFactory(owner=personas.teammate, name="NORTHWIND limited")

    with pytest.raises(ValidationError) as raised:
        services.restore_customer(customer=customer, by=personas.manager)

    assert personas.teammate.display_name in raised.value.message_dict["name"][0]
    customer.refresh_from_db()
    assert customer.archived_at is not None


# --- Merge -------------------------------------------------------------------------------


@pytest.fixture
def duplicate(personas):
    other = CustomerFactory(
        owner=personas.teammate,
        name="North Wind Trading",
        grade=grade("E"),
        industry="Logistics",
        phone="021 5555 0000",
    )
    ContactFactory(customer=other, name="Mr. Decider", role=KeyPersonRole.DECISION_MAKER)
    OrderFactory(customer=other, amount=Decimal(1000))
    change_grade(customer=other, grade=grade("D"), by=personas.teammate, note="their history")
    return other


def test_merge_moves_contacts_and_orders_and_archives_the_duplicate_with_its_grade_history(
    personas, customer, duplicate
):
    funnel_settings(grade_skip_rule=False)  # builds its case with grade skips
    ContactFactory(customer=customer, name="Ms. Buyer")
    OrderFactory(customer=customer, amount=Decimal(2000))
    kept_change = change_grade(customer=customer, grade=grade("C"), by=personas.salesperson)

    kept = services.merge_customers(keep=customer, merge=duplicate, by=personas.manager)

    duplicate.refresh_from_db()
    assert duplicate.archived_at is not None
    assert duplicate.merged_into == kept
    contacts = set(Contact.objects.filter(customer=kept).values_list("name", flat=True))
    assert contacts == {"Ms. Buyer", "Mr. Decider"}
    assert Order.objects.filter(customer=kept).count() == 2
    # Each grade history stays a chain of its own customer (see funnel's history completeness test).
    assert list(GradeChange.objects.filter(customer=kept)) == [kept_change]
    assert [change.note for change in GradeChange.objects.filter(customer=duplicate)] == ["their history"]
    assert not duplicate.contacts.exists() and not duplicate.orders.exists()
    # Blanks are filled from the duplicate; the lifecycle counts the moved orders.
    assert (kept.industry, kept.phone) == ("Logistics", "021 5555 0000")
    assert (kept.order_count, kept.lifecycle) == (2, Lifecycle.REPEAT)
    assert duplicate.history.first().history_change_reason == "Merged into Northwind Ltd"
    with pytest.raises(ValidationError):
        services.restore_customer(customer=duplicate, by=personas.manager)


@pytest.mark.parametrize("role", ["salesperson", "teammate"])
def test_salespeople_may_not_merge(personas, customer, duplicate, role):
    with pytest.raises(PermissionDenied):
        services.merge_customers(keep=customer, merge=duplicate, by=personas.user(role))

    assert Customer.objects.live().count() == 2


def test_a_manager_merges_on_the_page(personas, client_as, customer, duplicate):
    client = client_as("manager")

    found = client.get(reverse("crm:customer-merge", args=[customer.pk]), {"search": "north wind"})
    assert list(found.context["form"].fields["other"].queryset) == [duplicate]

    response = client.post(
        reverse("crm:customer-merge", args=[customer.pk]),
        {"search": "north wind", "other": duplicate.pk, "confirm": "on"},
    )

    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == customer.pk


def test_a_salesperson_is_refused_the_merge_page(personas, client_as, customer, duplicate):
    response = client_as("salesperson").post(
        reverse("crm:customer-merge", args=[customer.pk]),
        {"search": "north", "other": duplicate.pk, "confirm": "on"},
    )

    assert response.status_code == 403
    duplicate.refresh_from_db()
    assert duplicate.archived_at is None


def test_a_manager_cannot_merge_in_another_teams_customer(personas, client_as, customer):
    west = CustomerFactory(owner=personas.other_salesperson, name="Northwind West")

    response = client_as("manager").post(
        reverse("crm:customer-merge", args=[customer.pk]),
        {"search": "northwind", "other": west.pk, "confirm": "on"},
    )

    assert response.status_code == 400
    assert "other" in response.context["form"].errors
    west.refresh_from_db()
    assert west.archived_at is None


# --- Contacts and the decision maker ----------------------------------------------------


@pytest.mark.parametrize(
    ("code", "flagged"),
    [
        ("E", False),
        ("D", False),
        ("C", True),
        ("B", True),
        ("A", True),
        ("WON", False),
    ],
)
def test_the_page_flags_a_missing_decision_maker_at_c_or_above_only(personas, client_as, code, flagged):
    funnel_settings(grade_skip_rule=False)  # builds its case with grade skips
    customer = CustomerFactory(owner=personas.salesperson, name="Northwind Ltd", grade=grade("E"))
    ContactFactory(customer=customer, name="Ms. Recommender", role=KeyPersonRole.RECOMMENDER)
    if code != "E":
        change_grade(customer=customer, grade=grade(code), by=personas.salesperson)

    response = client_as("salesperson").get(reverse("crm:customer-detail", args=[customer.pk]))

    assert response.context["decision_maker_gap"] is flagged
    assert ('data-testid="no-decision-maker"' in response.content.decode()) is flagged


def test_adding_the_decision_maker_on_the_page_clears_the_flag(personas, client_as):
    customer = CustomerFactory(owner=personas.salesperson, name="Northwind Ltd", grade=grade("C"))
    client = client_as("salesperson")
    assert client.get(reverse("crm:customer-detail", args=[customer.pk])).context["decision_maker_gap"]

    response = client.post(
        reverse("crm:contact-create", args=[customer.pk]),
        {
            "name": "Mr. Chen",
            "title": "General manager",
            "role": KeyPersonRole.DECISION_MAKER,
            "phone": "139 8888 0000",
        },
    )

    assert response.status_code == 302
    page = client.get(reverse("crm:customer-detail", args=[customer.pk]))
    assert not page.context["decision_maker_gap"]
    assert "Mr. Chen" in page.content.decode()


def test_a_contact_with_a_bad_email_is_refused_on_the_page(personas, client_as, customer):
    response = client_as("salesperson").post(
        reverse("crm:contact-create", args=[customer.pk]),
        {"name": "Mr. Chen", "role": "other", "email": "chen@"},
    )

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"email"}
    assert not customer.contacts.exists()


def test_a_contact_is_created_and_edited_in_the_api(personas, client_as, customer):
    client = client_as("salesperson")

    created = client.post(
        reverse("contact-list"),
        {"customer": customer.pk, "name": "Mr. Chen", "role": "decision_maker"},
        content_type="application/json",
    )
    contact_id = created.json()["id"]
    edited = client.patch(
        reverse("contact-detail", args=[contact_id]), {"title": "CEO"}, content_type="application/json"
    )

    assert (created.status_code, edited.status_code) == (201, 200)
    contact = Contact.objects.get(pk=contact_id)
    assert (contact.customer, contact.role, contact.title) == (customer, "decision_maker", "CEO")
    assert contact.history.count() == 2


# --- Field history -----------------------------------------------------------------------


def test_the_page_shows_who_changed_which_field_from_what_to_what(personas, client_as, customer):
    services.update_customer(customer=customer, by=personas.salesperson, industry="Steel")
    services.update_customer(customer=customer, by=personas.manager, industry="Chemicals", region="Jiangsu")

    response = client_as("salesperson").get(reverse("crm:customer-detail", args=[customer.pk]))

    changes = [
        (entry["record"].history_user, sorted((c.field, c.old, c.new) for c in entry["changes"]))
        for entry in response.context["history"]
        if entry["changes"]
    ]
    assert changes == [
        (personas.manager, [("industry", "Steel", "Chemicals"), ("region", "", "Jiangsu")]),
        (personas.salesperson, [("industry", "", "Steel")]),
    ]
    content = response.content.decode()
    assert "Industry: Steel → Chemicals" in content
    assert personas.manager.display_name in content


def test_the_edit_page_records_the_editor(personas, client_as, customer):
    response = client_as("manager").post(
        reverse("crm:customer-update", args=[customer.pk]),
        {
            "name": "Northwind Ltd",
            "source": "other",
            "tier": "priority",
            "expected_value": "0",
        },
    )

    assert response.status_code == 302
    record = customer.history.first()
    assert (record.history_user, record.tier) == (personas.manager, "priority")
    assert [c.field for c in record.diff_against(record.prev_record).changes] == ["tier"]

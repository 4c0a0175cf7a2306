"""The duplicate check (查重): normalized names, phones and e-mails; refused with the
current owner's name, never the other customer's details, on the page and in the API."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm import services
from crm.models import Customer
from crm.normalize import normalize_company_name, normalize_email, phone_digits
from crm.tests.factories import ContactFactory, CustomerFactory
from funnel.tests.factories import grade

SAME_COMPANY = [
    ("ACME Co., Ltd.", "acme co ltd"),
    ("ACME Co., Ltd.", "ＡＣＭＥ　Ｃｏ．，Ｌｔｄ．"),
    ("Acme Corporation", "ACME corp."),
    ("华为技术有限公司", "华为技术"),
    ("华为技术有限公司", "华为技术 有限公司"),
    ("深圳腾讯集团股份有限公司", "深圳腾讯"),
]


@pytest.mark.parametrize(("first", "second"), SAME_COMPANY)
def test_company_names_compare_without_case_spaces_punctuation_width_or_suffix(first, second):
    assert normalize_company_name(first) == normalize_company_name(second)


@pytest.mark.parametrize(("first", "second"), [("ACME", "ACME Tools"), ("华为技术", "华为终端")])
def test_different_companies_stay_different(first, second):
    assert normalize_company_name(first) != normalize_company_name(second)


@pytest.mark.parametrize(
    ("name", "normalized"), [("Limited", "limited"), ("有限公司", "有限公司"), ("集团", "集团")]
)
def test_a_name_that_is_only_a_suffix_is_kept(name, normalized):
    assert normalize_company_name(name) == normalized


@pytest.mark.parametrize(
    "phone",
    [
        "１３８００１３８０００",
        "13800138000",
        "+86 138-0013-8000",
        "0086 138 0013 8000",
        "(138) 0013 8000",
    ],
)
def test_phones_compare_by_digits(phone):
    assert phone_digits(phone) == "13800138000"


def test_emails_compare_case_insensitively():
    assert normalize_email("  Li.Wei@ACME.com ") == normalize_email("li.wei@acme.com")


# --- The service -------------------------------------------------------------------------


@pytest.fixture
def acme(personas):
    return CustomerFactory(
        owner=personas.salesperson,
        name="ACME Co., Ltd.",
        phone="13800138000",
        email="Sales@Acme.com",
        address="1 Secret Road",
        industry="Explosives",
    )


@pytest.mark.parametrize(
    ("field", "attempt"),
    [
        ("name", {"name": "acme co ltd"}),
        ("phone", {"name": "Road Runner Inc", "phone": "１３８００１３８０００"}),
        ("email", {"name": "Road Runner Inc", "email": "sales@acme.COM"}),
    ],
)
def test_a_duplicate_is_refused_naming_the_owner_only(personas, acme, field, attempt):
    # when another team's salesperson tries to create the same customer
    with pytest.raises(ValidationError) as raised:
        services.create_customer(
            by=personas.other_salesperson, owner=personas.other_salesperson, grade=grade("E"), **attempt
        )

    # then the error sits on the matching field and names the owner, nothing else
    message = " ".join(raised.value.message_dict[field])
    assert personas.salesperson.display_name in message
    for detail in ("ACME Co., Ltd.", "1 Secret Road", "Explosives", "13800138000", "Sales@Acme.com"):
        assert detail not in message
    assert Customer.objects.count() == 1


def test_a_contacts_phone_makes_a_duplicate_too(personas, acme):
    ContactFactory(customer=acme, name="Wile E.", phone="139 1111 2222")

    with pytest.raises(ValidationError) as raised:
        services.create_customer(
            by=personas.other_salesperson,
            owner=personas.other_salesperson,
            grade=grade("E"),
            name="Coyote Supplies",
            phone="13911112222",
        )

    assert personas.salesperson.display_name in raised.value.message_dict["phone"][0]


def test_a_contact_cannot_be_added_with_another_customers_phone(personas, acme):
    mine = CustomerFactory(owner=personas.other_salesperson, name="Road Runner Inc")

    with pytest.raises(ValidationError) as raised:
        services.create_contact(
            customer=mine, by=personas.other_salesperson, name="Insider", phone="+86 138 0013 8000"
        )

    assert personas.salesperson.display_name in raised.value.message_dict["phone"][0]
    assert not mine.contacts.exists()


def test_a_pool_duplicate_says_it_is_in_the_pool(personas):
    CustomerFactory(owner=None, by=personas.admin, name="华为技术有限公司")

    with pytest.raises(ValidationError) as raised:
        services.create_customer(
            by=personas.salesperson, owner=personas.salesperson, grade=grade("E"), name="华为技术"
        )

    assert "public pool" in raised.value.message_dict["name"][0]


def test_an_edit_into_a_duplicate_is_refused(personas, acme):
    mine = CustomerFactory(owner=personas.other_salesperson, name="Road Runner Inc")

    with pytest.raises(ValidationError) as raised:
        services.update_customer(customer=mine, by=personas.other_salesperson, name="ACME company")

    assert personas.salesperson.display_name in raised.value.message_dict["name"][0]
    mine.refresh_from_db()
    assert mine.name == "Road Runner Inc"


def test_an_archived_customer_is_not_a_duplicate(personas, acme):
    services.archive_customer(customer=acme, by=personas.salesperson)

    again = services.create_customer(
        by=personas.teammate,
        owner=personas.teammate,
        grade=grade("E"),
        name="acme co ltd",
        phone="13800138000",
    )

    assert again.name_normalized == acme.name_normalized


# --- Page and API ------------------------------------------------------------------------


def test_the_create_page_refuses_a_duplicate_with_the_owners_name(personas, acme, client_as):
    response = client_as("other_salesperson").post(
        reverse("crm:customer-create"),
        {
            "name": "acme co ltd",
            "grade": grade("E").pk,
            "owner": personas.other_salesperson.pk,
            "source": "other",
            "tier": "normal",
            "expected_value": "0",
        },
    )

    assert response.status_code == 400
    errors = response.context["form"].errors["name"]
    assert errors == [f"This customer already exists and is owned by {personas.salesperson.display_name}."]
    content = response.content.decode()
    assert personas.salesperson.display_name in content
    for detail in ("ACME Co., Ltd.", "1 Secret Road", "Explosives"):
        assert detail not in content
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "attempt"),
    [
        ("name", {"name": "ACME CO LTD"}),
        ("phone", {"name": "Road Runner Inc", "phone": "１３８００１３８０００"}),
    ],
)
def test_the_api_refuses_a_duplicate_with_the_owners_name(personas, acme, client_as, field, attempt):
    response = client_as("other_salesperson").post(
        reverse("customer-list"),
        {"grade": grade("E").pk, **attempt},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == {
        field: [f"This customer already exists and is owned by {personas.salesperson.display_name}."],
    }
    assert Customer.objects.count() == 1


def test_the_chinese_interface_names_the_owner_too(personas, client_as):
    CustomerFactory(owner=personas.salesperson, name="华为技术有限公司")

    response = client_as("other_salesperson").post(
        reverse("customer-list"),
        {"grade": grade("E").pk, "name": "华为技术"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 400
    assert personas.salesperson.display_name in response.json()["name"][0]

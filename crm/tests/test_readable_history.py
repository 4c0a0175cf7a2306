"""The customer timeline and change history read as people talk: "Tier: Normal →
Priority" with labels and values in the user's language, one entry per grade change."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from crm import services
from crm.models import KeyPersonRole, Tier
from crm.tests.factories import ContactFactory, CustomerFactory
from crm.tests.query_counts import signed_in
from funnel.services import change_grade, reassign
from funnel.tests.factories import grade

pytestmark = pytest.mark.django_db


@pytest.fixture
def edited(personas):
    """A D customer (normal tier, ¥1,000,000 a year) whose salesperson raises it to the
    priority tier and ¥1,200,000 with a signing date, moves it to C, marks its contact
    as the decision maker, and which the manager then gives to the teammate."""
    for code in ("E", "D", "C", "B", "A"):
        grade(code)
    customer = CustomerFactory(
        owner=personas.salesperson, grade=grade("D"), tier=Tier.NORMAL, expected_value=Decimal(1_000_000)
    )
    contact = ContactFactory(
        customer=customer, by=personas.salesperson, name="Wang Li", role=KeyPersonRole.INFLUENCER
    )
    services.update_customer(
        customer=customer,
        by=personas.salesperson,
        tier=Tier.PRIORITY,
        expected_value=Decimal(1_200_000),
        expected_signing_on=date(2027, 3, 31),
    )
    change_grade(customer=customer, grade=grade("C"), by=personas.salesperson, note="demo went well")
    services.update_contact(contact=contact, by=personas.salesperson, role=KeyPersonRole.DECISION_MAKER)
    customer.refresh_from_db()
    reassign(customers=[customer], new_owner=personas.teammate, by=personas.manager, reason="balance")
    return customer


def _page(client, customer, language="en"):
    with translation.override(language):
        response = client.get(
            reverse("crm:customer-detail", args=[customer.pk]), HTTP_ACCEPT_LANGUAGE=language
        )
    assert response.status_code == 200
    return response


def _edits(response) -> list[tuple[str, list[str]]]:
    return [
        (entry.title, entry.detail.split("\n"))
        for entry in response.context["timeline"]
        if entry.kind == "edit"
    ]


def test_the_timeline_shows_labels_and_old_and_new_values_in_english(edited, personas, client_as):
    response = _page(signed_in(client_as, "manager"), edited)

    assert _edits(response) == [
        ("Contact Wang Li edited", ["Key-person role: Influencer / gatekeeper → Decision maker"]),
        (
            "Customer edited",
            [
                "Tier: Normal → Priority",
                "Expected yearly value: ¥1,000,000 → ¥1,200,000",
                "Expected signing date: — → 03/31/2027",
            ],
        ),
    ]
    # One entry per grade change (the funnel's), and the move of owner once (the
    # reassignment's): the customer's own records of them are not repeated as edits.
    titles = [entry.title for entry in response.context["timeline"]]
    assert [title for title in titles if "Grade" in title] == ["Grade D → C"]
    assert [entry.kind for entry in response.context["timeline"]].count("reassignment") == 1
    content = response.content.decode()
    assert "Tier: Normal → Priority" in content
    # The change history names the owners and the grades, never their ids.
    assert f"Owner: {personas.salesperson.display_name} → {personas.teammate.display_name}" in content
    assert f"Grade: {grade('D')} → {grade('C')}" in content


def test_the_timeline_speaks_chinese(edited, client_as):
    response = _page(signed_in(client_as, "manager"), edited, "zh-hans")

    edits = dict(_edits(response))
    customer_lines = next(lines for title, lines in edits.items() if "Wang Li" not in title)
    # Labels and choices in Chinese (the method's words), amounts as the page shows them.
    assert customer_lines[0].startswith("优先级") and customer_lines[0].endswith("一般考虑 → 优先考虑")
    assert customer_lines[1].startswith("预计年度金额") and "¥120万" in customer_lines[1]
    assert customer_lines[2].startswith("预计签约日期")
    contact_lines = next(lines for title, lines in edits.items() if "Wang Li" in title)
    assert contact_lines == [contact_lines[0]] and contact_lines[0].endswith("润滑型 → 决策型")
    assert "优先考虑" in response.content.decode()


@pytest.mark.parametrize("role, expected", [("salesperson", 14), ("manager", 16)])
def test_readable_history_costs_no_query_per_change(
    personas, client_as, django_assert_num_queries, role, expected
):
    # The customer page's pinned count (crm/tests/test_query_counts.py: 13 / 15) plus
    # the open handover tasks the reassignments left, with one and with twenty edits of
    # tier, value and owner: the owners and grades the records name come joined with them.
    for code in ("E", "D", "C"):
        grade(code)
    customer = CustomerFactory(owner=personas.salesperson, by=personas.salesperson)
    client = signed_in(client_as, role)
    for edits in (1, 20):
        for n in range(edits):
            services.update_customer(
                customer=customer,
                by=personas.salesperson,
                tier=[Tier.PRIORITY, Tier.LOW][n % 2],
                expected_value=Decimal(1000 + n),
            )
            for owner in (personas.teammate, personas.salesperson):  # away and back
                customer.refresh_from_db()
                reassign(customers=[customer], new_owner=owner, by=personas.manager, reason="test")
            customer.refresh_from_db()
        with django_assert_num_queries(expected):
            response = client.get(reverse("crm:customer-detail", args=[customer.pk]))
        assert response.status_code == 200
        assert "Owner: " in response.content.decode()

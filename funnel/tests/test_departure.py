"""离职交接: the wizard splits a leaver's customers evenly, respects locks, creates the
handover tasks and ends the leaver's access in one transaction; nothing is deleted, and
nobody who still owns customers can be deactivated any other way."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from crm import services as crm_services
from crm.models import Customer
from crm.tests.factories import UserFactory
from funnel import selectors
from funnel.models import HandoverTask, Reassignment, ReassignmentKind
from funnel.services import apply_departure
from funnel.tests.builders import customer_at

User = get_user_model()


@pytest.fixture
def book(personas):
    """The salesperson's book: two at E, two at D, one at C; one archived."""
    customers = [
        customer_at(code, personas.salesperson, name=f"Book {code}{n}", expected_value=Decimal(value))
        for code, n, value in [
            ("E", 1, 100_000),
            ("E", 2, 300_000),
            ("D", 1, 200_000),
            ("D", 2, 50_000),
            ("C", 1, 400_000),
        ]
    ]
    archived = customer_at("D", personas.salesperson, name="Old Book")
    crm_services.archive_customer(customer=archived, by=personas.salesperson)
    return customers


def _wizard_post(client, leaver, teammates, assignments=None, **extra):
    customers = selectors.departure_customers(leaver)
    proposal = selectors.propose_split(customers, teammates)
    data = {"teammates": [person.pk for person in teammates], "reason": "", **extra}
    for customer in customers:
        data[f"owner_{customer.pk}"] = (assignments or {}).get(customer.pk, proposal[customer.pk]).pk
    return client.post(reverse("funnel:departure-wizard", args=[leaver.pk]), data)


def test_after_the_wizard_the_leaver_cannot_log_in_owns_nothing_and_nothing_was_deleted(
    personas, client_as, book
):
    leaver = personas.salesperson
    leaver.set_password("leaving-soon-123")
    leaver.save()
    before = Customer.objects.count()
    client = client_as("manager")
    proposal_page = client.get(
        reverse("funnel:departure-wizard", args=[leaver.pk]),
        {"teammates": [personas.teammate.pk, personas.sub_salesperson.pk], "other_teams": "1"},
    )

    response = _wizard_post(client, leaver, [personas.teammate, personas.sub_salesperson], other_teams="1")

    assert proposal_page.status_code == 200 and "Book C1" in proposal_page.content.decode()
    assert response.status_code == 302, response.content.decode()[:2000]
    leaver.refresh_from_db()
    assert not leaver.is_active
    browser = Client()
    login = browser.post(reverse("login"), {"username": leaver.username, "password": "leaving-soon-123"})
    assert login.status_code == 200 and "_auth_user_id" not in browser.session
    assert not Customer.objects.filter(owner=leaver).exists()
    assert Customer.objects.count() == before
    former = Customer.objects.filter(name__startswith="Book")
    assert all(customer.owner in (personas.teammate, personas.sub_salesperson) for customer in former)
    for customer in former:
        assert HandoverTask.objects.filter(customer=customer, owner=customer.owner, status="open").exists()
    assert Reassignment.objects.filter(kind=ReassignmentKind.DEPARTURE).count() == 6  # incl. the archived one
    assert Customer.objects.get(name="Old Book").owner is None


def test_an_existing_session_of_the_leaver_ends_at_once(personas, book):
    session = Client()
    session.force_login(personas.salesperson)
    assignments = {c.pk: personas.teammate for c in selectors.departure_customers(personas.salesperson)}

    apply_departure(leaver=personas.salesperson, assignments=assignments, by=personas.manager)

    assert session.get(reverse("crm:customer-list")).status_code == 302


def test_the_proposal_balances_count_and_weighted_value_per_grade(personas, book):
    customers = selectors.departure_customers(personas.salesperson)

    proposal = selectors.propose_split(customers, [personas.teammate, personas.sub_salesperson])

    per_grade = {}
    for customer in customers:
        per_grade.setdefault(customer.grade.code, []).append(proposal[customer.pk].username)
    assert sorted(per_grade["E"]) == ["sub_salesperson", "teammate"]
    assert sorted(per_grade["D"]) == ["sub_salesperson", "teammate"]
    # Within a grade the most valuable goes first, to the lighter loaded teammate.
    values = {customer.name: proposal[customer.pk] for customer in customers}
    assert values["Book E2"] != values["Book E1"]


def test_a_locked_customer_makes_a_managers_wizard_change_nothing(personas, client_as, book):
    customer_at("B", personas.salesperson, name="Book B1")
    client = client_as("manager")

    response = _wizard_post(client, personas.salesperson, [personas.teammate])

    assert response.status_code == 400
    assert "locked grade B" in response.content.decode()
    personas.salesperson.refresh_from_db()
    assert personas.salesperson.is_active
    assert Customer.objects.filter(owner=personas.salesperson, archived_at__isnull=True).count() == 6
    assert not Reassignment.objects.exists()


def test_a_refused_locked_move_keeps_the_split_the_manager_chose(personas, client_as, book):
    # given a locked customer, and a split that is not the proposal: all but one to the manager
    locked = customer_at("B", personas.salesperson, name="Book B1")
    customers = selectors.departure_customers(personas.salesperson)
    chosen = {customer.pk: personas.manager for customer in customers}
    chosen[locked.pk] = personas.teammate

    # when the service refuses the locked customer
    response = _wizard_post(
        client_as("manager"), personas.salesperson, [personas.teammate, personas.manager], assignments=chosen
    )

    # then the page comes back with the manager's numbers, not a recomputed proposal
    assert response.status_code == 400 and "locked grade B" in response.content.decode()
    summary = {row["person"].username: (row["count"], row["weighted"]) for row in response.context["summary"]}
    assert summary == {
        "manager": (5, sum(c.weighted_value for c in customers if c.pk != locked.pk)),
        "teammate": (1, locked.weighted_value),
    }
    form = response.context["form"]
    assert {c.pk: form[form.field_name(c)].value() for c in customers} == {
        pk: str(person.pk) for pk, person in chosen.items()
    }


def test_the_wizard_offers_teammates_first_and_other_teams_only_on_request(personas, client_as, book):
    url = reverse("funnel:departure-wizard", args=[personas.salesperson.pk])
    client = client_as("manager")

    default = client.get(url)
    asked = client.get(url, {"other_teams": "1"})

    def offered(response):
        names = {person.pk: person.username for person in User.objects.all()}
        return [
            names[int(str(value))]
            for value, _label in response.context["teammates_form"].fields["teammates"].choices
        ]

    assert offered(default) == ["deactivated", "manager", "teammate"]
    assert "Show people of other teams too" in default.content.decode()
    # Asked: the teammates still come first, then the sub-team (admins never take customers).
    assert offered(asked) == ["deactivated", "manager", "teammate", "sub_salesperson"]


def test_someone_of_another_team_is_refused_unless_other_teams_were_asked_for(personas, client_as, book):
    client = client_as("manager")

    refused = _wizard_post(client, personas.salesperson, [personas.sub_salesperson])
    applied = _wizard_post(client, personas.salesperson, [personas.sub_salesperson], other_teams="1")

    assert refused.status_code == 400
    assert applied.status_code == 302
    assert Customer.objects.filter(owner=personas.sub_salesperson).count() == 5


def test_departure_takers_puts_the_leavers_team_first(personas):
    leaver = personas.other_salesperson  # team West

    def usernames(**options):
        return list(
            selectors.departure_takers(personas.admin, leaver, **options).values_list("username", flat=True)
        )

    assert usernames() == ["other_manager"]
    assert usernames(other_teams=True) == [
        "other_manager",
        "deactivated",
        "manager",
        "salesperson",
        "teammate",
        "sub_salesperson",
    ]


def test_an_admin_forces_the_locked_customers_with_a_reason(personas, client_as, book):
    locked = customer_at("B", personas.salesperson, name="Book B1")

    refused = _wizard_post(client_as("admin"), personas.salesperson, [personas.teammate], force="on")
    response = _wizard_post(
        client_as("admin"),
        personas.salesperson,
        [personas.teammate],
        force="on",
        reason="Left the company; quote handed to the teammate",
    )

    assert refused.status_code == 400 and "written reason" in refused.content.decode()
    assert response.status_code == 302
    record = Reassignment.objects.get(customer=locked)
    assert (record.forced, record.to_owner) == (True, personas.teammate)


def test_the_wizard_is_for_managers_of_the_leaver(personas, client_as, book):
    assert (
        client_as("salesperson")
        .get(reverse("funnel:departure-wizard", args=[personas.teammate.pk]))
        .status_code
        == 403
    )
    assert (
        client_as("other_manager")
        .get(reverse("funnel:departure-wizard", args=[personas.salesperson.pk]))
        .status_code
        == 404
    )
    with pytest.raises(PermissionDenied):
        apply_departure(leaver=personas.salesperson, assignments={}, by=personas.other_manager)
    with pytest.raises(PermissionDenied):
        apply_departure(leaver=personas.manager, assignments={}, by=personas.manager)


def test_every_customer_needs_a_new_owner(personas, book):
    assignments = {c.pk: personas.teammate for c in selectors.departure_customers(personas.salesperson)[1:]}

    with pytest.raises(ValidationError) as refused:
        apply_departure(leaver=personas.salesperson, assignments=assignments, by=personas.manager)

    assert "1 customer has no new owner" in refused.value.messages[0]


# --- No other way to deactivate someone who owns customers ---------------------------------------


def test_the_crm_service_refuses_to_deactivate_an_owner(personas, book):
    with pytest.raises(ValidationError) as refused:
        crm_services.deactivate_user(user=personas.salesperson, by=personas.admin)

    assert "still owns 5 customers" in refused.value.messages[0]
    idle = UserFactory()
    assert not crm_services.deactivate_user(user=idle, by=personas.admin).is_active


def test_the_user_admin_refuses_to_untick_active_for_an_owner(personas, client_as, book):
    user = personas.salesperson
    url = reverse("admin:crm_user_change", args=[user.pk])
    page = client_as("admin").get(url)
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(
        {
            "is_active": "",
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
            "groups": [],
            "user_permissions": [],
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)

    response = client_as("admin").post(url, data)

    assert response.status_code == 200
    assert "still owns 5 customers" in response.content.decode()
    user.refresh_from_db()
    assert user.is_active

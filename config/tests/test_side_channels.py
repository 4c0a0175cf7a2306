"""Side channels (issue 17): the duplicate check names another team's owner only within
a per-user limit, each time in the security audit log; a conflict claim names people,
not user ids; a filter parameter that takes an id answers alike for an id that does not
exist and one the caller may not see."""

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from core.models import SecurityAction, SecurityEvent
from crm.tests.factories import ContactFactory, CustomerFactory
from funnel.tests.factories import grade

MISSING_ID = 10**9


@pytest.fixture
def west_customer(personas):
    return CustomerFactory(
        owner=personas.other_salesperson, name="Western Steel Co., Ltd.", phone="13911112222"
    )


def _create(client, name: str, **extra):
    return client.post(
        reverse("customer-list"),
        {"grade": grade("E").pk, "name": name, **extra},
        content_type="application/json",
    )


def _revealed() -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(action=SecurityAction.OWNER_REVEALED).order_by("pk"))


# --- The duplicate check ------------------------------------------------------------------


@pytest.mark.django_db
def test_naming_another_teams_owner_is_recorded_in_the_security_audit_log(personas, west_customer, client_as):
    response = _create(client_as("salesperson"), "western steel")

    assert response.status_code == 400
    assert personas.other_salesperson.display_name in response.json()["name"][0]
    [event] = _revealed()  # written although the refused create rolled back
    assert (event.actor, event.object_id) == (personas.salesperson, str(west_customer.pk))
    assert event.detail["owner"] == personas.other_salesperson.pk


@pytest.mark.django_db
def test_the_page_form_and_a_contacts_phone_are_audited_too(personas, west_customer, client_as):
    mine = CustomerFactory(owner=personas.salesperson)
    client = client_as("salesperson")

    page = client.post(
        reverse("crm:customer-create"),
        {
            "name": "Western Steel",
            "grade": grade("E").pk,
            "owner": personas.salesperson.pk,
            "tier": "normal",
            "source": "other",
            "expected_value": "100000",
        },
    )
    contact = client.post(
        reverse("contact-list"),
        {"customer": mine.pk, "name": "Wang", "role": "other", "phone": "139-1111-2222"},
        content_type="application/json",
    )

    assert personas.other_salesperson.display_name in page.content.decode()
    assert personas.other_salesperson.display_name in contact.json()["phone"][0]
    assert len(_revealed()) == 2


@pytest.mark.django_db
@override_settings(DUPLICATE_OWNER_NAMES_PER_HOUR=3)
def test_past_the_hourly_limit_the_answer_leaves_the_name_out(personas, west_customer, client_as):
    client = client_as("salesperson")

    answers = [_create(client, "Western Steel").json()["name"][0] for _ in range(5)]

    name = personas.other_salesperson.display_name
    assert [name in answer for answer in answers] == [True, True, True, False, False]
    assert answers[3] == "This customer already exists and is owned by a salesperson of another team."
    assert len(_revealed()) == 3
    # Another user has their own allowance.
    assert name in _create(client_as("teammate"), "Western Steel").json()["name"][0]


@pytest.mark.django_db
@override_settings(DUPLICATE_OWNER_NAMES_PER_HOUR=1)
def test_owners_the_user_may_see_or_works_beside_are_named_freely_and_not_audited(personas, client_as):
    CustomerFactory(owner=personas.teammate, name="Eastern Glass")
    CustomerFactory(owner=personas.sub_salesperson, name="Northern Paper")
    salesperson, manager = client_as("salesperson"), client_as("manager")

    answers = [_create(salesperson, "Eastern Glass") for _ in range(3)]
    answers += [_create(manager, "Northern Paper") for _ in range(3)]

    assert all(answer.status_code == 400 for answer in answers)
    assert all(personas.teammate.display_name in answer.json()["name"][0] for answer in answers[:3])
    assert all(personas.sub_salesperson.display_name in answer.json()["name"][0] for answer in answers[3:])
    assert _revealed() == []


# --- Conflict claims ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_conflict_claim_names_people_not_user_ids(personas, west_customer, client_as):
    client = client_as("salesperson")

    raised = client.post(
        reverse("conflict-list"),
        {
            "name": "Western Steel",
            "first_contact_on": timezone.localdate().isoformat(),
            "evidence": "Met their buyer at the fair.",
        },
        content_type="application/json",
    )
    listed = client.get(reverse("conflict-list")).json()["results"][0]

    assert raised.status_code == 201, raised.content
    for body in (raised.json(), listed):
        assert body["claimant"] == personas.salesperson.display_name
        assert body["holder"] == personas.other_salesperson.display_name
        assert body["settled_by"] is None
        numbers = [value for key, value in body.items() if isinstance(value, int) and key != "id"]
        assert personas.other_salesperson.pk not in numbers


# --- Filters that take an id --------------------------------------------------------------------


def _someone_elses_customer(w):
    return CustomerFactory(owner=w.other_salesperson).pk


def _someone_elses_contact(w):
    return ContactFactory(customer=CustomerFactory(owner=w.other_salesperson)).pk


# (list route, query parameter, an id of a row the salesperson may not see)
ID_PARAMETERS = [
    ("user-list", "team", lambda w: w.other_salesperson.team_id),
    ("customer-list", "owner", lambda w: w.other_salesperson.pk),
    ("contact-list", "customer", _someone_elses_customer),
    ("gradechange-list", "customer", _someone_elses_customer),
    ("gradechange-list", "owner", lambda w: w.other_salesperson.pk),
    ("order-list", "customer", _someone_elses_customer),
    ("order-list", "owner", lambda w: w.other_salesperson.pk),
    ("alert-list", "owner", lambda w: w.other_salesperson.pk),
    ("handovertask-list", "owner", lambda w: w.other_salesperson.pk),
    ("handovertask-list", "customer", _someone_elses_customer),
    ("activity-list", "owner", lambda w: w.other_salesperson.pk),
    ("activity-list", "customer", _someone_elses_customer),
    ("dailyplan-list", "owner", lambda w: w.other_salesperson.pk),
    ("dailyreport-list", "owner", lambda w: w.other_salesperson.pk),
    ("marketreport-list", "owner", lambda w: w.other_salesperson.pk),
    ("marketreport-list", "customer", _someone_elses_customer),
    ("visit-list", "owner", lambda w: w.other_salesperson.pk),
    ("visit-list", "customer", _someone_elses_customer),
    ("target-list", "owner", lambda w: w.other_salesperson.pk),
    ("target-list", "team", lambda w: w.other_salesperson.team_id),
    ("activitytarget-list", "owner", lambda w: w.other_salesperson.pk),
    ("weeklyrollup-list", "owner", lambda w: w.other_salesperson.pk),
    ("weeklyrollup-list", "salesperson", lambda w: w.other_salesperson.pk),
    ("weeklyrollup-list", "team", lambda w: w.other_salesperson.team_id),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url_name", "parameter", "hidden_id"),
    ID_PARAMETERS,
    ids=[f"{url}?{parameter}" for url, parameter, _ in ID_PARAMETERS],
)
def test_an_id_out_of_sight_answers_like_an_id_that_does_not_exist(
    personas, client_as, url_name, parameter, hidden_id
):
    client = client_as("salesperson")
    url = reverse(url_name)

    hidden = client.get(url, {parameter: hidden_id(personas)})
    missing = client.get(url, {parameter: MISSING_ID})

    assert hidden.status_code == missing.status_code
    assert hidden.status_code in {200, 400}
    assert hidden.json() == missing.json()
    if hidden.status_code == 200:
        assert hidden.json()["results"] == []

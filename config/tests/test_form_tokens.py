"""One-time form tokens on page forms (``config/form_tokens.py``): the same form posted
twice (a double click, a resubmitted page) saves once; the second post goes back to its
page with a message, or gets 409 under htmx. Forms without a token work as before."""

import uuid

import pytest
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.urls import reverse

from activities.models import Activity
from crm.models import Customer
from crm.tests.factories import CustomerFactory
from funnel.tests.factories import grade

ALREADY_SENT = "This form was already sent; nothing was saved twice."


def _customer_form(token: str | None, owner, **overrides) -> dict:
    data = {
        "owner": owner.pk,
        "name": "Northwind Ltd",
        "grade": grade("E").pk,
        "source": "referral",
        "tier": "normal",
        "expected_value": "50000",
    }
    if token is not None:
        data["form_token"] = token
    return {**data, **overrides}


def test_a_form_posted_twice_with_its_token_makes_one_customer_and_the_second_goes_back_with_a_message(
    client_as, personas
):
    client = client_as("salesperson")
    token = str(uuid.uuid4())
    form_page = "http://testserver" + reverse("crm:customer-create")

    first = client.post(
        reverse("crm:customer-create"),
        _customer_form(token, personas.salesperson),
        headers={"Referer": form_page},
    )
    second = client.post(
        reverse("crm:customer-create"),
        _customer_form(token, personas.salesperson),
        headers={"Referer": form_page},
    )

    assert first.status_code == 302
    assert (second.status_code, second["Location"]) == (303, form_page)
    assert Customer.objects.count() == 1
    assert [str(message) for message in get_messages(second.wsgi_request)][-1] == ALREADY_SENT


def test_the_way_back_stays_on_this_site(client_as, personas):
    client = client_as("salesperson")
    token = str(uuid.uuid4())
    client.post(reverse("crm:customer-create"), _customer_form(token, personas.salesperson))

    second = client.post(
        reverse("crm:customer-create"),
        _customer_form(token, personas.salesperson),
        headers={"Referer": "https://evil.example/phish"},
    )

    assert (second.status_code, second["Location"]) == (303, reverse("home"))


def test_under_htmx_the_second_post_answers_409_with_the_message(client_as, personas):
    customer = CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics")
    client = client_as("salesperson")
    url = reverse("activities:log-activity", args=[customer.pk])
    body = {
        "kind": "call",
        "purpose": "service",
        "outcome": "Talked to Lin.",
        "effective": "on",
        "next_follow_up_on": "2099-01-05",
    }
    token = str(uuid.uuid4())

    first = client.post(url, body, headers={"HX-Request": "true", "X-Form-Token": token})
    second = client.post(url, body, headers={"HX-Request": "true", "X-Form-Token": token})

    assert first.status_code == 200, first.content
    assert (second.status_code, second.content.decode()) == (409, ALREADY_SENT)
    assert Activity.objects.count() == 1


def test_forms_without_a_token_and_each_new_token_are_posted_as_before(client_as, personas):
    customer = CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics")
    client = client_as("salesperson")
    url = reverse("activities:log-activity", args=[customer.pk])
    body = {
        "kind": "call",
        "purpose": "service",
        "outcome": "Talked to Lin.",
        "next_follow_up_on": "2099-01-05",
    }

    responses = [
        client.post(url, body),
        client.post(url, body),
        client.post(url, {**body, "form_token": str(uuid.uuid4())}),
        client.post(url, {**body, "form_token": str(uuid.uuid4())}),
    ]

    assert [response.status_code for response in responses] == [302] * 4
    assert Activity.objects.count() == 4


def test_a_token_belongs_to_its_user(client_as, personas):
    token = str(uuid.uuid4())

    mine = client_as("salesperson").post(
        reverse("crm:customer-create"), _customer_form(token, personas.salesperson)
    )
    theirs = client_as("teammate").post(
        reverse("crm:customer-create"), _customer_form(token, personas.teammate, name="Southwind")
    )

    assert (mine.status_code, theirs.status_code) == (302, 302)
    assert Customer.objects.count() == 2


def test_a_post_answered_with_a_server_error_lets_its_token_go(client_as, personas, monkeypatch):
    from crm import views as crm_views

    client = client_as("salesperson")
    client.raise_request_exception = False
    token = str(uuid.uuid4())
    create_customer = crm_views.services.create_customer

    def broken(**kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(crm_views.services, "create_customer", broken)
    failed = client.post(reverse("crm:customer-create"), _customer_form(token, personas.salesperson))
    monkeypatch.setattr(crm_views.services, "create_customer", create_customer)
    retried = client.post(reverse("crm:customer-create"), _customer_form(token, personas.salesperson))

    assert (failed.status_code, retried.status_code) == (500, 302)
    assert Customer.objects.count() == 1


def test_the_login_form_and_the_api_ignore_form_tokens(client, personas):
    token = str(uuid.uuid4())
    login = {"username": "salesperson", "password": "wrong", "form_token": token}

    failed = [client.post(reverse("login"), login) for _ in range(2)]
    client.force_login(personas.salesperson)
    api = [
        client.post(
            reverse("customer-list"),
            {"name": f"Api {n}", "grade": grade("E").pk, "form_token": token},
            content_type="application/json",
        )
        for n in range(2)
    ]

    assert [response.status_code for response in failed] == [200, 200]
    assert [response.status_code for response in api] == [201, 201]


def test_with_the_cache_down_forms_are_posted_unchecked(client_as, personas, monkeypatch):
    def unreachable(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(cache, "add", unreachable)
    token = str(uuid.uuid4())
    client = client_as("salesperson")

    first = client.post(reverse("crm:customer-create"), _customer_form(token, personas.salesperson))
    second = client.post(
        reverse("crm:customer-create"), _customer_form(token, personas.salesperson, name="Southwind")
    )

    assert (first.status_code, second.status_code) == (302, 302)
    assert Customer.objects.count() == 2


@pytest.mark.parametrize("token", ["short", "x" * 65, "<script>"])
def test_a_malformed_token_is_no_token(client_as, personas, token):
    client = client_as("salesperson")

    responses = [
        client.post(reverse("crm:customer-create"), _customer_form(token, personas.salesperson, name=name))
        for name in ("Northwind", "Southwind")
    ]

    assert [response.status_code for response in responses] == [302, 302]

"""Logging an activity from the phone: the log forms carry a client key (a double tap logs
once) and post the API's field names, so offline.js can queue them for ``/api/activities/``."""

import uuid
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.api.serializers import ActivitySerializer
from activities.models import Activity
from crm.tests.factories import CustomerFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


class _Fields(HTMLParser):
    """The log form's attributes and its named fields (input / select / textarea)."""

    def __init__(self):
        super().__init__()
        self.form: dict = {}
        self.fields: list[dict] = []
        self.inside = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("data-testid") == "log-form":
            self.form, self.inside = attrs, True
        elif self.inside and tag in ("input", "select", "textarea") and attrs.get("name"):
            self.fields.append(attrs)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def parse(html: str) -> _Fields:
    parser = _Fields()
    parser.feed(html)
    return parser


@pytest.fixture
def customer(personas):
    return CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics")


def _call(**overrides):
    data = {
        "kind": "call",
        "purpose": "new_development",
        "outcome": "Spoke to the buyer",
        "next_follow_up_on": (timezone.localdate() + timedelta(days=1)).isoformat(),
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("htmx", [True, False], ids=["inline form", "full page"])
def test_the_log_forms_post_the_api_field_names_with_a_client_key(client_as, customer, htmx):
    url = reverse("activities:log-activity", args=[customer.pk]) + "?kind=call&row=follow-1"

    form = parse(client_as("salesperson").get(url, **(HTMX if htmx else {})).content.decode())

    assert "data-offline-queue" in form.form
    assert form.form["data-offline-api"] == reverse("activity-list")
    assert form.form["data-offline-label"] == "Harbor Point Logistics"
    assert form.form["data-offline-time-field"] == "started_at"
    by_name = {field["name"]: field for field in form.fields}
    assert by_name["customer"]["value"] == str(customer.pk)
    assert uuid.UUID(by_name["client_key"]["value"])
    # What the queue sends (everything but the CSRF token and the page's own fields) is
    # a field the API takes.
    writable = {name for name, field in ActivitySerializer().fields.items() if not field.read_only}
    sent = {
        field["name"]
        for field in form.fields
        if "data-offline-skip" not in field and field["name"] != "csrfmiddlewaretoken"
    }
    assert sent - {"client_key"} <= writable
    assert {"customer", "kind", "purpose", "outcome", "next_follow_up_on"} <= sent


def test_each_form_shown_gets_its_own_key(client_as, customer):
    client = client_as("salesperson")
    url = reverse("activities:log-activity", args=[customer.pk])

    keys = {
        next(f["value"] for f in parse(client.get(url).content.decode()).fields if f["name"] == "client_key")
        for _ in range(2)
    }

    assert len(keys) == 2


@pytest.mark.parametrize("htmx", [True, False], ids=["inline form", "full page"])
def test_a_double_submit_with_the_same_key_logs_one_activity(client_as, customer, htmx):
    client = client_as("salesperson")
    url = reverse("activities:log-activity", args=[customer.pk])
    data = _call(client_key=str(uuid.uuid4()), row="follow-1")
    headers = HTMX if htmx else {}

    first = client.post(url, data, **headers)
    second = client.post(url, data, **headers)

    assert first.status_code == second.status_code == (200 if htmx else 302)
    activity = Activity.objects.get()
    assert str(activity.client_key) == data["client_key"]
    if htmx:
        assert f'data-logged="{activity.pk}"' in second.content.decode()


def test_two_forms_with_different_keys_log_two_activities(client_as, customer):
    client = client_as("salesperson")
    url = reverse("activities:log-activity", args=[customer.pk])

    client.post(url, _call(client_key=str(uuid.uuid4())))
    client.post(url, _call(client_key=str(uuid.uuid4())))

    assert Activity.objects.count() == 2


def test_a_post_without_a_key_still_logs(client_as, customer):
    response = client_as("salesperson").post(reverse("activities:log-activity", args=[customer.pk]), _call())

    assert response.status_code == 302
    assert Activity.objects.get().client_key is None


def test_a_malformed_key_is_refused_with_a_message_and_nothing_written(client_as, customer):
    response = client_as("salesperson").post(
        reverse("activities:log-activity", args=[customer.pk]), _call(client_key="not-a-uuid")
    )

    assert response.status_code == 400
    assert "Enter a valid UUID." in response.content.decode()
    assert not Activity.objects.exists()


def test_the_queued_body_is_accepted_by_the_api(client_as, customer):
    """What offline.js makes of the inline form (fields → JSON, key in the header) logs
    the call through the API, and a resend answers with the same activity."""
    client = client_as("salesperson")
    key = str(uuid.uuid4())
    body = {
        **_call(),
        "customer": str(customer.pk),
        "effective": False,
        "client_key": key,
        "started_at": timezone.now().isoformat(),
    }

    first = client.post(
        reverse("activity-list"), body, content_type="application/json", headers={"Idempotency-Key": key}
    )

    assert first.status_code == 201, first.content
    activity = Activity.objects.get()
    assert (activity.kind, activity.customer, str(activity.client_key)) == ("call", customer, key)

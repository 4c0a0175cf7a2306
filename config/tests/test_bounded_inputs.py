"""API request bodies are bounded before they are parsed: nested deeper than JSON_MAX_DEPTH
(32), or larger than DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), a JSON body answers 400 with
a message, and nothing is written. (Nested 50,000 deep it used to be a 500; DRF read
JSON bodies of any size.)"""

import json

import pytest
from django.urls import reverse

from config.parsers import nesting_depth
from crm.models import Customer
from funnel.tests.factories import ensure_default_grades, grade


@pytest.fixture(autouse=True)
def grades(db):
    ensure_default_grades()


def post_json(client, body: str, url: str | None = None):
    return client.post(url or reverse("customer-list"), data=body, content_type="application/json")


def customer_body(**extra) -> dict:
    return {"name": "Northwind Ltd", "grade": grade("E").pk, **extra}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_nested_fifty_thousand_deep_answers_400_not_500(client_as):
    response = post_json(client_as("salesperson"), nested(50_000))

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The JSON body nests more than 32 levels deep; the most the API takes is 32."
    }


@pytest.mark.parametrize(("depth", "status"), [(31, 201), (32, 400)])
def test_nesting_up_to_the_cap_is_parsed(client_as, depth, status):
    """The body object is the first level: an extra field nested ``depth`` deep makes ``depth + 1``."""
    body = json.dumps(customer_body()).rstrip("}") + f', "ignored": {nested(depth)}}}'

    response = post_json(client_as("salesperson"), body)

    assert response.status_code == status, response.content
    assert Customer.objects.exists() == (status == 201)


def test_brackets_inside_strings_are_text(client_as):
    notes = '[[[{{{ "quoted \\" [ still text' + "[" * 50_000
    response = post_json(client_as("salesperson"), json.dumps(customer_body(notes=notes)))

    assert response.status_code == 201, response.content
    assert Customer.objects.get().notes == notes


def test_a_body_larger_than_the_upload_cap_is_refused_before_it_is_parsed(client_as, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps(customer_body(notes="x" * 2000))

    response = post_json(client_as("salesperson"), body)

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The request body is larger than 1,000 bytes; the most the API takes is 1,000."
    }
    assert not Customer.objects.exists()


def test_the_default_body_cap_is_two_and_a_half_megabytes(client_as):
    body = json.dumps(customer_body(notes="x" * (3 * 1024 * 1024)))
    response = post_json(client_as("salesperson"), body)
    assert response.status_code == 400
    assert "larger than 2,621,440 bytes" in response.json()["detail"]


def test_an_edit_is_bounded_too(personas, client_as):
    from crm.tests.factories import CustomerFactory

    customer = CustomerFactory(owner=personas.salesperson)
    response = client_as("salesperson").patch(
        reverse("customer-detail", args=[customer.pk]), data=nested(1000), content_type="application/json"
    )
    assert response.status_code == 400


def test_bad_json_still_says_so(client_as):
    response = post_json(client_as("salesperson"), '{"name": ')
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('["]]]]", "[[[[", "\\"["]', 1),
        ('{"a": "\\\\"}', 1),  # an escaped backslash ends the string
        ("[" * 100_000, 100_000),  # unbalanced: counted all the same, and fast (no recursion)
    ],
)
def test_nesting_depth(text, depth):
    assert nesting_depth(text) == depth

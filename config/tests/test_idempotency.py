"""``Idempotency-Key`` on API POSTs (``config/idempotency.py``): a resend of the same
request gets the stored first answer and writes nothing, the same key with another
request answers 422, a request still running 409; keys belong to their user. (The
races on PostgreSQL: ``test_idempotent_races.py``.)"""

import hashlib
import uuid
from datetime import date, timedelta

import pytest
from django.test import Client
from django.test.client import encode_multipart
from django.urls import reverse
from django.utils import timezone

from activities import visits
from activities.models import LocationStatus, VisitPhoto
from activities.tests.factories import photo_upload
from config import idempotency
from config.idempotency import _BodyDigest
from config.models import IdempotentRequest
from config.tasks import purge_idempotency_keys
from config.tokens import issue_token
from crm.models import Order
from crm.tests.factories import CustomerFactory
from funnel import services as funnel_services
from funnel.tests.factories import grade


@pytest.fixture
def customer(personas):
    return CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics", grade=grade("B"))


def _order(customer, amount="120000.00") -> dict:
    return {"customer": customer.pk, "amount": amount, "signed_on": date(2026, 3, 2).isoformat()}


def _post(client, body, key, name="order-list", **kwargs):
    return client.post(
        reverse(name, **kwargs), body, content_type="application/json", headers={"Idempotency-Key": key}
    )


def test_the_same_order_posted_three_times_with_one_key_makes_one_order_and_replays_the_first_answer(
    client_as, customer
):
    client = client_as("salesperson")
    key = str(uuid.uuid4())

    first, second, third = (_post(client, _order(customer), key) for _ in range(3))

    assert [first.status_code, second.status_code, third.status_code] == [201, 201, 201]
    assert Order.objects.count() == 1
    assert second.content == third.content == first.content
    assert second["Content-Type"] == "application/json"
    assert first.get("Idempotent-Replayed") is None
    assert second["Idempotent-Replayed"] == third["Idempotent-Replayed"] == "true"
    claim = IdempotentRequest.objects.get()
    assert (claim.key, claim.status_code, claim.method, claim.path) == (
        key,
        201,
        "POST",
        reverse("order-list"),
    )


@pytest.mark.parametrize("other", ["body", "path"])
def test_the_same_key_with_another_request_answers_422_and_writes_nothing(
    client_as, personas, customer, other
):
    client = client_as("salesperson")
    key = str(uuid.uuid4())
    _post(client, _order(customer), key)

    if other == "body":
        response = _post(client, _order(customer, amount="99.00"), key)
    else:
        response = _post(client, {"customer": customer.pk, "name": "Lin Mei"}, key, name="contact-list")

    assert response.status_code == 422
    assert response.json() == {"detail": "This Idempotency-Key was used with another request."}
    assert Order.objects.count() == 1
    assert not customer.contacts.exists()


def test_a_resend_while_the_first_request_still_runs_answers_409_with_retry_after(client_as, customer):
    client = client_as("salesperson")
    key = str(uuid.uuid4())
    _post(client, _order(customer), key)
    IdempotentRequest.objects.update(completed_at=None, status_code=None, response_body=b"")  # still running

    response = _post(client, _order(customer), key)

    assert response.status_code == 409
    assert response["Retry-After"] == "1"
    assert "still running" in response.json()["detail"]
    assert Order.objects.count() == 1


def test_a_claim_left_unanswered_by_a_dead_worker_is_taken_over_by_a_resend(client_as, customer, settings):
    client = client_as("salesperson")
    key = str(uuid.uuid4())
    _post(client, _order(customer), key)
    Order.objects.all().delete()  # the first request died before its commit
    long_ago = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_ABANDONED_SECONDS + 1)
    IdempotentRequest.objects.update(completed_at=None, status_code=None, created_at=long_ago)

    response = _post(client, _order(customer), key)

    assert response.status_code == 201
    assert response.get("Idempotent-Replayed") is None
    assert Order.objects.count() == 1
    assert IdempotentRequest.objects.get().status_code == 201


@pytest.mark.parametrize(
    "key", ["", "x" * 256, "two words", "schlüssel"], ids=["empty", "256", "space", "latin-1"]
)
def test_a_bad_key_answers_400_on_the_header_and_writes_nothing(client_as, customer, key):
    response = _post(client_as("salesperson"), _order(customer), key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Order.objects.exists()
    assert not IdempotentRequest.objects.exists()


def test_a_key_belongs_to_its_user_another_user_s_same_key_is_a_request_of_its_own(
    client_as, personas, customer
):
    key = "order-2026-03-02"
    teammates = CustomerFactory(owner=personas.teammate, name="East Gate Hardware", grade=grade("B"))

    mine = _post(client_as("salesperson"), _order(customer), key)
    theirs = _post(client_as("teammate"), _order(teammates), key)

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert theirs.get("Idempotent-Replayed") is None
    assert sorted(Order.objects.values_list("customer__name", flat=True)) == [
        "East Gate Hardware",
        "Harbor Point Logistics",
    ]


def test_a_token_and_a_session_of_the_same_user_share_their_keys(client_as, personas, customer):
    _token, secret = issue_token(user=personas.salesperson, via="test")
    key = str(uuid.uuid4())

    by_token = Client().post(
        reverse("order-list"),
        _order(customer),
        content_type="application/json",
        headers={"Idempotency-Key": key, "Authorization": f"Token {secret}"},
    )
    by_session = _post(client_as("salesperson"), _order(customer), key)

    assert (by_token.status_code, by_session.status_code) == (201, 201)
    assert by_session["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_an_anonymous_or_badly_authenticated_call_is_refused_by_the_view_and_claims_nothing(customer):
    anonymous = Client().post(
        reverse("order-list"),
        _order(customer),
        content_type="application/json",
        headers={"Idempotency-Key": "k1"},
    )
    bad_token = Client().post(
        reverse("order-list"),
        _order(customer),
        content_type="application/json",
        headers={"Idempotency-Key": "k1", "Authorization": "Token nonsense"},
    )

    assert (anonymous.status_code, bad_token.status_code) == (401, 401)
    assert not IdempotentRequest.objects.exists()


def test_a_refusal_on_bad_input_is_kept_and_replayed(client_as, customer):
    client = client_as("salesperson")
    body = {"customer": customer.pk, "amount": "-5", "signed_on": "2026-03-02"}

    first, again = _post(client, body, "bad-order"), _post(client, body, "bad-order")

    assert (first.status_code, again.status_code) == (400, 400)
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"


def test_a_lost_race_409_is_not_kept_a_retry_with_the_key_runs_again(client_as, customer):
    client = client_as("salesperson")
    url_args = {"args": [customer.pk]}
    stale = {"grade": grade("A").pk, "expected_grade": grade("C").pk}  # the customer is at B

    refused = _post(client, stale, "move-1", name="customer-change-grade", **url_args)
    retried = _post(client, stale, "move-1", name="customer-change-grade", **url_args)

    assert (refused.status_code, retried.status_code) == (409, 409)
    assert retried.get("Idempotent-Replayed") is None
    assert not IdempotentRequest.objects.exists()


def test_a_server_error_lets_the_key_go_so_a_retry_runs(client_as, customer, monkeypatch):
    client = client_as("salesperson")
    client.raise_request_exception = False
    record_order = funnel_services.record_order

    def broken(**kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(funnel_services, "record_order", broken)
    failed = _post(client, _order(customer), "retry-me")
    monkeypatch.setattr(funnel_services, "record_order", record_order)
    retried = _post(client, _order(customer), "retry-me")

    assert (failed.status_code, retried.status_code) == (500, 201)
    assert retried.get("Idempotent-Replayed") is None
    assert Order.objects.count() == 1


def test_a_new_calendar_address_is_never_stored_for_a_replay(client_as):
    client = client_as("salesperson")

    first = client.post(reverse("calendar-feed-regenerate"), headers={"Idempotency-Key": "new-feed"})
    second = client.post(reverse("calendar-feed-regenerate"), headers={"Idempotency-Key": "new-feed"})

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["url"] != second.json()["url"]
    assert not IdempotentRequest.objects.exists()


def test_gets_and_posts_without_a_key_are_left_alone(client_as, customer):
    client = client_as("salesperson")

    listed = client.get(reverse("order-list"), headers={"Idempotency-Key": "k"})
    posted = [
        client.post(reverse("order-list"), _order(customer), content_type="application/json")
        for _ in range(2)
    ]

    assert listed.status_code == 200
    assert [response.status_code for response in posted] == [201, 201]
    assert Order.objects.count() == 2
    assert not IdempotentRequest.objects.exists()


# --- Bodies -------------------------------------------------------------------------------------


def _multipart(client, url, data, *, boundary: str, key: str):
    return client.post(
        url,
        encode_multipart(boundary, data),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Idempotency-Key": key},
    )


def test_a_form_sent_again_with_another_multipart_boundary_is_the_same_request(client_as, personas):
    client = client_as("salesperson")
    data = {"name": "Bright Star Foods", "grade": grade("E").pk, "phone": "021 5555 0101"}

    first = _multipart(client, reverse("customer-list"), data, boundary="first-boundary-1234", key="c1")
    again = _multipart(client, reverse("customer-list"), data, boundary="AnotherOne98765", key="c1")

    assert (first.status_code, again.status_code) == (201, 201), first.content
    assert again["Idempotent-Replayed"] == "true"
    assert personas.salesperson.customers.count() == 1


def test_an_upload_larger_than_memory_is_streamed_through_a_file_and_still_replayed(
    client_as, personas, customer, settings, monkeypatch, tmp_path
):
    # given: a photo bigger than what Django keeps in memory, read here in 700-byte chunks
    settings.MEDIA_ROOT = tmp_path
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    monkeypatch.setattr(idempotency, "CHUNK_BYTES", 700)
    visit, _created = visits.check_in(
        by=personas.salesperson, customer=customer, fix=None, status=LocationStatus.DENIED
    )
    client = client_as("salesperson")
    url = reverse("visit-photos", args=[visit.pk])
    photo = photo_upload(size=(400, 300)).read()
    assert len(photo) > 2000

    def upload(boundary):
        return _multipart(client, url, {"photo": photo_upload(size=(400, 300))}, boundary=boundary, key="p1")

    # when
    first, again = upload("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), upload("Zb")

    # then
    assert (first.status_code, again.status_code) == (201, 201), first.content
    assert again["Idempotent-Replayed"] == "true"
    assert VisitPhoto.objects.count() == 1


def test_an_upload_over_every_view_s_limit_goes_on_unclaimed_and_its_view_refuses_it(
    client_as, personas, customer, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.IDEMPOTENCY_MAX_UPLOAD_BYTES = 2000
    visit, _created = visits.check_in(
        by=personas.salesperson, customer=customer, fix=None, status=LocationStatus.DENIED
    )
    settings.VISIT_PHOTO_MAX_UPLOAD_BYTES = 1000

    response = _multipart(
        client_as("salesperson"),
        reverse("visit-photos", args=[visit.pk]),
        {"photo": photo_upload(size=(400, 300))},
        boundary="b0undary",
        key="p2",
    )

    assert response.status_code == 400
    assert "photo" in response.json()
    assert not IdempotentRequest.objects.exists()


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 11, 64])
def test_the_body_fingerprint_leaves_out_every_boundary_however_the_body_is_chunked(size):
    body = b"--XyZ\r\npart one--X\r\n--XyZ\r\n--XyZ--X--XyZ-\r\n--XyZ--"
    whole = _BodyDigest(b"--XyZ")
    whole.update(body)
    chunked = _BodyDigest(b"--XyZ")
    for start in range(0, len(body), size):
        chunked.update(body[start : start + size])

    assert chunked.hexdigest() == whole.hexdigest() == hashlib.sha256(body.replace(b"--XyZ", b"")).hexdigest()


# --- Housekeeping and the schema ----------------------------------------------------------------


def test_keys_older_than_a_day_are_purged_and_younger_ones_kept(personas):
    now = timezone.now()
    for key, age in [("old", timedelta(hours=25)), ("young", timedelta(hours=23))]:
        IdempotentRequest.objects.create(
            user=personas.salesperson,
            key=key,
            method="POST",
            path="/api/orders/",
            body_sha256="0" * 64,
            created_at=now - age,
        )

    assert purge_idempotency_keys() == 1
    assert purge_idempotency_keys() == 0
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["young"]


def test_the_schema_documents_the_header_and_its_answers_on_every_post_that_honours_it(client_as):
    schema = client_as("salesperson").get(reverse("api-schema"), {"format": "json"}).json()
    posts = {path: item["post"] for path, item in schema["paths"].items() if "post" in item}

    def documents_key(operation):
        return any(
            p["in"] == "header" and p["name"] == "Idempotency-Key" for p in operation.get("parameters", [])
        )

    assert {path for path, operation in posts.items() if not documents_key(operation)} == {
        "/api/auth/token/",
        "/api/calendar-feed/regenerate/",
    }
    assert {"409", "422"} <= set(posts["/api/orders/"]["responses"])
    assert posts["/api/customers/"]["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_a_session_post_is_claimed_only_once_it_passes_its_csrf_check(personas, customer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.salesperson)
    client.get(reverse("home"))  # the page sets the CSRF cookie
    token = client.cookies["csrftoken"].value

    def send(headers):
        return client.post(
            reverse("order-list"),
            _order(customer),
            content_type="application/json",
            headers={"Idempotency-Key": "csrf-1", **headers},
        )

    forged, sent, again = send({}), send({"X-CSRFToken": token}), send({"X-CSRFToken": token})

    assert [forged.status_code, sent.status_code, again.status_code] == [403, 201, 201]
    assert (sent.get("Idempotent-Replayed"), again["Idempotent-Replayed"]) == (None, "true")
    assert again["Cache-Control"] == "no-store"
    assert Order.objects.count() == 1

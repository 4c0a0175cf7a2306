"""The visits API (外勤签到) and the team's day, page and API: the visibility rule of the
pages, resends that never write a second row (``Idempotency-Key``), the photo limits,
and query counts that do not grow with the day's check-ins."""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import multipartparser
from django.test import Client
from django.urls import reverse

from activities import services, visits
from activities.models import (
    Activity,
    ActivityKind,
    CustomerLocation,
    LocationSource,
    LocationStatus,
    PlanItemKind,
    Purpose,
    Visit,
    VisitPhoto,
)
from activities.visits import Fix
from crm.models import User
from crm.tests.factories import CustomerFactory, bulk_customers
from crm.tests.query_counts import same_queries_for_10_and_1000, signed_in
from funnel.tests.factories import grade

from .factories import at, photo_upload

DAY = date(2026, 3, 10)
HARBOR = Fix(Decimal("31.230416"), Decimal("121.473701"), 10)
TWO_KM_NORTH = Fix(Decimal("31.248416"), Decimal("121.473701"), 15)


@pytest.fixture
def evening():
    """Every test runs at 18:00 on ``DAY`` (company time), after the day's visits."""
    with time_machine.travel(at(DAY, 18), tick=False):
        yield


@pytest.fixture
def customers(personas, evening):
    return SimpleNamespace(
        mine=CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics"),
        second=CustomerFactory(owner=personas.salesperson, name="Bright Star Foods"),
        teammates=CustomerFactory(owner=personas.teammate, name="East Gate Hardware"),
        subs=CustomerFactory(owner=personas.sub_salesperson, name="North Road Textiles"),
        west=CustomerFactory(owner=personas.other_salesperson, name="West Lake Trading"),
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _check_in(person, customer, *, hour=10, minute=0, fix=None, **kwargs):
    visit, _created = visits.check_in(
        by=person,
        customer=customer,
        fix=fix,
        status="" if fix else LocationStatus.DENIED,
        now=at(DAY, hour, minute),
        **kwargs,
    )
    return visit


def _post(client, name, data, *, key=None, **kwargs):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        reverse(name, kwargs=kwargs or None), data, content_type="application/json", headers=headers
    )


def _stored_files(folder) -> list:
    return [path for path in folder.rglob("*") if path.is_file()]


# --- Reading: the visibility rule ----------------------------------------------------------


@pytest.fixture
def three_visits(personas, customers):
    return {
        "mine": _check_in(personas.salesperson, customers.mine),
        "teammates": _check_in(personas.teammate, customers.teammates),
        "west": _check_in(personas.other_salesperson, customers.west),
    }


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("salesperson", {"mine"}),
        ("teammate", {"teammates"}),
        ("manager", {"mine", "teammates"}),
        ("other_salesperson", {"west"}),
        ("other_manager", {"west"}),
        ("admin", {"mine", "teammates", "west"}),
    ],
)
def test_the_visit_list_holds_exactly_the_visits_at_customers_the_caller_may_see(
    client_as, three_visits, role, expected
):
    response = client_as(role).get(reverse("visit-list"))

    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {three_visits[key].pk for key in expected}


@pytest.mark.parametrize(
    ("role", "status"),
    [("salesperson", 200), ("manager", 200), ("admin", 200), ("teammate", 404), ("other_manager", 404)],
)
def test_a_visit_is_found_only_by_those_who_see_its_customer(client_as, three_visits, role, status):
    response = client_as(role).get(reverse("visit-detail", args=[three_visits["mine"].pk]))

    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert (body["customer_name"], body["check_in_status"], body["photos"]) == (
            "Harbor Point Logistics",
            "denied",
            [],
        )


def test_the_list_filters_by_day_and_person_and_refuses_a_bad_date(client_as, personas, customers):
    today = _check_in(personas.salesperson, customers.mine)
    _check_in(personas.teammate, customers.teammates)
    with time_machine.travel(at(DAY - timedelta(days=1), 18), tick=False):
        visits.check_in(by=personas.salesperson, customer=customers.second, fix=None)
    client = client_as("manager")

    rows = client.get(reverse("visit-list"), {"date": DAY.isoformat(), "owner": personas.salesperson.pk})
    bad = client.get(reverse("visit-list"), {"date": "2026-02-30"})

    assert [row["id"] for row in rows.json()["results"]] == [today.pk]
    assert bad.status_code == 400
    assert "date" in bad.json()


# --- Check-in and resends ------------------------------------------------------------------


def test_a_check_in_answers_201_and_a_resend_with_the_same_key_the_same_answer(client_as, customers):
    client = client_as("salesperson")
    key = str(uuid.uuid4())
    body = {"customer": customers.mine.pk, "latitude": 31.230416, "longitude": 121.473701, "accuracy": 12.4}

    first = _post(client, "visit-check-in", body, key=key)
    again = _post(client, "visit-check-in", body, key=key)

    # The resend gets the stored first answer (config/idempotency.py), and writes nothing.
    assert (first.status_code, again.status_code) == (201, 201), first.content
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    assert (first.json()["check_in_status"], first.json()["check_in_latitude"]) == ("fixed", "31.230416")
    assert first.json()["check_in_accuracy_m"] == 12
    assert Visit.objects.count() == 1
    assert Activity.objects.filter(kind=ActivityKind.VISIT).count() == 1


def test_the_key_may_come_in_the_body_and_belongs_to_its_sender(client_as, customers):
    key = str(uuid.uuid4())
    body = {"customer": customers.mine.pk, "location_status": "timeout", "client_key": key}

    first = _post(client_as("salesperson"), "visit-check-in", body)
    again = _post(client_as("salesperson"), "visit-check-in", body)
    managers = _post(client_as("manager"), "visit-check-in", body)  # the same key from someone else

    assert [first.status_code, again.status_code, managers.status_code] == [201, 200, 201]
    assert first.json()["check_in_status"] == "timeout"
    assert Visit.objects.count() == 2


@pytest.mark.parametrize(
    ("headers", "body", "field"),
    [
        (lambda: {"Idempotency-Key": f"not-a-uuid-{uuid.uuid4().hex[:8]}"}, {}, "Idempotency-Key"),
        (dict, {"client_key": "12345"}, "client_key"),
        (lambda: {"Idempotency-Key": str(uuid.uuid4())}, {"client_key": str(uuid.uuid4())}, "client_key"),
    ],
    ids=["bad-header", "bad-body-key", "header-and-body-differ"],
)
def test_a_bad_idempotency_key_answers_400_on_it_and_nothing_is_written(
    client_as, customers, headers, body, field
):
    client = client_as("salesperson")
    for name, data in [
        ("visit-check-in", {"customer": customers.mine.pk, **body}),
        ("activity-list", {"customer": customers.mine.pk, "kind": "visit", "purpose": "service", **body}),
    ]:
        # A key of its own for each request (the same key with another request is a 422).
        response = client.post(reverse(name), data, content_type="application/json", headers=headers())

        assert response.status_code == 400, name
        assert field in response.json(), name
    assert not Visit.objects.exists()
    assert not Activity.objects.exists()


def test_a_check_in_without_a_location_is_saved_as_no_location(client_as, customers):
    response = _post(client_as("salesperson"), "visit-check-in", {"customer": customers.mine.pk})

    assert response.status_code == 201
    assert (response.json()["check_in_status"], response.json()["check_in_latitude"]) == ("unavailable", None)


def test_the_blank_inputs_of_a_check_in_form_mean_no_value(client_as, customers):
    body = {
        "customer": customers.mine.pk,
        "location_status": "denied",
        "purpose": "",
        "plan_item": "",
        "latitude": "",
        "longitude": "",
        "accuracy": "",
        "client_key": "",
    }

    response = _post(client_as("salesperson"), "visit-check-in", body)

    assert response.status_code == 201, response.content
    assert (response.json()["check_in_status"], response.json()["plan_item"]) == ("denied", None)


def test_a_check_in_two_km_from_the_customer_is_flagged(client_as, personas, customers):
    visits.set_customer_location(by=personas.salesperson, customer=customers.mine, fix=HARBOR)
    body = {"customer": customers.mine.pk, "latitude": "31.248416", "longitude": "121.473701", "accuracy": 15}

    response = _post(client_as("salesperson"), "visit-check-in", body)

    assert response.status_code == 201
    assert response.json()["far_from_customer"] is True
    assert 1990 <= response.json()["distance_m"] <= 2010


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"latitude": 31.2}, "longitude"),
        ({"latitude": 91, "longitude": 0}, "latitude"),
        ({"latitude": "nan", "longitude": 0}, "latitude"),
        ({"location_status": "lost"}, "location_status"),
        ({"purpose": "gossip"}, "purpose"),
        ({"customer": 2**70}, "customer"),
    ],
)
def test_bad_check_in_input_answers_400_on_the_field(client_as, customers, body, field):
    response = _post(client_as("salesperson"), "visit-check-in", {"customer": customers.mine.pk, **body})

    assert response.status_code == 400
    assert field in response.json()
    assert not Visit.objects.exists()


@pytest.mark.parametrize("role", ["teammate", "other_salesperson", "other_manager"])
def test_a_check_in_at_an_invisible_customer_answers_400_on_customer(client_as, customers, role):
    response = _post(client_as(role), "visit-check-in", {"customer": customers.mine.pk})

    assert response.status_code == 400
    assert "customer" in response.json()
    assert not Visit.objects.exists()


def test_a_check_in_links_the_plan_item_it_fulfils(client_as, personas, customers):
    plan = services.open_plan(by=personas.salesperson, day=DAY)
    item = services.add_plan_item(
        plan=plan, by=personas.salesperson, customer=customers.mine, purpose=Purpose.ORDER
    )

    response = _post(client_as("salesperson"), "visit-check-in", {"customer": customers.mine.pk})

    assert response.json()["plan_item"] == item.pk
    item.refresh_from_db()
    assert item.done is True
    assert Activity.objects.get(pk=response.json()["activity"]).purpose == Purpose.ORDER


def test_someone_elses_plan_item_answers_400(client_as, personas, customers):
    plan = services.open_plan(by=personas.salesperson, day=DAY)
    item = services.add_plan_item(
        plan=plan, by=personas.salesperson, customer=customers.mine, purpose=Purpose.ORDER
    )

    response = _post(
        client_as("manager"), "visit-check-in", {"customer": customers.mine.pk, "plan_item": item.pk}
    )

    assert response.status_code == 400
    assert "plan_item" in response.json()


# --- Activities over the API: the same key, one row ----------------------------------------------


def test_logging_an_activity_twice_with_the_same_key_writes_one_row(client_as, customers):
    client = client_as("salesperson")
    key = str(uuid.uuid4())
    body = {
        "customer": customers.mine.pk,
        "kind": "call",
        "purpose": "order",
        "call_stage": 2,
        "next_follow_up_on": (DAY + timedelta(days=1)).isoformat(),
    }

    first = _post(client, "activity-list", body, key=key)
    again = _post(client, "activity-list", body, key=key)
    by_body = _post(client, "activity-list", {**body, "client_key": key})
    other = _post(client, "activity-list", body, key=str(uuid.uuid4()))

    # Resent with the header: the stored first answer; with the key in the body: the row it made.
    assert [r.status_code for r in (first, again, by_body, other)] == [201, 201, 200, 201]
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"] == by_body.json()["id"] != other.json()["id"]
    assert "client_key" not in first.json()
    assert Activity.objects.filter(customer=customers.mine).count() == 2


def test_a_resend_finds_its_row_even_when_the_body_would_no_longer_pass(client_as, personas, customers):
    """The call was logged; the customer was archived before the phone heard the answer."""
    key = uuid.uuid4()
    activity = services.log_activity(
        by=personas.salesperson,
        customer=customers.mine,
        kind=ActivityKind.VISIT,
        purpose=Purpose.SERVICE,
        client_key=key,
    )
    customers.mine.archived_at = at(DAY, 17)
    customers.mine.save(update_fields=["archived_at"])

    response = _post(
        client_as("salesperson"),
        "activity-list",
        {"customer": customers.mine.pk, "kind": "visit", "purpose": "service"},
        key=str(key),
    )

    assert (response.status_code, response.json()["id"]) == (200, activity.pk)


# --- Check-out ----------------------------------------------------------------------------------


def test_check_out_stores_time_place_and_duration_and_a_resend_changes_nothing(
    client_as, personas, customers
):
    visit = _check_in(personas.salesperson, customers.mine, hour=17, minute=15)
    client = client_as("salesperson")
    body = {"latitude": 31.230416, "longitude": 121.473701, "outcome": "Signed the trial order"}

    first = _post(client, "visit-check-out", body, pk=visit.pk)
    with time_machine.travel(at(DAY, 18, 30), tick=False):
        again = _post(client, "visit-check-out", {}, pk=visit.pk)

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["duration_minutes"] == 45
    assert first.json()["check_out_status"] == "fixed"
    assert again.json()["checked_out_at"] == first.json()["checked_out_at"]
    activity = Activity.objects.get(pk=visit.activity_id)
    assert (activity.duration_minutes, activity.outcome) == (45, "Signed the trial order")


@pytest.mark.parametrize(
    ("role", "status"), [("manager", 403), ("admin", 403), ("teammate", 404), ("other_manager", 404)]
)
def test_only_the_visitor_checks_out(client_as, personas, customers, role, status):
    visit = _check_in(personas.salesperson, customers.mine)

    response = _post(client_as(role), "visit-check-out", {}, pk=visit.pk)

    assert response.status_code == status
    visit.refresh_from_db()
    assert visit.checked_out_at is None


# --- Photos ---------------------------------------------------------------------------------------


def test_a_photo_is_stored_resized_and_listed_with_its_url(client_as, personas, customers, media):
    visit = _check_in(personas.salesperson, customers.mine)
    client = client_as("salesperson")

    response = client.post(
        reverse("visit-photos", args=[visit.pk]), {"photo": photo_upload(size=(3000, 2000))}
    )

    assert response.status_code == 201, response.content
    photo = VisitPhoto.objects.get()
    assert response.json()["url"] == reverse("activities:visit-photo", args=[photo.pk])
    assert (response.json()["width"], response.json()["height"]) == (2048, 1365)
    listed = client.get(reverse("visit-detail", args=[visit.pk])).json()["photos"]
    assert [row["id"] for row in listed] == [photo.pk]


@pytest.mark.parametrize(
    "upload",
    [
        lambda: SimpleUploadedFile("shop.jpg", b"this is no photo " * 100, content_type="image/jpeg"),
        lambda: photo_upload("huge.png", size=(12_000, 12_000), image_format="PNG", mode="1"),
    ],
    ids=["not-an-image-named-jpg", "12000x12000-pixels"],
)
def test_a_photo_that_is_no_usable_image_is_refused_on_the_field_and_nothing_is_stored(
    client_as, personas, customers, media, upload
):
    visit = _check_in(personas.salesperson, customers.mine)

    response = client_as("salesperson").post(reverse("visit-photos", args=[visit.pk]), {"photo": upload()})

    assert response.status_code == 400
    assert list(response.json()) == ["photo"]
    assert not VisitPhoto.objects.exists()
    assert _stored_files(media) == []


def test_a_30_mb_upload_is_refused_by_its_declared_length_before_its_body_is_read(
    personas, customers, media, monkeypatch
):
    visit = _check_in(personas.salesperson, customers.mine)
    # A browser's session, CSRF checks on: Django's CSRF check would parse the body first.
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.salesperson)
    monkeypatch.setattr(
        multipartparser.MultiPartParser, "parse", lambda parser: pytest.fail("the upload was read")
    )
    upload = SimpleUploadedFile("big.jpg", b"\xff" * (30 * 1024 * 1024), content_type="image/jpeg")

    response = client.post(reverse("visit-photos", args=[visit.pk]), {"photo": upload})

    assert response.status_code == 400
    assert "30.0 MB" in response.json()["photo"][0]
    assert not VisitPhoto.objects.exists()
    assert _stored_files(media) == []


@pytest.mark.parametrize(
    ("role", "status"), [("manager", 403), ("admin", 403), ("teammate", 404), ("other_salesperson", 404)]
)
def test_only_the_visitor_adds_a_photo(client_as, personas, customers, media, role, status):
    visit = _check_in(personas.salesperson, customers.mine)

    response = client_as(role).post(reverse("visit-photos", args=[visit.pk]), {"photo": photo_upload()})

    assert response.status_code == status
    assert not VisitPhoto.objects.exists()


# --- The customer's location ------------------------------------------------------------------------


def test_the_owner_sets_the_customers_location_and_others_cannot_name_it(client_as, customers):
    body = {"customer": customers.mine.pk, "latitude": 31.230416, "longitude": 121.473701}

    response = _post(client_as("salesperson"), "visit-customer-location", body)
    hidden = _post(client_as("teammate"), "visit-customer-location", body)
    bad = _post(client_as("salesperson"), "visit-customer-location", {**body, "longitude": 181})

    assert response.status_code == 200
    assert (response.json()["latitude"], response.json()["source"]) == ("31.230416", LocationSource.MANUAL)
    assert (hidden.status_code, list(hidden.json())) == (400, ["customer"])
    assert (bad.status_code, list(bad.json())) == (400, ["longitude"])
    assert CustomerLocation.objects.get().customer_id == customers.mine.pk


# --- The team's day -----------------------------------------------------------------------------


@pytest.fixture
def team_day(personas, customers, media):
    """A hand-made day. ``salesperson`` planned visits at ``mine`` and ``second`` (and a
    call); checked in at ``mine`` 2 km from its known location at 09:10 (checked out at
    09:55, one photo) and at ``second`` with no location at 11:00: both planned.
    ``teammate`` checked in at 14:00, located, at a customer with no known location
    (unplanned); ``sub_salesperson`` planned one visit and made none; the West team
    checked in once; ``salesperson`` also checked in the day before."""
    sp = personas.salesperson
    with time_machine.travel(at(DAY, 7), tick=False):
        plan = services.open_plan(by=sp, day=DAY)
        services.add_plan_item(plan=plan, by=sp, customer=customers.mine, purpose=Purpose.ORDER)
        services.add_plan_item(plan=plan, by=sp, customer=customers.second, purpose=Purpose.SERVICE)
        services.add_plan_item(
            plan=plan, by=sp, customer=customers.second, kind=PlanItemKind.CALL, purpose=Purpose.SERVICE
        )
        subs_plan = services.open_plan(by=personas.sub_salesperson, day=DAY)
        services.add_plan_item(
            plan=subs_plan, by=personas.sub_salesperson, customer=customers.subs, purpose=Purpose.SERVICE
        )
    with time_machine.travel(at(DAY - timedelta(days=1), 18), tick=False):
        visits.check_in(by=sp, customer=customers.mine, fix=None)
    visits.set_customer_location(by=sp, customer=customers.mine, fix=HARBOR)
    far = _check_in(sp, customers.mine, hour=9, minute=10, fix=TWO_KM_NORTH)
    visits.check_out(by=sp, visit=far, fix=HARBOR, now=at(DAY, 9, 55))
    visits.attach_photo(by=sp, visit=far, upload=photo_upload())
    unlocated = _check_in(sp, customers.second, hour=11)
    teammates = _check_in(personas.teammate, customers.teammates, hour=14, fix=HARBOR)
    west = _check_in(personas.other_salesperson, customers.west, hour=15)
    return SimpleNamespace(far=far, unlocated=unlocated, teammates=teammates, west=west)


def _people(body) -> dict[str, tuple]:
    """Each person's totals, by username."""
    usernames = dict(User.objects.values_list("pk", "username"))
    return {
        usernames[person["id"]]: (
            person["check_ins"],
            person["flagged"],
            person["no_location"],
            person["planned_visits"],
            person["planned_visits_checked_in"],
        )
        for person in body["people"]
    }


def test_the_team_day_api_gives_a_manager_each_persons_totals_and_the_check_ins_in_order(
    client_as, personas, team_day
):
    response = client_as("manager").get(reverse("visit-team-day"), {"date": DAY.isoformat()})

    assert response.status_code == 200
    body = response.json()
    assert _people(body) == {
        # check-ins, far, no location, planned visits, planned visits checked in
        "deactivated": (0, 0, 0, 0, 0),
        "manager": (0, 0, 0, 0, 0),
        "salesperson": (2, 1, 1, 2, 2),
        "sub_salesperson": (0, 0, 0, 1, 0),
        "teammate": (1, 0, 0, 0, 0),
    }
    assert [row["id"] for row in body["visits"]] == [
        team_day.far.pk,
        team_day.unlocated.pk,
        team_day.teammates.pk,
    ]
    far = body["visits"][0]
    assert (far["far_from_customer"], far["duration_minutes"], far["photo_count"]) == (True, 45, 1)
    assert far["plan_item"] is not None and 1990 <= far["distance_m"] <= 2010
    teammates = body["visits"][2]
    assert (teammates["check_in_status"], teammates["distance_m"], teammates["plan_item"]) == (
        "fixed",
        None,
        None,
    )
    assert body["more"] is False


def test_the_team_day_of_the_other_team_and_of_one_person(client_as, personas, team_day):
    west = client_as("other_manager").get(reverse("visit-team-day"), {"date": DAY.isoformat()}).json()
    one = (
        client_as("manager")
        .get(reverse("visit-team-day"), {"date": DAY.isoformat(), "owner": personas.teammate.pk})
        .json()
    )
    outsider = client_as("manager").get(
        reverse("visit-team-day"), {"date": DAY.isoformat(), "owner": personas.other_salesperson.pk}
    )

    assert [row["id"] for row in west["visits"]] == [team_day.west.pk]
    assert set(_people(west)) == {"other_manager", "other_salesperson"}
    assert ([row["id"] for row in one["visits"]], list(_people(one))) == (
        [team_day.teammates.pk],
        ["teammate"],
    )
    assert (outsider.status_code, list(outsider.json())) == (400, ["owner"])


def test_the_team_day_is_for_managers_and_refuses_a_bad_date(client_as, team_day):
    assert client_as("salesperson").get(reverse("visit-team-day")).status_code == 403
    assert client_as("salesperson").get(reverse("activities:team-day")).status_code == 403
    bad = client_as("manager").get(reverse("visit-team-day"), {"date": "yesterday"})
    assert (bad.status_code, list(bad.json())) == (400, ["date"])


def test_the_team_day_page_shows_the_same_numbers(client_as, personas, team_day):
    response = client_as("manager").get(reverse("activities:team-day"), {"date": DAY.isoformat()})

    assert response.status_code == 200
    team = response.context["team"]
    assert [visit.pk for visit in team.visits] == [
        team_day.far.pk,
        team_day.unlocated.pk,
        team_day.teammates.pk,
    ]
    html = response.content.decode()
    salesperson_row = html.split(f'data-person="{personas.salesperson.pk}"')[1].split("</tr>")[0]
    assert [cell.split(">")[1].split("<")[0] for cell in salesperson_row.split("<td")[1:]] == [
        "2",
        "1",
        "1",
        "2 / 2",
    ]
    far_row = html.split(f'data-visit="{team_day.far.pk}"')[1].split("</li>")[0]
    assert "text-bg-danger" in far_row and "45 min" in far_row and "1 photo" in far_row
    assert reverse("activities:visit-detail", args=[team_day.far.pk]) in far_row
    unlocated_row = html.split(f'data-visit="{team_day.unlocated.pk}"')[1].split("</li>")[0]
    assert 'data-testid="no-location"' in unlocated_row


def test_the_team_day_page_says_what_is_wrong_with_a_bad_filter(client_as, personas, team_day):
    client = client_as("manager")

    bad_date = client.get(reverse("activities:team-day"), {"date": "2026-02-30"})
    outsider = client.get(
        reverse("activities:team-day"), {"date": DAY.isoformat(), "owner": personas.other_salesperson.pk}
    )

    assert bad_date.status_code == 200
    assert bad_date.context["form"].errors["date"]
    assert bad_date.context["day"] == DAY  # today, under the travelling clock
    assert outsider.status_code == 200
    assert outsider.context["form"].errors["owner"]
    assert outsider.context["team"].visits == []


def test_the_team_day_page_in_chinese(client_as, team_day):
    client = client_as("manager")
    client.cookies["django_language"] = "zh-hans"

    response = client.get(reverse("activities:team-day"), {"date": DAY.isoformat()})

    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()


# --- Query counts at two sizes ------------------------------------------------------------------------


@pytest.fixture
def grow(personas, evening):
    """``grow(total)`` brings the day to ``total`` check-ins by ``salesperson`` (each with a
    photo, every other one planned) and as many by the West team, which no East list reads."""
    state = {"count": 0}

    def add(owner, count, start, with_extras):
        customers = bulk_customers(owner=owner, count=count, start=start, grade=grade("D"), prefix="Visited")
        made = Visit.objects.bulk_create(
            [
                Visit(
                    owner=owner,
                    customer=customer,
                    checked_in_at=at(DAY, 8) + timedelta(seconds=start + n),
                    check_in_status=LocationStatus.DENIED,
                )
                for n, customer in enumerate(customers)
            ]
        )
        if with_extras:
            VisitPhoto.objects.bulk_create(
                [
                    VisitPhoto(visit=visit, image=f"visits/{visit.pk}.jpg", width=64, height=48)
                    for visit in made
                ]
            )

    def grow_to(total: int) -> None:
        start, count = state["count"], total - state["count"]
        add(personas.salesperson, count, start, with_extras=True)
        add(personas.other_salesperson, count, start, with_extras=False)
        state["count"] = total

    return grow_to


def test_the_team_day_page_for_a_manager(grow, client_as, django_assert_num_queries):
    client = signed_in(client_as, "manager")

    # 1 session, 2 user, 3 the team tree (visible team ids), 4 the people with their
    # totals (correlated counts), 5 the check-ins with their photo counts (customer,
    # visitor and plan item joined), 6 who went along, 7 the notification bell.
    responses = same_queries_for_10_and_1000(
        grow,
        django_assert_num_queries,
        7,
        lambda: client.get(reverse("activities:team-day"), {"date": DAY.isoformat()}),
    )

    assert [len(r.context["team"].visits) for r in responses] == [10, 500]
    assert responses[-1].context["team"].more is True


def test_the_team_day_api_for_a_manager(grow, client_as, django_assert_num_queries):
    client = signed_in(client_as, "manager")

    # 1 session, 2 user, 3 the team tree, 4 the people with their totals, 5 the check-ins,
    # 6 who went along.
    responses = same_queries_for_10_and_1000(
        grow,
        django_assert_num_queries,
        6,
        lambda: client.get(reverse("visit-team-day"), {"date": DAY.isoformat()}),
    )

    assert [len(r.json()["visits"]) for r in responses] == [10, 500]


@pytest.mark.parametrize(("role", "expected"), [("salesperson", 6), ("manager", 7)])
def test_the_visit_api_list(grow, client_as, django_assert_num_queries, role, expected):
    client = signed_in(client_as, role)

    # 1 session, 2 user, (the team tree for a manager), count (capped), the page of visits
    # (customer, visitor, plan item joined), their photos and companions (two prefetches).
    responses = same_queries_for_10_and_1000(
        grow, django_assert_num_queries, expected, lambda: client.get(reverse("visit-list"))
    )

    assert [r.json()["count"] for r in responses] == [10, 1000]
    assert len(responses[-1].json()["results"][0]["photos"]) == 1


# --- The schema ----------------------------------------------------------------------------------------


def _resolve(spec, schema):
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _untyped_objects(spec, schema, where, seen) -> list[str]:
    """Places where a schema is an object with no properties (``{"type": "object"}``)."""
    name = schema.get("$ref")
    if name in seen:
        return []
    seen.add(name)
    schema = _resolve(spec, schema)
    found = []
    if schema.get("type") == "object" and not schema.get("properties"):
        found.append(where)
    for key, child in schema.get("properties", {}).items():
        found += _untyped_objects(spec, child, f"{where}.{key}", seen)
    for part in ("items", "additionalProperties"):
        if isinstance(schema.get(part), dict):
            found += _untyped_objects(spec, schema[part], f"{where}[]", seen)
    for part in ("allOf", "oneOf", "anyOf"):
        for child in schema.get(part, []):
            found += _untyped_objects(spec, child, where, seen)
    return found


def test_the_schema_types_every_visits_operation_and_documents_the_idempotency_key(client_as):
    spec = client_as("salesperson").get(reverse("api-schema"), {"format": "json"}).json()
    operations = {
        (path, method): operation
        for path, item in spec["paths"].items()
        if path.startswith("/api/visits/")
        for method, operation in item.items()
    }

    assert {(path, method) for path, method in operations} == {
        ("/api/visits/", "get"),
        ("/api/visits/{id}/", "get"),
        ("/api/visits/check-in/", "post"),
        ("/api/visits/{id}/check-out/", "post"),
        ("/api/visits/{id}/photos/", "post"),
        ("/api/visits/team-day/", "get"),
        ("/api/visits/customer-location/", "post"),
        ("/api/visits/{id}/companions/", "post"),
        ("/api/visits/{id}/companions/{user_id}/", "delete"),
        ("/api/visits/{id}/coaching-note/", "post"),
    }
    untyped = []
    for (path, method), operation in operations.items():
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                for media in response.get("content", {}).values():  # 204: no body
                    untyped += _untyped_objects(spec, media["schema"], f"{method} {path} {status}", set())
        for media in operation.get("requestBody", {}).get("content", {}).values():
            untyped += _untyped_objects(spec, media["schema"], f"{method} {path} body", set())
    assert untyped == []
    for path in ("/api/visits/check-in/", "/api/activities/"):
        post = spec["paths"][path]["post"]
        assert {"201", "200"} <= set(post["responses"])
        assert [
            (p["name"], p["in"], p["schema"]["format"]) for p in post["parameters"] if p["in"] == "header"
        ] == [("Idempotency-Key", "header", "uuid")]
    photo_body = spec["paths"]["/api/visits/{id}/photos/"]["post"]["requestBody"]["content"]
    assert list(photo_body) == ["multipart/form-data"]

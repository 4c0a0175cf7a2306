"""Field visits (外勤签到): the services (check in with and without a location, the distance
flag, the customer's location, plan items, resends, check-out, photos) and their pages
(check-in, the visit, photos, the customer's location panel and action bar, my day and
the daily report's figures)."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from activities import selectors, services, visits
from activities.models import (
    Activity,
    ActivityKind,
    ActivitySettings,
    CustomerLocation,
    LocationSource,
    LocationStatus,
    PlanItemKind,
    Purpose,
    Visit,
    VisitPhoto,
)
from activities.tests.factories import photo_upload
from activities.visits import Fix, distance_m
from crm.models import KeyPersonRole
from crm.tests.factories import ContactFactory, CustomerFactory, OrderFactory

# The customer's door, and positions measured from it (1° of latitude ≈ 111,195 m).
DOOR = (Decimal("31.230000"), Decimal("121.470000"))
NEAR = Fix(Decimal("31.231000"), Decimal("121.470000"), 15)  # 111 m north
FAR = Fix(Decimal("31.247986"), Decimal("121.470000"), 20)  # 2,000 m north


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def customer(personas):
    return CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics", address="88 Harbour Rd")


def _locate(customer, by):
    return CustomerLocation.objects.create(
        customer=customer, latitude=DOOR[0], longitude=DOOR[1], source=LocationSource.MANUAL, set_by=by
    )


def _plan_visit(person, customer, purpose=Purpose.COLLECTION):
    plan = services.open_plan(by=person, day=timezone.localdate())
    return services.add_plan_item(
        plan=plan, by=person, customer=customer, purpose=purpose, kind=PlanItemKind.VISIT
    )


def _stored_files(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()]


# --- Services -------------------------------------------------------------------------------


def test_check_in_with_a_location_measures_the_distance_and_logs_the_visit(personas, customer):
    _locate(customer, personas.salesperson)

    visit, created = visits.check_in(
        by=personas.salesperson, customer=customer, fix=NEAR, purpose=Purpose.SERVICE
    )

    assert created
    assert (visit.check_in_status, visit.check_in_latitude, visit.check_in_accuracy_m) == (
        LocationStatus.FIXED,
        NEAR.latitude,
        15,
    )
    assert visit.distance_m == 111 and not visit.far_from_customer
    assert (visit.activity.kind, visit.activity.purpose, visit.activity.owner) == (
        ActivityKind.VISIT,
        Purpose.SERVICE,
        personas.salesperson,
    )


@pytest.mark.parametrize(
    "status, saved",
    [
        ("", LocationStatus.UNAVAILABLE),
        ("denied", LocationStatus.DENIED),
        ("timeout", LocationStatus.TIMEOUT),
        ("fixed", LocationStatus.UNAVAILABLE),
    ],
)
def test_check_in_without_a_location_is_saved_as_no_location(personas, customer, status, saved):
    _locate(customer, personas.salesperson)

    visit, created = visits.check_in(by=personas.salesperson, customer=customer, fix=None, status=status)

    assert created and visit.check_in_status == saved
    assert visit.check_in_latitude is None and visit.distance_m is None and not visit.far_from_customer


def test_a_check_in_two_km_away_is_flagged_with_its_exact_distance(personas, customer):
    _locate(customer, personas.salesperson)

    visit, _created = visits.check_in(by=personas.salesperson, customer=customer, fix=FAR)

    assert visit.distance_m == distance_m(*DOOR, FAR.latitude, FAR.longitude) == 2000
    assert visit.far_from_customer


def test_the_flag_distance_is_configurable(personas, customer):
    _locate(customer, personas.salesperson)
    row = ActivitySettings.load()
    row.check_in_flag_distance_m = 100
    row.save()

    visit, _created = visits.check_in(by=personas.salesperson, customer=customer, fix=NEAR)

    assert visit.far_from_customer


def test_the_first_confirmed_check_in_sets_the_customers_location(personas, customer):
    # given: a check-in that does not confirm it, and one too imprecise
    first, _ = visits.check_in(by=personas.salesperson, customer=customer, fix=NEAR)
    vague, _ = visits.check_in(
        by=personas.salesperson,
        customer=customer,
        set_location=True,
        fix=Fix(NEAR.latitude, NEAR.longitude, 5000),
    )
    assert not CustomerLocation.objects.exists()
    assert (first.distance_m, vague.set_customer_location) == (None, False)

    # when
    confirmed, _ = visits.check_in(by=personas.salesperson, customer=customer, fix=NEAR, set_location=True)
    later, _ = visits.check_in(by=personas.salesperson, customer=customer, fix=FAR, set_location=True)

    # then
    location = CustomerLocation.objects.get(customer=customer)
    assert (location.latitude, location.longitude, location.source, location.set_by) == (
        NEAR.latitude,
        NEAR.longitude,
        LocationSource.CHECK_IN,
        personas.salesperson,
    )
    assert (confirmed.set_customer_location, confirmed.distance_m) == (True, 0)
    assert (later.set_customer_location, later.distance_m, later.far_from_customer) == (False, 1889, True)


def test_a_check_in_fulfils_the_planned_visit(personas, customer):
    item = _plan_visit(personas.salesperson, customer)

    visit, _created = visits.check_in(by=personas.salesperson, customer=customer, fix=None)

    item.refresh_from_db()
    assert visit.plan_item == item
    assert item.done and item.activity == visit.activity
    assert visit.activity.purpose == Purpose.COLLECTION  # the plan item's purpose


def test_someone_elses_plan_item_is_refused_on_its_field(personas, customer):
    item = _plan_visit(personas.salesperson, customer)

    with pytest.raises(ValidationError) as refused:
        visits.check_in(by=personas.manager, customer=customer, fix=None, plan_item=item)

    assert "plan_item" in refused.value.error_dict
    assert not Visit.objects.exists()


def test_a_resend_with_the_same_client_key_returns_the_first_check_in(personas, customer):
    key = uuid.uuid4()

    first, created = visits.check_in(by=personas.salesperson, customer=customer, fix=NEAR, client_key=key)
    again, created_again = visits.check_in(
        by=personas.salesperson, customer=customer, fix=FAR, client_key=key
    )

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and again.check_in_latitude == NEAR.latitude
    assert Visit.objects.count() == Activity.objects.count() == 1


def test_check_out_stores_the_duration_once(personas, customer):
    _locate(customer, personas.salesperson)
    arrived = timezone.now() - timedelta(minutes=33)
    visit, _ = visits.check_in(by=personas.salesperson, customer=customer, fix=NEAR, now=arrived)

    with pytest.raises(PermissionDenied):
        visits.check_out(by=personas.manager, visit=visit, fix=None)
    out = visits.check_out(
        by=personas.salesperson,
        visit=visit,
        fix=FAR,
        outcome="Trial order agreed.",
        now=arrived + timedelta(minutes=32, seconds=30),  # a started minute counts
    )
    again = visits.check_out(
        by=personas.salesperson, visit=visit, fix=None, now=timezone.now() + timedelta(hours=2)
    )

    assert out.duration_minutes == again.duration_minutes == 33
    assert (out.check_out_status, out.check_out_distance_m) == (LocationStatus.FIXED, 2000)
    activity = Activity.objects.get(pk=visit.activity_id)
    assert (activity.duration_minutes, activity.outcome) == (33, "Trial order agreed.")


def test_a_photo_is_shrunk_and_stored(personas, customer, media_root, settings):
    settings.VISIT_PHOTO_MAX_SIDE = 100
    visit, _ = visits.check_in(by=personas.salesperson, customer=customer, fix=None)

    photo = visits.attach_photo(
        by=personas.salesperson, visit=visit, upload=photo_upload(size=(400, 300), image_format="PNG")
    )

    assert (photo.width, photo.height) == (100, 75)
    assert photo.image.name.endswith(".jpg") and photo.size_bytes == photo.image.size
    assert len(_stored_files(media_root)) == 1


@pytest.mark.parametrize(
    "upload, message",
    [
        (
            SimpleUploadedFile("shelf.jpg", b"%PDF-1.4 not a photo at all" * 100, "image/jpeg"),
            "not a photo we can read",
        ),
        (
            photo_upload(name="bomb.png", size=(12_000, 12_000), image_format="PNG", mode="1"),
            "144 megapixels",
        ),
    ],
)
def test_a_photo_that_is_not_a_usable_image_is_refused_and_nothing_stored(
    personas, customer, media_root, upload, message
):
    visit, _ = visits.check_in(by=personas.salesperson, customer=customer, fix=None)
    upload.seek(0)

    with pytest.raises(ValidationError) as refused:
        visits.attach_photo(by=personas.salesperson, visit=visit, upload=upload)

    assert message in " ".join(refused.value.message_dict["photo"])
    assert not VisitPhoto.objects.exists() and not _stored_files(media_root)


# --- Pages ------------------------------------------------------------------------------------


def test_the_check_in_page_offers_todays_plan_and_the_fields_the_offline_queue_posts(
    client_as, personas, customer
):
    item = _plan_visit(personas.salesperson, customer, purpose=Purpose.ORDER)
    client = client_as("salesperson")

    page = client.get(reverse("activities:visit-check-in", args=[customer.pk]), {"plan_item": item.pk})

    form = page.context["form"]
    assert (form["plan_item"].value(), form["purpose"].value()) == (item.pk, Purpose.ORDER)
    html = page.content.decode()
    assert "data-offline-queue" in html and 'data-offline-api="/api/visits/check-in/"' in html
    for name in (
        "customer",
        "latitude",
        "longitude",
        "accuracy",
        "location_status",
        "purpose",
        "plan_item",
        "set_location",
        "client_key",
    ):
        assert f'name="{name}"' in html
    assert form["client_key"].value()  # a resent form is the same check-in


def test_the_purpose_follows_the_customer_and_the_location_box_shows_only_when_unknown(
    client_as, personas, customer
):
    client = client_as("salesperson")
    url = reverse("activities:visit-check-in", args=[customer.pk])

    new = client.get(url)
    OrderFactory(customer=customer, by=personas.salesperson)
    _locate(customer, personas.salesperson)
    served = client.get(url)

    assert new.context["form"]["purpose"].value() == Purpose.NEW_DEVELOPMENT
    assert 'name="set_location"' in new.content.decode()
    assert served.context["form"]["purpose"].value() == Purpose.SERVICE
    assert 'name="set_location"' not in served.content.decode()


def test_checking_in_without_javascript_saves_no_location_and_opens_the_visit(client_as, personas, customer):
    client = client_as("salesperson")

    response = client.post(
        reverse("activities:visit-check-in", args=[customer.pk]),
        {"customer": customer.pk, "purpose": Purpose.SERVICE, "plan_item": ""},
        follow=True,
    )

    visit = Visit.objects.get()
    assert response.redirect_chain[-1][0] == reverse("activities:visit-detail", args=[visit.pk])
    assert visit.check_in_status == LocationStatus.UNAVAILABLE
    assert "Checked in at Harbor Point Logistics at" in response.content.decode()
    assert "— no location" in response.content.decode()


def test_checking_in_with_a_location_says_how_far_from_the_customer(client_as, personas, customer):
    _locate(customer, personas.salesperson)
    client = client_as("salesperson")
    key = uuid.uuid4()
    data = {
        "customer": customer.pk,
        "purpose": Purpose.SERVICE,
        "latitude": "31.247986",
        "longitude": "121.470000",
        "accuracy": "20",
        "location_status": "fixed",
        "client_key": str(key),
    }

    first = client.post(reverse("activities:visit-check-in", args=[customer.pk]), data, follow=True)
    resent = client.post(reverse("activities:visit-check-in", args=[customer.pk]), data, follow=True)

    assert "2000 m from the customer: far from its known location." in first.content.decode()
    assert 'data-testid="far-flag"' in first.content.decode()
    assert "This check-in was already saved." in resent.content.decode()
    assert Visit.objects.count() == 1


@pytest.mark.parametrize(
    "data, field_error",
    [
        ({"latitude": "north", "longitude": "121.47", "location_status": "fixed"}, "not a valid position"),
        ({"latitude": "95", "longitude": "121.47", "location_status": "fixed"}, "not a valid position"),
        ({"purpose": "sightseeing"}, "Select a valid choice"),
        ({"plan_item": "999999"}, "Select a valid choice"),
        ({"client_key": "not-a-uuid"}, "valid UUID"),
    ],
)
def test_bad_check_in_input_is_answered_on_the_form_and_nothing_saved(
    client_as, personas, customer, data, field_error
):
    client = client_as("salesperson")

    response = client.post(
        reverse("activities:visit-check-in", args=[customer.pk]),
        {"customer": customer.pk, "purpose": Purpose.SERVICE, **data},
    )

    assert response.status_code == 400
    assert field_error in response.content.decode()
    assert not Visit.objects.exists()


def test_a_check_in_page_for_an_invisible_customer_is_404(client_as, personas, customer):
    other = client_as("other_salesperson")
    url = reverse("activities:visit-check-in", args=[customer.pk])

    assert other.get(url).status_code == 404
    assert other.post(url, {"customer": customer.pk, "purpose": Purpose.SERVICE}).status_code == 404
    assert not Visit.objects.exists()


def test_the_visitor_checks_out_on_the_visit_page(client_as, personas, customer):
    visit, _ = visits.check_in(
        by=personas.salesperson,
        customer=customer,
        fix=None,
        now=timezone.now() - timedelta(minutes=44, seconds=58),
    )
    url = reverse("activities:visit-check-out", args=[visit.pk])

    assert client_as("manager").post(url, {"location_status": "denied"}).status_code == 403
    assert client_as("other_salesperson").post(url, {"location_status": "denied"}).status_code == 404
    page = client_as("salesperson").post(
        url, {"location_status": "denied", "outcome": "Samples left."}, follow=True
    )

    visit.refresh_from_db()
    assert (visit.check_out_status, visit.duration_minutes) == (LocationStatus.DENIED, 45)
    html = page.content.decode()
    assert "a visit of 45 minutes" in html and 'data-testid="check-out-form"' not in html
    assert "45 minutes" in page.content.decode()


def test_the_visit_page_shows_the_check_out_and_photo_forms_to_the_visitor_only(
    client_as, personas, customer
):
    visit, _ = visits.check_in(by=personas.salesperson, customer=customer, fix=None)
    url = reverse("activities:visit-detail", args=[visit.pk])

    mine = client_as("salesperson").get(url).content.decode()
    managers = client_as("manager").get(url).content.decode()

    assert 'data-testid="check-out-form"' in mine and 'capture="environment"' in mine
    assert 'accept="image/*"' in mine
    assert 'data-testid="check-out-form"' not in managers and 'data-testid="photo-form"' not in managers


def test_a_photo_added_on_the_page_is_served_to_those_who_see_the_customer(client_as, personas, customer):
    visit, _ = visits.check_in(by=personas.salesperson, customer=customer, fix=None)

    added = client_as("salesperson").post(
        reverse("activities:visit-photo-add", args=[visit.pk]), {"photo": photo_upload()}
    )

    photo = VisitPhoto.objects.get()
    assert added.status_code == 302
    url = reverse("activities:visit-photo", args=[photo.pk])
    for role in ("salesperson", "manager", "admin"):
        response = client_as(role).get(url)
        assert response.status_code == 200, role
        assert response["Content-Type"] == "image/jpeg"
        assert response["Cache-Control"].startswith("private")
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
        # The browser's image document styles the photo inline; scripts stay 'self' only.
        policy = response["Content-Security-Policy"]
        assert "style-src 'unsafe-inline'" in policy and "script-src 'self';" in policy
    for role in ("other_salesperson", "teammate", "other_manager"):
        assert client_as(role).get(url).status_code == 404, role


@pytest.mark.parametrize(
    "upload, status, message",
    [
        (
            SimpleUploadedFile("receipt.jpg", b"this is a text file renamed .jpg\n" * 50, "image/jpeg"),
            400,
            "This file is not a photo we can read",
        ),
        (
            photo_upload(name="huge.png", size=(12_000, 12_000), image_format="PNG", mode="1"),
            400,
            "This photo has 144 megapixels; the most we take is 50.",
        ),
        (
            SimpleUploadedFile("video.jpg", b"\0" * (30 * 1024 * 1024), "image/jpeg"),
            413,
            "This file is 30.0 MB; a photo may be at most 10 MB.",
        ),
    ],
)
def test_an_unusable_upload_is_refused_on_the_field_and_nothing_stored(
    client_as, personas, customer, media_root, upload, status, message
):
    visit, _ = visits.check_in(by=personas.salesperson, customer=customer, fix=None)
    upload.seek(0)

    response = client_as("salesperson").post(
        reverse("activities:visit-photo-add", args=[visit.pk]), {"photo": upload}
    )

    assert response.status_code == status
    errors = response.context["photo_form"].errors["photo"]
    assert message in " ".join(errors)
    assert 'data-testid="photo-error"' in response.content.decode()
    assert not VisitPhoto.objects.exists() and not _stored_files(media_root)


def test_a_too_big_upload_is_refused_before_its_body_is_read(client_as, personas, customer, monkeypatch):
    visit, _ = visits.check_in(by=personas.salesperson, customer=customer, fix=None)

    def fail(*args, **kwargs):  # pragma: no cover - reached only if the body were parsed
        raise AssertionError("the upload was parsed")

    monkeypatch.setattr("django.http.multipartparser.MultiPartParser.parse", fail)
    response = client_as("salesperson").post(
        reverse("activities:visit-photo-add", args=[visit.pk]),
        {"photo": SimpleUploadedFile("big.jpg", b"\0" * (11 * 1024 * 1024 + 70_000), "image/jpeg")},
    )

    assert response.status_code == 413


def test_the_owner_or_a_manager_corrects_the_location_with_the_error_on_the_field(
    client_as, personas, customer
):
    url = reverse("activities:customer-location", args=[customer.pk])

    bad = client_as("salesperson").post(url, {"latitude": "131.2", "longitude": "121.47"})
    assert bad.status_code == 400
    assert bad.context["form"].errors["latitude"] == ["Enter a latitude between -90 and 90, e.g. 31.230416."]
    assert not CustomerLocation.objects.exists()

    assert (
        client_as("salesperson").post(url, {"latitude": "31,230416", "longitude": "121.473701"}).status_code
        == 302
    )
    assert client_as("manager").post(url, {"latitude": "31.24", "longitude": "121.48"}).status_code == 302
    assert client_as("other_salesperson").post(url, {"latitude": "1", "longitude": "2"}).status_code == 404

    location = CustomerLocation.objects.get(customer=customer)
    assert (location.latitude, location.longitude, location.source, location.set_by) == (
        Decimal("31.240000"),
        Decimal("121.480000"),
        LocationSource.MANUAL,
        personas.manager,
    )


def test_the_customer_page_shows_the_location_check_ins_and_the_action_bar(client_as, personas, customer):
    ContactFactory(customer=customer, name="Wang Li", role=KeyPersonRole.INFLUENCER, phone="021 5555 0101")
    ContactFactory(
        customer=customer, name="Zhou Bo", role=KeyPersonRole.DECISION_MAKER, phone="+86 138-0000-0000"
    )
    client = client_as("salesperson")
    url = reverse("crm:customer-detail", args=[customer.pk])

    before = client.get(url).content.decode()
    assert 'href="tel:+8613800000000"' in before
    assert 'href="geo:0,0?q=88%20Harbour%20Rd"' in before
    assert 'data-testid="action-check-in"' in before
    assert "Location not known yet" in before

    _locate(customer, personas.salesperson)
    visit, _ = visits.check_in(by=personas.salesperson, customer=customer, fix=FAR)
    after = client.get(url).content.decode()
    assert 'href="geo:31.230000,121.470000"' in after
    assert 'data-testid="action-check-out"' in after
    assert reverse("activities:visit-detail", args=[visit.pk]) in after
    assert "2000 m" in after and "far from the customer" in after
    # Someone else's open visit is not the viewer's to check out.
    assert 'data-testid="action-check-in"' in client_as("manager").get(url).content.decode()


def test_an_archived_customer_has_no_check_in_or_log_call(client_as, personas, customer):
    from crm import services as crm_services

    crm_services.archive_customer(customer=customer, by=personas.salesperson, reason="Closed")

    html = client_as("salesperson").get(reverse("crm:customer-detail", args=[customer.pk])).content.decode()

    assert 'data-testid="action-check-in"' not in html and 'data-testid="action-log-call"' not in html
    assert (
        client_as("salesperson").get(reverse("activities:visit-check-in", args=[customer.pk])).status_code
        == 404
    )


def test_my_day_offers_check_in_on_a_planned_visit_then_shows_when(client_as, personas, customer):
    item = _plan_visit(personas.salesperson, customer)
    client = client_as("salesperson")

    before = client.get(reverse("home")).content.decode()
    visit, _ = visits.check_in(by=personas.salesperson, customer=customer, fix=None)
    after = client.get(reverse("home")).content.decode()

    check_in = f"{reverse('activities:visit-check-in', args=[customer.pk])}?plan_item={item.pk}"
    assert check_in in before
    checked = timezone.localtime(visit.checked_in_at).strftime("%H:%M")
    assert f"Checked in {checked}" in after and check_in not in after
    assert reverse("activities:visit-detail", args=[visit.pk]) in after


def test_the_daily_report_counts_planned_visits_and_check_ins(client_as, personas, customer):
    other = CustomerFactory(owner=personas.salesperson)
    item = _plan_visit(personas.salesperson, customer)
    services.add_plan_item(
        plan=item.plan,
        by=personas.salesperson,
        customer=other,
        purpose=Purpose.SERVICE,
        kind=PlanItemKind.VISIT,
    )
    services.add_plan_item(
        plan=item.plan,
        by=personas.salesperson,
        customer=other,
        purpose=Purpose.SERVICE,
        kind=PlanItemKind.CALL,
    )
    visits.check_in(by=personas.salesperson, customer=customer, fix=None)
    visits.check_in(by=personas.salesperson, customer=customer, fix=None)  # back in the afternoon
    today = timezone.localdate()

    figures = selectors.day_figures(personas.salesperson, today)
    report = services.open_report(by=personas.salesperson, day=today)
    page = client_as("salesperson").get(reverse("activities:report-detail", args=[report.pk]))

    assert (figures["planned_visits"], figures["planned_visits_checked_in"], figures["check_ins"]) == (
        2,
        1,
        2,
    )
    assert (report.planned_visits, report.planned_visits_checked_in, report.check_ins) == (2, 1, 2)
    assert "2 planned, 1 checked in; 2 check-ins" in page.content.decode()


def test_the_customer_and_visit_pages_keep_their_number_of_queries(
    client_as, personas, customer, django_assert_max_num_queries
):
    client = client_as("salesperson")
    _locate(customer, personas.salesperson)
    first, _ = visits.check_in(by=personas.salesperson, customer=customer, fix=NEAR)
    visits.attach_photo(by=personas.salesperson, visit=first, upload=photo_upload())
    customer_page = reverse("crm:customer-detail", args=[customer.pk])
    visit_page = reverse("activities:visit-detail", args=[first.pk])
    with django_assert_max_num_queries(50) as small_customer:
        client.get(customer_page)
    with django_assert_max_num_queries(50) as small_visit:
        client.get(visit_page)

    for _ in range(8):
        visits.check_in(by=personas.manager, customer=customer, fix=FAR)
        visits.attach_photo(by=personas.salesperson, visit=first, upload=photo_upload())

    # The location panel and the action bar share one query of the last check-ins; the visit
    # page reads the visit (customer, visitor, plan item joined) and its photos in two.
    with django_assert_max_num_queries(len(small_customer.captured_queries)):
        assert "far from the customer" in client.get(customer_page).content.decode()
    with django_assert_max_num_queries(len(small_visit.captured_queries)):
        assert client.get(visit_page).content.decode().count('class="visit-photo') == 9


# --- A check-in made offline ------------------------------------------------------------------


def test_a_check_in_sent_later_keeps_the_phones_time_and_the_servers(personas, customer):
    # given: a check-in the phone queued offline 40 minutes ago
    received = timezone.now()
    made = received - timedelta(minutes=40)

    # when: it reaches the server
    visit, created = visits.check_in(
        by=personas.salesperson,
        customer=customer,
        fix=None,
        status="unavailable",
        recorded_at=made,
        now=received,
    )

    # then: the visit happened when the phone says, and was received when the server says
    assert created
    assert (visit.checked_in_at, visit.synced_at) == (made, received)
    assert visit.activity.started_at == made


def test_a_check_in_sent_at_once_has_only_the_servers_time(personas, customer):
    received = timezone.now()
    visit, _created = visits.check_in(
        by=personas.salesperson,
        customer=customer,
        fix=None,
        recorded_at=received - timedelta(seconds=20),
        now=received,
    )
    assert (visit.checked_in_at, visit.synced_at) == (received, None)


@pytest.mark.parametrize(
    ("offset", "field_error"),
    [(timedelta(hours=1), "in the future"), (-timedelta(days=4), "more than 3 days ago")],
)
def test_a_phone_time_in_the_future_or_days_old_is_refused(personas, customer, offset, field_error):
    with pytest.raises(ValidationError) as refused:
        visits.check_in(
            by=personas.salesperson, customer=customer, fix=None, recorded_at=timezone.now() + offset
        )
    assert field_error in refused.value.message_dict["recorded_at"][0]
    assert not Visit.objects.exists()

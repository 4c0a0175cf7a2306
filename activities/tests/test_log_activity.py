"""Logging an activity: the customer's contact dates, the rules of a call, visibility,
and the "my day" row that updates in place (htmx) or redirects (plain POST)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity, ActivityKind, CallStage, Purpose
from crm.models import KeyPersonRole
from crm.services import archive_customer
from crm.tests.factories import ContactFactory, CustomerFactory

from .factories import log_call, log_visit, objection

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def customer(personas):
    return CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics")


def _call_data(**overrides):
    tomorrow = timezone.localdate() + timedelta(days=1)
    data = {
        "kind": "call",
        "purpose": "new_development",
        "outcome": "Spoke to the buyer",
        "call_stage": "2",
        "next_follow_up_on": tomorrow.isoformat(),
        "effective": "on",
    }
    data.update(overrides)
    return data


# --- The service -------------------------------------------------------------------------


def test_a_call_moves_the_customers_last_activity_last_call_and_next_follow_up(customer, personas):
    started = timezone.now() - timedelta(minutes=5)
    follow_up = timezone.localdate() + timedelta(days=3)

    activity = services.log_activity(
        by=personas.salesperson,
        customer=customer,
        kind=ActivityKind.CALL,
        purpose=Purpose.NEW_DEVELOPMENT,
        started_at=started,
        next_follow_up_on=follow_up,
    )

    customer.refresh_from_db()
    assert (customer.last_activity_at, customer.last_call_at, customer.next_follow_up_on) == (
        started,
        started,
        follow_up,
    )
    assert customer.last_visit_at is None
    assert activity.owner == personas.salesperson
    assert activity.call_stage == CallStage.CONNECTED  # the default stage of a call


def test_a_visit_moves_the_last_visit(customer):
    activity = log_visit(customer)

    customer.refresh_from_db()
    assert customer.last_visit_at == activity.started_at
    assert customer.last_call_at is None


def test_an_activity_logged_late_never_moves_the_dates_backwards(customer):
    recent = log_call(customer)
    log_call(
        customer,
        started_at=timezone.now() - timedelta(days=10),
        next_follow_up_on=timezone.localdate() - timedelta(days=5),
    )

    customer.refresh_from_db()
    assert customer.last_call_at == recent.started_at
    assert customer.next_follow_up_on == recent.next_follow_up_on


def test_a_call_needs_the_next_follow_up_agreed(customer, personas):
    with pytest.raises(ValidationError) as error:
        services.log_activity(
            by=personas.salesperson, customer=customer, kind=ActivityKind.CALL, purpose=Purpose.SERVICE
        )

    assert "next_follow_up_on" in error.value.message_dict
    assert not Activity.objects.exists()


def test_only_calls_have_a_call_stage(customer, personas):
    with pytest.raises(ValidationError) as error:
        services.log_activity(
            by=personas.salesperson,
            customer=customer,
            kind=ActivityKind.VISIT,
            purpose=Purpose.SERVICE,
            call_stage=CallStage.DIALLED,
        )

    assert "call_stage" in error.value.message_dict


def test_the_call_funnel_stages_are_recorded(customer):
    for stage in CallStage:
        log_call(customer, call_stage=stage)

    counts = {stage: Activity.objects.filter(call_stage__gte=stage).count() for stage in CallStage}
    assert counts == {
        CallStage.DIALLED: 4,
        CallStage.CONNECTED: 3,
        CallStage.APPOINTMENT: 2,
        CallStage.PRESENTATION: 1,
    }


@pytest.mark.parametrize(
    "role, effective",
    [
        (KeyPersonRole.DECISION_MAKER, True),
        (KeyPersonRole.RECOMMENDER, True),
        (KeyPersonRole.INFLUENCER, False),
        (KeyPersonRole.USER, False),
    ],
)
def test_effective_defaults_to_whether_the_contact_is_a_key_person(customer, role, effective):
    contact = ContactFactory(customer=customer, role=role)

    assert log_visit(customer, contact=contact).effective is effective


def test_a_contact_of_another_customer_is_refused(customer, personas):
    other = ContactFactory(customer=CustomerFactory(owner=personas.salesperson))

    with pytest.raises(ValidationError) as error:
        log_visit(customer, contact=other)

    assert "contact" in error.value.message_dict


def test_the_next_follow_up_cannot_be_before_the_activity(customer):
    with pytest.raises(ValidationError):
        log_call(customer, next_follow_up_on=timezone.localdate() - timedelta(days=1))


def test_an_activity_cannot_be_logged_in_the_future(customer):
    with pytest.raises(ValidationError) as error:
        log_visit(customer, started_at=timezone.now() + timedelta(hours=2))

    assert "started_at" in error.value.message_dict


def test_an_archived_customer_takes_no_activity(customer, personas):
    archive_customer(customer=customer, by=personas.salesperson)

    with pytest.raises(ValidationError):
        log_visit(customer)


@pytest.mark.parametrize("role", ["teammate", "other_salesperson", "other_manager"])
def test_a_customer_the_user_cannot_see_takes_no_activity(customer, personas, role):
    with pytest.raises(ValidationError):
        log_visit(customer, by=personas.user(role))

    assert not Activity.objects.exists()
    customer.refresh_from_db()
    assert customer.last_activity_at is None


def test_the_manager_may_log_on_a_team_customer_and_is_credited(customer, personas):
    activity = log_visit(customer, by=personas.manager)

    assert activity.owner == personas.manager


def test_logging_ticks_the_days_plan_items_for_that_customer(customer, personas):
    plan = services.open_plan(by=personas.salesperson, day=timezone.localdate())
    item = services.add_plan_item(
        plan=plan, by=personas.salesperson, customer=customer, purpose=Purpose.SERVICE
    )
    other = services.add_plan_item(
        plan=plan,
        by=personas.salesperson,
        purpose=Purpose.SERVICE,
        customer=CustomerFactory(owner=personas.salesperson),
    )

    activity = log_visit(customer)

    item.refresh_from_db()
    other.refresh_from_db()
    assert (item.done, item.activity) == (True, activity)
    assert other.done is False


# --- The pages ------------------------------------------------------------------------------


def test_the_short_form_comes_as_a_fragment_with_the_objection_answers(client_as, customer):
    ContactFactory(customer=customer, role=KeyPersonRole.DECISION_MAKER, name="Ms Lin")
    url = reverse("activities:log-activity", args=[customer.pk])

    response = client_as("salesperson").get(url, {"kind": "call", "row": "follow-7"}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'hx-target="#follow-7"' in html
    assert f'data-answer="{objection(1).answer[:30]}' in html
    assert "data-key-person" in html
    assert 'data-effective=""' in html and "checked" in html  # pre-ticked: a decision maker is picked
    assert "data-quick-date" in html


def test_htmx_logging_answers_the_updated_row(client_as, customer):
    url = reverse("activities:log-activity", args=[customer.pk])

    response = client_as("salesperson").post(url, {**_call_data(), "row": "follow-7"}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="follow-7"' in html and "data-logged" in html
    customer.refresh_from_db()
    assert customer.next_follow_up_on == timezone.localdate() + timedelta(days=1)
    assert customer.next_follow_up_on.isoformat() in html


def test_htmx_errors_come_back_in_the_form_with_what_was_typed(client_as, customer):
    url = reverse("activities:log-activity", args=[customer.pk])

    response = client_as("salesperson").post(
        url,
        {**_call_data(next_follow_up_on=""), "outcome": "Asked for a brochure", "row": "follow-7"},
        **HTMX,
    )

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#slot-follow-7"
    html = response.content.decode()
    assert "every call needs a next follow-up date" in html
    assert "Asked for a brochure" in html
    assert not Activity.objects.exists()


def test_a_bad_row_id_is_not_echoed(client_as, customer):
    url = reverse("activities:log-activity", args=[customer.pk])

    response = client_as("salesperson").get(url, {"row": '"><script>x</script>'}, **HTMX)

    assert "<script>x" not in response.content.decode()
    assert f'hx-target="#customer-{customer.pk}"' in response.content.decode()


def test_without_javascript_logging_redirects_to_next(client_as, customer):
    url = reverse("activities:log-activity", args=[customer.pk])

    response = client_as("salesperson").post(url, {**_call_data(), "next": "/"})

    assert response.status_code == 302
    assert response.url == "/"
    assert Activity.objects.get().customer == customer


def test_without_javascript_an_offsite_next_is_ignored(client_as, customer):
    url = reverse("activities:log-activity", args=[customer.pk])

    response = client_as("salesperson").post(url, {**_call_data(), "next": "https://evil.example/"})

    assert response.url == reverse("crm:customer-detail", args=[customer.pk])


def test_without_javascript_errors_show_the_full_form_again(client_as, customer):
    url = reverse("activities:log-activity", args=[customer.pk])

    response = client_as("salesperson").post(url, _call_data(next_follow_up_on="", outcome="Typed text"))

    assert response.status_code == 400
    assert "Typed text" in response.content.decode()
    assert "<html" in response.content.decode()


@pytest.mark.parametrize("role", ["teammate", "other_salesperson", "other_manager"])
def test_logging_on_an_invisible_customer_is_not_found(client_as, customer, role):
    url = reverse("activities:log-activity", args=[customer.pk])

    response = client_as(role).post(url, _call_data())

    assert response.status_code == 404
    assert not Activity.objects.exists()


def test_the_customer_page_shows_the_panel_and_the_activity_on_the_timeline(client_as, customer):
    log_call(customer, outcome="Agreed a demo", objection=objection(6))

    response = client_as("salesperson").get(reverse("crm:customer-detail", args=[customer.pk]))

    html = response.content.decode()
    assert 'data-testid="activities-panel"' in html
    assert "Agreed a demo" in html
    assert objection(6).name in html

"""Accompanied visits (陪同拜访) and coaching: who may go along, who writes and who reads
a coaching note, the companion's "my day" and the team's day, the weekly count per
companion, the API, and query counts that do not grow with the visits."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from activities import selectors, visits
from activities.models import LocationStatus, Visit, VisitCompanion, VisitPhoto
from crm.models import Notification, User
from crm.tests.factories import CustomerFactory, bulk_customers
from crm.tests.query_counts import same_queries_for_10_and_1000, signed_in
from funnel.tests.factories import grade
from reports import selectors as report_selectors
from reports.periods import week_bounds

from .factories import at

DAY = date(2026, 3, 10)  # a Tuesday


@pytest.fixture(autouse=True)
def evening():
    with time_machine.travel(at(DAY, 18), tick=False):
        yield


@pytest.fixture
def customer(personas):
    return CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics")


@pytest.fixture
def visit(personas, customer):
    made, _created = visits.check_in(
        by=personas.salesperson, customer=customer, fix=None, status="denied", now=at(DAY, 10)
    )
    return made


# --- Who may go along ---------------------------------------------------------------------------


def test_companions_are_the_team_tree_and_the_managers_over_it(personas):
    User.objects.filter(pk=personas.deactivated.pk).update(is_active=False)
    candidates = set(selectors.companion_candidates(personas.salesperson))

    assert candidates == {personas.teammate, personas.sub_salesperson, personas.manager}
    assert set(selectors.companion_candidates(personas.sub_salesperson)) == {personas.manager}


def test_the_visitor_adds_their_manager_and_a_mentor_once(personas, visit):
    visits.add_companion(by=personas.salesperson, visit=visit, user=personas.manager)
    visits.add_companion(by=personas.salesperson, visit=visit, user=personas.teammate)
    visits.add_companion(by=personas.salesperson, visit=visit, user=personas.teammate)  # a double click

    along = [c.user for c in visit.companions.order_by("user__username")]
    assert along == [personas.manager, personas.teammate]
    assert VisitCompanion.objects.get(visit=visit, user=personas.teammate).added_by == personas.salesperson


@pytest.mark.parametrize(
    "role", ["other_salesperson", "other_manager", "admin", "salesperson", "deactivated"]
)
def test_only_colleagues_of_the_team_tree_may_go_along(personas, visit, role):
    if role == "deactivated":
        User.objects.filter(pk=personas.deactivated.pk).update(is_active=False)

    with pytest.raises(ValidationError) as refused:
        visits.add_companion(by=personas.salesperson, visit=visit, user=personas.user(role))

    assert "companions" in refused.value.message_dict
    assert not visit.companions.exists()


@pytest.mark.parametrize(
    ("role", "allowed"), [("manager", True), ("admin", True), ("teammate", False), ("other_manager", False)]
)
def test_the_visitor_their_manager_or_an_admin_changes_who_went_along(personas, visit, role, allowed):
    add = lambda: visits.add_companion(by=personas.user(role), visit=visit, user=personas.teammate)  # noqa: E731

    if allowed:
        add()
        assert visit.companions.filter(user=personas.teammate).exists()
    else:
        with pytest.raises(PermissionDenied):
            add()


def test_a_check_in_with_a_companion_who_may_not_go_along_writes_nothing(personas, customer):
    with pytest.raises(ValidationError):
        visits.check_in(
            by=personas.salesperson, customer=customer, fix=None, companions=[personas.other_manager]
        )

    assert not Visit.objects.exists()
    visit, _created = visits.check_in(
        by=personas.salesperson, customer=customer, fix=None, companions=[personas.manager]
    )
    assert [c.user for c in visit.companions.all()] == [personas.manager]


# --- The coaching note --------------------------------------------------------------------------


def test_only_the_companion_writes_the_coaching_note_and_the_salesperson_is_told(personas, visit):
    visits.add_companion(by=personas.salesperson, visit=visit, user=personas.manager)

    note = visits.write_coaching_note(by=personas.manager, visit=visit, note=" Ask for the decision maker. ")
    visits.write_coaching_note(by=personas.manager, visit=visit, note="Ask for the decision maker.")

    assert note.coaching_note == "Ask for the decision maker." and note.noted_at is not None
    told = Notification.objects.filter(recipient=personas.salesperson, kind="coaching_note")
    assert told.count() == 1  # the same note again tells nobody twice
    for role in ("salesperson", "teammate", "admin"):
        with pytest.raises(PermissionDenied):
            visits.write_coaching_note(by=personas.user(role), visit=visit, note="Mine")


def test_the_salesperson_and_their_managers_read_the_note_another_companion_does_not(personas, visit):
    visits.add_companion(by=personas.salesperson, visit=visit, user=personas.manager)
    visits.add_companion(by=personas.salesperson, visit=visit, user=personas.teammate)
    visits.write_coaching_note(by=personas.manager, visit=visit, note="Lead with the case study.")

    for role, sees_note in (("salesperson", True), ("manager", True), ("admin", True), ("teammate", False)):
        page = signed_in_client(personas, role).get(reverse("activities:visit-detail", args=[visit.pk]))
        assert page.status_code == 200, role
        assert ("Lead with the case study." in page.content.decode()) is sees_note, role
    for role in ("other_salesperson", "sub_salesperson", "other_manager"):
        page = signed_in_client(personas, role).get(reverse("activities:visit-detail", args=[visit.pk]))
        assert page.status_code == 404, role


def signed_in_client(personas, role):
    from django.test import Client

    client = Client()
    client.force_login(personas.user(role))
    return client


def test_a_mentor_sees_the_visit_they_joined_not_the_customer(personas, visit, customer):
    visits.add_companion(by=personas.salesperson, visit=visit, user=personas.teammate)
    mentor = signed_in_client(personas, "teammate")

    page = mentor.get(reverse("activities:visit-detail", args=[visit.pk]))

    assert page.status_code == 200
    assert 'data-testid="coaching-note-form"' in page.content.decode()
    assert reverse("crm:customer-detail", args=[customer.pk]) not in page.content.decode()
    assert mentor.get(reverse("crm:customer-detail", args=[customer.pk])).status_code == 404
    assert list(Visit.objects.visible_to(personas.sub_salesperson)) == []


def test_the_coaching_note_page_saves_and_refuses_others(personas, visit):
    visits.add_companion(by=personas.salesperson, visit=visit, user=personas.manager)
    url = reverse("activities:visit-coaching-note", args=[visit.pk])

    saved = signed_in_client(personas, "manager").post(url, {"coaching_note": "Good opening."})
    refused = signed_in_client(personas, "salesperson").post(url, {"coaching_note": "Mine"})
    too_long = signed_in_client(personas, "manager").post(url, {"coaching_note": "x" * 4001})

    assert saved.status_code == 302
    assert refused.status_code == 403
    assert too_long.status_code == 400 and too_long.context["note_form"].errors["coaching_note"]
    assert VisitCompanion.objects.get(visit=visit).coaching_note == "Good opening."


def test_the_check_in_page_offers_the_colleagues_who_may_come_along(personas, customer):
    User.objects.filter(pk=personas.deactivated.pk).update(is_active=False)
    client = signed_in_client(personas, "salesperson")
    url = reverse("activities:visit-check-in", args=[customer.pk])

    page = client.get(url)
    form = page.context["form"]
    response = client.post(
        url, {"purpose": "service", "location_status": "denied", "companions": [personas.manager.pk]}
    )

    assert {pk for pk, _label in form.fields["companions"].choices} == {
        personas.manager.pk,
        personas.teammate.pk,
        personas.sub_salesperson.pk,
    }
    assert 'data-testid="companion-choices"' in page.content.decode()
    assert response.status_code == 302
    assert Visit.objects.get().companions.get().user == personas.manager


# --- My day and the team's day ------------------------------------------------------------------------


def test_the_companion_sees_the_visit_on_their_day(personas, visit):
    visits.add_companion(by=personas.salesperson, visit=visit, user=personas.teammate)

    mine = signed_in_client(personas, "teammate").get(reverse("home")).content.decode()
    theirs = signed_in_client(personas, "salesperson").get(reverse("home")).content.decode()

    assert 'data-testid="block-joined"' in mine and "Harbor Point Logistics" in mine
    assert "coaching note to write" in mine
    assert 'data-testid="block-joined"' not in theirs


def test_the_team_day_names_who_went_along(personas, visit):
    visits.add_companion(by=personas.salesperson, visit=visit, user=personas.teammate)

    manager = signed_in_client(personas, "manager")
    page = manager.get(reverse("activities:team-day"), {"date": DAY.isoformat()})
    api = manager.get(reverse("visit-team-day"), {"date": DAY.isoformat()})

    assert 'data-testid="companion"' in page.content.decode()
    assert api.json()["visits"][0]["companions"] == [
        {"user": personas.teammate.pk, "name": personas.teammate.display_name}
    ]


@pytest.fixture
def grow(personas):
    """``grow(total)``: ``total`` visits today by ``salesperson`` and as many by
    ``teammate``, each with ``manager`` and (every salesperson's) ``sub_salesperson``
    along and a photo; the companions' notes written."""
    state = {"count": 0}

    def grow_to(total):
        count, start = total - state["count"], state["count"]
        for owner in (personas.salesperson, personas.teammate):
            customers = bulk_customers(
                owner=owner, count=count, start=start, grade=grade("D"), prefix=f"Joined {owner.username}"
            )
            made = Visit.objects.bulk_create(
                [
                    Visit(
                        owner=owner,
                        customer=c,
                        checked_in_at=at(DAY, 8) + timedelta(seconds=start + n),
                        check_in_status=LocationStatus.DENIED,
                    )
                    for n, c in enumerate(customers)
                ]
            )
            VisitCompanion.objects.bulk_create(
                [
                    VisitCompanion(visit=v, user=person, coaching_note="Well done")
                    for v in made
                    for person in (personas.manager, personas.sub_salesperson)
                ]
            )
            VisitPhoto.objects.bulk_create(
                [VisitPhoto(visit=v, image=f"visits/{v.pk}.jpg", width=64, height=48) for v in made]
            )
        state["count"] = total

    return grow_to


def test_the_companions_day_keeps_its_queries(grow, client_as, django_assert_max_num_queries):
    client = signed_in(client_as, "sub_salesperson")

    def joined(response):
        return next(b for b in response.context["extra_blocks"] if b["key"] == "joined")["items"]

    grow(10)
    # My day's queries (see test_my_day.py) and one for the visits joined today.
    with django_assert_max_num_queries(25) as small:
        first = client.get(reverse("home"))
    grow(60)
    with django_assert_max_num_queries(len(small.captured_queries)):
        second = client.get(reverse("home"))

    assert len(joined(first)) == 20
    assert len(joined(second)) == selectors.MY_DAY_ROWS


def test_the_team_day_with_companions_keeps_its_queries(grow, client_as, django_assert_num_queries):
    client = signed_in(client_as, "manager")

    # 1 session, 2 user, 3 the team tree, 4 the people with their totals, 5 the check-ins,
    # 6 who went along, 7 the bell.
    responses = same_queries_for_10_and_1000(
        grow,
        django_assert_num_queries,
        7,
        lambda: client.get(reverse("activities:team-day"), {"date": DAY.isoformat()}),
    )

    assert len(responses[-1].context["team"].visits[0].companions.all()) == 2


def test_the_visit_list_api_with_companions_keeps_its_queries(
    grow, personas, client_as, django_assert_num_queries
):
    client = signed_in(client_as, "sub_salesperson")

    # 1 session, 2 user, 3 count, 4 the page of the visits joined, 5 photos, 6 companions.
    responses = same_queries_for_10_and_1000(
        grow, django_assert_num_queries, 6, lambda: client.get(reverse("visit-list"))
    )

    assert responses[0].json()["count"] == 20
    companions = responses[-1].json()["results"][0]["companions"]
    # A mentor reads their own note, never the manager's.
    notes = {c["user"]: c["coaching_note"] for c in companions}
    assert notes == {personas.manager.pk: None, personas.sub_salesperson.pk: "Well done"}


# --- The weekly report ------------------------------------------------------------------------------


def test_the_weekly_report_counts_accompanied_visits_per_manager(personas, customer, client_as):
    monday = DAY - timedelta(days=DAY.weekday())
    teammates_customer = CustomerFactory(owner=personas.teammate)
    west_customer = CustomerFactory(owner=personas.other_salesperson)
    for who, where, day, along in (
        (personas.salesperson, customer, DAY, [personas.manager, personas.teammate]),
        (personas.teammate, teammates_customer, DAY - timedelta(days=1), [personas.manager]),
        (personas.salesperson, customer, monday - timedelta(days=1), [personas.manager]),  # the week before
        (personas.other_salesperson, west_customer, DAY, [personas.other_manager]),  # another team
    ):
        visits.check_in(by=who, customer=where, fix=None, companions=along, now=at(day, 9))

    start, end = week_bounds(monday)
    page = client_as("manager").get(reverse("reports:weekly"), {"week": monday.isoformat()})

    assert page.status_code == 200
    assert [(row["user"], row["visits"]) for row in page.context["report"].accompanied_visits] == [
        (personas.manager.pk, 2),
        (personas.teammate.pk, 1),
    ]
    assert 'data-testid="accompanied-visits"' in page.content.decode()
    api = client_as("manager").get(reverse("report-weekly"), {"week": monday.isoformat()}).json()
    assert [(row["user"], row["visits"]) for row in api["accompanied_visits"]] == [
        (personas.manager.pk, 2),
        (personas.teammate.pk, 1),
    ]
    scope = report_selectors.resolve_scope(personas.other_manager)
    assert [r["visits"] for r in report_selectors.weekly_report(scope, monday).accompanied_visits] == [1]
    west = selectors.accompanied_visits(scope.q("visit__owner"), start, end)
    assert [(row["name"], row["role"]) for row in west] == [(personas.other_manager.display_name, "manager")]


# --- The API ------------------------------------------------------------------------------------------


def test_the_api_adds_a_companion_and_takes_their_note(personas, visit, client_as):
    salesperson, manager = client_as("salesperson"), client_as("manager")

    added = salesperson.post(
        reverse("visit-companions", args=[visit.pk]),
        {"user": personas.manager.pk},
        content_type="application/json",
    )
    refused = salesperson.post(
        reverse("visit-companions", args=[visit.pk]),
        {"user": personas.other_manager.pk},
        content_type="application/json",
    )
    noted = manager.post(
        reverse("visit-coaching-note", args=[visit.pk]),
        {"coaching_note": "Good."},
        content_type="application/json",
    )
    not_theirs = salesperson.post(
        reverse("visit-coaching-note", args=[visit.pk]),
        {"coaching_note": "x"},
        content_type="application/json",
    )
    detail = salesperson.get(reverse("visit-detail", args=[visit.pk])).json()

    assert added.status_code == 201 and added.json()["user"] == personas.manager.pk
    assert refused.status_code == 400 and "user" in refused.json()
    assert noted.status_code == 200 and noted.json()["coaching_note"] == "Good."
    assert not_theirs.status_code == 403
    assert [(c["user"], c["coaching_note"]) for c in detail["companions"]] == [(personas.manager.pk, "Good.")]
    removed = salesperson.delete(reverse("visit-companion-remove", args=[visit.pk, personas.manager.pk]))
    assert removed.status_code == 204 and not visit.companions.exists()

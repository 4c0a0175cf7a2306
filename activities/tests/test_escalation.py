"""Escalation: a market-situation report or a complaint reaches the manager at once, in
the app (the bell) and by e-mail (through the outbox, Celery eager in tests)."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activities import services
from activities.models import MarketReport, MarketReportKind
from crm.models import Notification, Role, Team
from crm.tests.factories import CustomerFactory, TeamFactory, UserFactory


@pytest.fixture
def customer(personas):
    return CustomerFactory(owner=personas.salesperson, name="Jinqiao Foods")


def _file(by, customer=None, kind=MarketReportKind.COMPLAINT):
    return services.file_market_report(
        by=by,
        kind=kind,
        customer=customer,
        title="Pallets arrived damaged",
        body="Three of ten pallets were crushed; the buyer wants a credit note.",
    )


def test_a_complaint_notifies_the_manager_in_the_app_and_by_e_mail(
    personas, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = _file(personas.salesperson, customer)

    notification = Notification.objects.get()
    assert notification.recipient == personas.manager
    assert notification.kind == "escalation_complaint"
    assert "Pallets arrived damaged" in notification.title and "Jinqiao Foods" in notification.title
    assert notification.url == reverse("activities:market-report-detail", args=[report.pk])
    assert notification.customer == customer
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [personas.manager.email]
    assert "Three of ten pallets" in mail.outbox[0].body


def test_a_market_situation_report_escalates_the_same_way(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _file(personas.salesperson, kind=MarketReportKind.MARKET_SITUATION)

    assert Notification.objects.get().kind == "escalation_market"
    assert len(mail.outbox) == 1


def test_nothing_is_sent_when_the_transaction_rolls_back(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _file(personas.salesperson)

    assert len(callbacks) == 1  # the e-mail waits for the commit
    assert mail.outbox == []


def test_a_sub_team_without_a_manager_escalates_to_the_manager_above(
    personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _file(personas.sub_salesperson)

    assert Notification.objects.get().recipient == personas.manager


def test_a_manager_escalates_to_their_own_manager_not_themselves(
    personas, django_capture_on_commit_callbacks
):
    head_office = TeamFactory(name="Head office")
    director = UserFactory(username="director", role=Role.MANAGER, team=head_office)
    Team.objects.filter(pk=head_office.pk).update(manager=director)
    Team.objects.filter(pk=personas.manager.team_id).update(parent=head_office)

    with django_capture_on_commit_callbacks(execute=True):
        _file(personas.manager)

    assert Notification.objects.get().recipient == director


def test_with_no_manager_anywhere_the_admins_hear_it(personas, django_capture_on_commit_callbacks):
    loner = UserFactory(username="loner", team=TeamFactory(name="No manager"))

    with django_capture_on_commit_callbacks(execute=True):
        _file(loner)

    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["admin"]


def test_an_invisible_customer_cannot_be_named(personas):
    hidden = CustomerFactory(owner=personas.other_salesperson)

    with pytest.raises(ValidationError):
        _file(personas.salesperson, hidden)
    assert not MarketReport.objects.exists()
    assert not Notification.objects.exists()


def test_the_form_page_files_and_redirects(client_as, personas, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as("salesperson").post(
            reverse("activities:market-report-create"),
            {
                "kind": "complaint",
                "customer": customer.pk,
                "title": "Wrong invoice",
                "body": "Billed twice.",
            },
        )

    report = MarketReport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("activities:market-report-detail", args=[report.pk])
    assert len(mail.outbox) == 1


def test_the_api_files_a_report_and_refuses_invisible_customers(client_as, personas, customer):
    hidden = CustomerFactory(owner=personas.other_salesperson)
    client = client_as("salesperson")

    refused = client.post(
        reverse("marketreport-list"),
        {"kind": "complaint", "customer": hidden.pk, "title": "x", "body": "y"},
        content_type="application/json",
    )
    filed = client.post(
        reverse("marketreport-list"),
        {"kind": "market", "title": "Rival opened a depot", "body": "In Suzhou, with 10 % lower prices."},
        content_type="application/json",
    )

    assert refused.status_code == 400
    assert filed.status_code == 201
    assert MarketReport.objects.count() == 1
    assert Notification.objects.get().recipient == personas.manager


# --- The bell and the notifications page ------------------------------------------------------


def test_the_bell_shows_the_unread_count_with_one_count_query(client_as, personas, customer):
    _file(personas.salesperson, customer)
    _file(personas.salesperson, customer)
    manager = client_as("manager")

    with_unread = manager.get(reverse("activities:plans")).content.decode()
    Notification.objects.update(read_at="2026-01-01T00:00:00Z")
    without = manager.get(reverse("activities:plans")).content.decode()

    assert 'data-testid="unread-count">2' in with_unread
    assert 'data-testid="notification-bell"' in without and 'data-testid="unread-count"' not in without


def test_the_bells_count_query_uses_the_unread_filter(client_as, personas):
    with CaptureQueriesContext(connection) as queries:
        client_as("manager").get(reverse("activities:plans"))

    counts = [q["sql"] for q in queries.captured_queries if "crm_notification" in q["sql"]]
    assert len(counts) == 1
    assert "COUNT(*)" in counts[0] and '"read_at" IS NULL' in counts[0] and '"recipient_id" =' in counts[0]


def test_htmx_fragments_do_not_count_notifications(client_as, customer):
    with CaptureQueriesContext(connection) as queries:
        client_as("salesperson").get(
            reverse("activities:log-activity", args=[customer.pk]), HTTP_HX_REQUEST="true"
        )

    assert not [q for q in queries.captured_queries if "crm_notification" in q["sql"]]


def test_notifications_page_lists_only_mine_and_marks_read(client_as, personas, customer):
    _file(personas.salesperson, customer)
    _file(personas.other_salesperson)  # to West's manager
    mine = Notification.objects.get(recipient=personas.manager)
    manager = client_as("manager")

    page = manager.get(reverse("activities:notifications"))
    marked = manager.post(reverse("activities:notification-read", args=[mine.pk]))
    others = manager.post(
        reverse(
            "activities:notification-read",
            args=[Notification.objects.get(recipient=personas.other_manager).pk],
        )
    )

    assert [n.pk for n in page.context["notifications"]] == [mine.pk]
    assert marked.status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert others.status_code == 404


def test_following_a_notification_marks_it_read_and_opens_its_link(client_as, personas, customer):
    report = _file(personas.salesperson, customer)
    notification = Notification.objects.get()

    response = client_as("manager").post(
        reverse("activities:notification-read", args=[notification.pk]), {"follow": "1"}
    )

    assert response.url == reverse("activities:market-report-detail", args=[report.pk])


def test_api_notifications_mark_read_and_mark_all(client_as, personas, customer):
    _file(personas.salesperson, customer)
    _file(personas.salesperson, customer)
    client = client_as("manager")
    first, second = Notification.objects.order_by("pk")

    listed = client.get(reverse("notification-list"), {"unread": "1"})
    one = client.post(reverse("notification-mark-read", args=[first.pk]))
    rest = client.post(reverse("notification-mark-all-read"), {}, content_type="application/json")

    assert listed.json()["count"] == 2
    assert one.status_code == 200 and one.json()["read_at"]
    assert rest.json() == {"marked": 1}
    assert client.get(reverse("notification-list"), {"unread": "1"}).json()["count"] == 0

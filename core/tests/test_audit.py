"""The security audit log: what is recorded (who, from where, what, which object, how
it ended), and that nobody can change or delete it through the application."""

import csv
import io

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from core.audit import audit
from core.models import SecurityAction, SecurityEvent, SecurityOutcome
from crm import services
from crm.models import CrmSettings, Team, User
from crm.tests.factories import CustomerFactory, UserFactory

PASSWORD = "correct-horse-battery"
CLIENT_IP = "203.0.113.7"


def _login(username: str, password: str = PASSWORD, client: Client | None = None):
    client = client or Client()
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=CLIENT_IP)


def _only(action: str) -> SecurityEvent:
    events = list(SecurityEvent.objects.filter(action=action))
    assert len(events) == 1, events
    return events[0]


# --- Append-only ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_recorded_event_cannot_be_changed_or_deleted(personas):
    event = audit(actor=personas.admin, action=SecurityAction.EXPORT, detail={"rows": 3})

    event.outcome = SecurityOutcome.FAILURE
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        SecurityEvent.objects.filter(pk=event.pk).update(outcome=SecurityOutcome.FAILURE)
    with pytest.raises(PermissionError):
        SecurityEvent.objects.all().delete()

    event.refresh_from_db()
    assert event.outcome == SecurityOutcome.SUCCESS


@pytest.mark.django_db
def test_admins_browse_filter_and_export_but_never_add_change_or_delete(client_as, personas):
    audit(actor=personas.salesperson, action=SecurityAction.LOGIN, ip="198.51.100.1")
    audit(actor=None, username="mallory", action=SecurityAction.LOGIN_FAILED, outcome=SecurityOutcome.FAILURE)
    client = client_as("admin")
    changelist = reverse("admin:core_securityevent_changelist")

    filtered = client.get(changelist, {"action__exact": "login_failed"})

    assert filtered.status_code == 200
    assert "mallory" in filtered.content.decode()
    assert "198.51.100.1" not in filtered.content.decode()
    event = SecurityEvent.objects.get(username="mallory")
    assert client.get(reverse("admin:core_securityevent_add")).status_code == 403
    delete = client.post(reverse("admin:core_securityevent_delete", args=[event.pk]), {"post": "yes"})
    assert delete.status_code == 403
    change = client.post(reverse("admin:core_securityevent_change", args=[event.pk]), {"outcome": "success"})
    assert change.status_code in {200, 403}  # read-only view at most
    event.refresh_from_db()
    assert event.outcome == SecurityOutcome.FAILURE

    export = client.post(changelist, {"action": "export_csv", "_selected_action": [event.pk]})

    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["created_at", "username", "ip", "action", "outcome"]
    assert rows[1][1:5] == ["mallory", "", "login_failed", "failure"]
    assert SecurityEvent.objects.filter(action=SecurityAction.EXPORT, actor=personas.admin).count() == 1


# --- Authentication events ----------------------------------------------------------------


@pytest.mark.django_db
def test_login_success_failure_and_logout_are_recorded_with_the_ip(personas):
    client = Client()
    _login("salesperson", "wrong-password")
    _login("salesperson", client=client)
    client.post(reverse("logout"), REMOTE_ADDR=CLIENT_IP)

    failed = _only(SecurityAction.LOGIN_FAILED)
    assert (failed.actor, failed.username, failed.ip, failed.outcome) == (
        personas.salesperson,
        "salesperson",
        CLIENT_IP,
        SecurityOutcome.FAILURE,
    )
    login = _only(SecurityAction.LOGIN)
    assert (login.actor, login.ip, login.outcome) == (
        personas.salesperson,
        CLIENT_IP,
        SecurityOutcome.SUCCESS,
    )
    assert _only(SecurityAction.LOGOUT).actor == personas.salesperson


@pytest.mark.django_db
def test_a_failed_login_for_an_unknown_name_keeps_the_name_typed(personas):
    _login("nobody-here", "guess")

    failed = _only(SecurityAction.LOGIN_FAILED)
    assert (failed.actor, failed.username) == (None, "nobody-here")


@pytest.mark.django_db
def test_the_lockout_is_recorded(personas):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login("salesperson", "wrong-password")

    lockout = _only(SecurityAction.LOCKOUT)
    assert (lockout.actor, lockout.ip, lockout.outcome) == (
        personas.salesperson,
        CLIENT_IP,
        SecurityOutcome.DENIED,
    )


@pytest.mark.django_db
def test_a_password_change_is_recorded(client_as, personas):
    client_as("salesperson").post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-longer-new-phrase",
            "new_password2": "a-much-longer-new-phrase",
        },
    )

    assert _only(SecurityAction.PASSWORD_CHANGED).actor == personas.salesperson


# --- Access denied -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url_name, status", [("crm:customer-detail", 404), ("customer-detail", 404)])
def test_an_invisible_object_is_recorded_as_access_denied(client_as, personas, url_name, status):
    customer = CustomerFactory(owner=personas.salesperson)

    response = client_as("other_salesperson").get(reverse(url_name, kwargs={"pk": customer.pk}))

    assert response.status_code == status
    denied = _only(SecurityAction.ACCESS_DENIED)
    assert (denied.actor, denied.outcome, denied.object_type, denied.object_id) == (
        personas.other_salesperson,
        SecurityOutcome.DENIED,
        url_name,
        str(customer.pk),
    )
    assert denied.detail["status"] == status


@pytest.mark.django_db
def test_a_forbidden_action_on_a_visible_object_is_recorded(client_as, personas):
    customer = services.archive_customer(
        customer=CustomerFactory(owner=personas.salesperson), by=personas.salesperson
    )

    response = client_as("salesperson").post(reverse("crm:customer-restore", kwargs={"pk": customer.pk}))

    assert response.status_code == 403
    assert _only(SecurityAction.ACCESS_DENIED).detail["status"] == 403


@pytest.mark.django_db
def test_allowed_pages_and_lists_record_nothing(client_as, personas):
    customer = CustomerFactory(owner=personas.salesperson)
    client = client_as("salesperson")
    before = SecurityEvent.objects.count()

    assert client.get(reverse("customer-detail", kwargs={"pk": customer.pk})).status_code == 200
    assert client.get(reverse("customer-list")).status_code == 200

    assert SecurityEvent.objects.count() == before


# --- Data and administration changes --------------------------------------------------------


@pytest.mark.django_db
def test_exports_are_recorded(client_as, personas):
    CustomerFactory(owner=personas.salesperson)

    response = client_as("manager").get(reverse("crm:customer-export"), {"file_format": "csv"})

    assert response.status_code == 200
    export = _only(SecurityAction.EXPORT)
    assert export.actor == personas.manager
    assert (export.detail["kind"], export.detail["rows"]) == ("customers", 1)


@pytest.mark.django_db
def test_archive_restore_and_merge_are_recorded(personas):
    customer = CustomerFactory(owner=personas.salesperson)
    duplicate = CustomerFactory(owner=personas.salesperson)

    services.archive_customer(customer=customer, by=personas.salesperson, reason="Closed down")
    services.restore_customer(customer=customer, by=personas.manager)
    services.merge_customers(keep=customer, merge=duplicate, by=personas.manager)

    archive, restore, merge = (
        _only(action) for action in (SecurityAction.ARCHIVE, SecurityAction.RESTORE, SecurityAction.MERGE)
    )
    assert (archive.actor, archive.object_type, archive.object_id, archive.detail) == (
        personas.salesperson,
        "crm.customer",
        str(customer.pk),
        {"reason": "Closed down"},
    )
    assert (restore.actor, restore.object_id) == (personas.manager, str(customer.pk))
    assert (merge.actor, merge.object_id, merge.detail) == (
        personas.manager,
        str(customer.pk),
        {"merged": duplicate.pk},
    )


@pytest.mark.django_db
def test_user_changes_in_the_admin_are_recorded(client_as, personas):
    client = client_as("admin")
    user = personas.salesperson
    form = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "role": "manager",
        "team": user.team_id,
        "hire_date": "",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2025-01-01",
        "date_joined_1": "09:00:00",
    }

    response = client.post(reverse("admin:crm_user_change", args=[user.pk]), form)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert User.objects.get(pk=user.pk).role == "manager"
    change = _only(SecurityAction.USER_CHANGED)
    assert (change.actor, change.object_type, change.object_id) == (personas.admin, "crm.user", str(user.pk))
    assert "Role" in change.detail["message"]


@pytest.mark.django_db
def test_team_changes_and_user_creation_in_the_admin_are_recorded(client_as, personas):
    client = client_as("admin")

    client.post(reverse("admin:crm_team_add"), {"name": "North"})
    client.post(
        reverse("admin:crm_user_add"),
        {
            "username": "newcomer",
            "password1": "a-long-enough-phrase",
            "password2": "a-long-enough-phrase",
            "usable_password": "true",
            "role": "salesperson",
        },
    )

    team = _only(SecurityAction.TEAM_CHANGED)
    assert (team.object_id, team.detail["change"]) == (str(Team.objects.get(name="North").pk), "added")
    assert SecurityEvent.objects.filter(
        action=SecurityAction.USER_CHANGED, object_id=str(User.objects.get(username="newcomer").pk)
    ).exists()


@pytest.mark.django_db
def test_letting_salespeople_export_is_recorded(client_as, personas):
    crm_settings = CrmSettings.load()

    response = client_as("admin").post(
        reverse("admin:crm_crmsettings_change", args=[crm_settings.pk]),
        {
            "salespeople_may_export": "on",
            "export_row_cap": "10000",
            "won_on_order": "on",
            "lifecycle_repeat_window_days": "365",
            "lifecycle_loyal_quarters": "3",
            "lifecycle_loyal_of_quarters": "4",
            "lifecycle_fall_back_months": "12",
        },
    )

    assert response.status_code == 302
    change = _only(SecurityAction.SETTINGS_CHANGED)
    assert (change.actor, change.object_type) == (personas.admin, "crm.crmsettings")
    assert "Salespeople may export" in change.detail["message"]


@pytest.mark.django_db
def test_grade_configuration_changes_are_recorded(personas):
    from core.models import Grade
    from funnel import services as funnel_services

    grade = Grade.objects.get(code="C")
    grade.stagnation_days = 45
    funnel_services.save_grade(grade=grade, by=personas.admin)

    change = _only(SecurityAction.GRADE_CONFIG)
    assert (change.actor, change.object_type, change.object_id) == (
        personas.admin,
        "core.grade",
        str(grade.pk),
    )


@pytest.mark.django_db
def test_events_outside_a_request_have_no_ip(personas):
    event = audit(actor=UserFactory(), action=SecurityAction.IMPORT, detail={"rows": 10})

    assert event.ip is None
    assert event.username.startswith("user")

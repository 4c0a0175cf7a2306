"""API tokens (issue 17): per device, hashed at rest, expiring 30 days after their last
use, listed and revocable by their owner, and revoked on logout, password change,
deactivation and by an admin."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from knox.crypto import hash_token

from config.models import ApiToken
from config.tokens import issue_token
from core.models import SecurityAction, SecurityEvent
from crm import services as crm_services

PASSWORD = "correct-horse-battery"  # the factories' password
NEW_PASSWORD = "a-much-longer-new-phrase"


def _obtain(username: str = "salesperson", **extra):
    response = Client().post(reverse("api-token"), {"username": username, "password": PASSWORD, **extra})
    assert response.status_code == 200, response.content
    return response.json()


def _get(key: str, url_name: str = "user-list"):
    return Client().get(reverse(url_name), HTTP_AUTHORIZATION=f"Token {key}")


def _works(key: str) -> bool:
    status = _get(key).status_code
    assert status in {200, 401}
    return status == 200


# --- Issuing ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_two_logins_give_two_different_tokens_that_both_work(personas):
    laptop, phone = _obtain(name="laptop"), _obtain(name="phone")

    assert laptop["token"] != phone["token"]
    assert _works(laptop["token"]) and _works(phone["token"])
    assert sorted(ApiToken.objects.values_list("name", flat=True)) == ["laptop", "phone"]


@pytest.mark.django_db
def test_the_token_answer_gives_its_expiry_thirty_days_out(personas):
    with time_machine.travel(timezone.now(), tick=False):
        body = _obtain()

        expiry = timezone.datetime.fromisoformat(body["expiry"])

        assert expiry - timezone.now() == timedelta(days=30)


@pytest.mark.django_db
def test_a_device_name_defaults_to_the_user_agent(personas):
    response = Client().post(
        reverse("api-token"),
        {"username": "salesperson", "password": PASSWORD},
        HTTP_USER_AGENT="export-script/1.2",
    )

    assert ApiToken.objects.get(pk=response.json()["id"]).name == "export-script/1.2"


@pytest.mark.django_db
def test_the_key_is_not_stored_in_plain_text(personas):
    key = _obtain()["token"]

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")  # noqa: S608 - the model's table
        stored = [str(value) for row in cursor.fetchall() for value in row]

    assert not [value for value in stored if key in value]
    assert ApiToken.objects.get().digest == hash_token(key)  # SHA-512 of the key
    assert len(key) == 64


# --- Expiry --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_token_unused_for_thirty_days_stops_working(personas):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        key = _obtain()["token"]
        traveller.shift(timedelta(days=30, minutes=1))

        assert not _works(key)

    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_each_use_pushes_the_expiry_on_thirty_days(personas):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        key = _obtain()["token"]
        for _ in range(3):  # 87 days in all, never 30 idle
            traveller.shift(timedelta(days=29))
            assert _works(key)
        token = ApiToken.objects.get()
        assert token.expiry == timezone.now() + timedelta(days=30)

        traveller.shift(timedelta(days=30, minutes=1))
        assert not _works(key)


# --- Revocation ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_changing_the_password_on_the_page_revokes_every_token(personas, client_as):
    keys = [_obtain()["token"], _obtain()["token"]]
    page = client_as("salesperson")

    page.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert not any(_works(key) for key in keys)
    assert not ApiToken.objects.exists()
    event = SecurityEvent.objects.get(action=SecurityAction.TOKEN_REVOKED)
    assert event.detail == {"reason": "password changed", "owner": personas.salesperson.pk, "count": 2}


@pytest.mark.django_db
def test_a_password_set_anywhere_else_revokes_the_tokens_too(personas):
    # The admin's password form and ``manage.py changepassword`` both set and save it.
    key = _obtain()["token"]

    personas.salesperson.set_password(NEW_PASSWORD)
    personas.salesperson.save()

    assert not _works(key)


@pytest.mark.django_db
def test_another_users_password_change_leaves_a_token_alone(personas):
    key = _obtain()["token"]

    personas.teammate.set_password(NEW_PASSWORD)
    personas.teammate.save()

    assert _works(key)


@pytest.mark.django_db
def test_logout_revokes_the_current_token_and_only_it(personas):
    laptop, phone = _obtain()["token"], _obtain()["token"]

    response = Client().post(reverse("api-logout"), HTTP_AUTHORIZATION=f"Token {laptop}")

    assert response.status_code == 204
    assert not _works(laptop)
    assert _works(phone)


@pytest.mark.django_db
def test_logout_with_a_session_ends_the_session(client_as):
    client = client_as("salesperson")

    assert client.post(reverse("api-logout")).status_code == 204

    assert client.get(reverse("user-list")).status_code == 401


@pytest.mark.django_db
def test_deactivation_revokes_every_token(personas):
    idle = personas.deactivated  # owns no customers, so may be deactivated
    _token, key = issue_token(user=idle, via="test")

    crm_services.deactivate_user(user=idle, by=personas.admin)

    assert not ApiToken.objects.filter(user=idle).exists()
    assert not _works(key)


@pytest.mark.django_db
def test_deactivation_in_the_admin_revokes_every_token(personas, client_as):
    idle = personas.deactivated
    issue_token(user=idle, via="test")
    admin = client_as("admin")
    form = admin.get(reverse("admin:crm_user_change", args=[idle.pk])).context["adminform"].form
    data = {key: value for key, value in form.initial.items() if value is not None and key != "password"}
    data.update(
        {
            "is_active": "",
            "groups": [],
            "user_permissions": [],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
            "last_login_0": "",
            "last_login_1": "",
        }
    )

    response = admin.post(reverse("admin:crm_user_change", args=[idle.pk]), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not ApiToken.objects.filter(user=idle).exists()


@pytest.mark.django_db
def test_an_admin_revokes_tokens_with_an_admin_action(personas, client_as):
    token, key = issue_token(user=personas.salesperson, via="test")
    kept, kept_key = issue_token(user=personas.teammate, via="test")

    response = client_as("admin").post(
        reverse("admin:config_apitoken_changelist"),
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )

    assert response.status_code == 302
    assert not _works(key)
    assert _works(kept_key)
    event = SecurityEvent.objects.get(action=SecurityAction.TOKEN_REVOKED)
    assert (event.actor, event.detail["reason"]) == (personas.admin, "admin")


# --- The owner's list --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_owner_lists_their_tokens_in_the_api_and_sees_which_one_is_calling(personas):
    laptop, phone = _obtain(name="laptop"), _obtain(name="phone")
    issue_token(user=personas.teammate, via="test")

    response = _get(laptop["token"], "apitoken-list")

    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()["results"]}
    assert set(rows) == {"laptop", "phone"}
    assert (rows["laptop"]["current"], rows["phone"]["current"]) == (True, False)
    assert rows["phone"]["id"] == phone["id"]
    assert "token" not in rows["phone"] and "digest" not in rows["phone"]


@pytest.mark.django_db
def test_the_owner_revokes_one_token_in_the_api_and_nobody_else_can(personas):
    laptop, phone = _obtain()["token"], _obtain()
    teammate = issue_token(user=personas.teammate, via="test")[1]
    url = reverse("apitoken-detail", args=[phone["id"]])

    refused = Client().delete(url, HTTP_AUTHORIZATION=f"Token {teammate}")
    revoked = Client().delete(url, HTTP_AUTHORIZATION=f"Token {laptop}")

    assert refused.status_code == 404
    assert revoked.status_code == 204
    assert not _works(phone["token"])
    assert _works(laptop)


@pytest.mark.django_db
def test_the_security_page_lists_issues_and_revokes_tokens(personas, client_as):
    issue_token(user=personas.salesperson, via="test", name="Old laptop")
    other, _key = issue_token(user=personas.teammate, via="test", name="Teammate's phone")
    page = client_as("salesperson")

    listed = page.get(reverse("account-security")).content.decode()
    issued = page.post(reverse("account-api-token"), {"name": "Export script"})
    key = issued.context["new_token"]
    refused = page.post(reverse("account-api-token-revoke", args=[other.pk]))
    mine = ApiToken.objects.get(name="Old laptop")
    revoked = page.post(reverse("account-api-token-revoke", args=[mine.pk]))

    assert "Old laptop" in listed and "Teammate" not in listed
    assert key in issued.content.decode() and _works(key)
    assert ApiToken.objects.get(pk=issued.context["tokens"][0].pk).name == "Export script"
    assert refused.status_code == 404
    assert revoked.status_code == 302
    assert set(ApiToken.objects.values_list("name", flat=True)) == {"Export script", "Teammate's phone"}


@pytest.mark.django_db
def test_a_too_long_device_name_is_an_error_on_the_field(client_as):
    response = client_as("salesperson").post(reverse("account-api-token"), {"name": "x" * 101})

    assert response.status_code == 400
    assert response.context["token_form"].errors["name"]
    assert not ApiToken.objects.exists()


# --- Tokens from before knox --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_tokens_issued_before_keep_working_and_only_their_hash_is_kept(personas):
    old_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, user_id bigint)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)",
            [old_key, timezone.now(), personas.salesperson.pk],
        )
    try:
        call_command("migrate", "config", "0001", verbosity=0)
        call_command("migrate", "config", "0002", verbosity=0)

        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM authtoken_token")
            left = cursor.fetchone()[0]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE authtoken_token")
        # Back to the latest migration: later tests need the tables after 0002.
        call_command("migrate", "config", verbosity=0)

    assert left == 0
    assert ApiToken.objects.get().digest == hash_token(old_key)
    assert _works(old_key)

"""Log-in throttling (issue 17): per address and in all (429 + Retry-After), a lock per
username after ten failures that grows with more, a notice to the user, and two ways
out of a lock that a stranger caused: password + second factor, or an admin."""

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from redis.exceptions import ConnectionError as RedisConnectionError

from core.models import SecurityAction, SecurityEvent
from crm.models import Notification
from crm.tests.factories import UserFactory

PASSWORD = "correct-horse-battery"  # the factories' password
WRONG = "not-the-password"
OFFICE_IP = "203.0.113.20"
ATTACKER_IP = "198.51.100.66"


def _login(username: str, password: str, ip: str = ATTACKER_IP, client: Client | None = None):
    return (client or Client()).post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def _token(username: str, password: str, ip: str = ATTACKER_IP):
    return Client().post(reverse("api-token"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def _fail(username: str, times: int, ip: str = ATTACKER_IP) -> None:
    for _ in range(times):
        assert _login(username, WRONG, ip).status_code in {200, 429}


def _frozen():
    return time_machine.travel(timezone.now(), tick=False)


# --- A shared office address --------------------------------------------------------------


@pytest.mark.django_db
def test_five_wrong_passwords_from_a_shared_office_address_no_longer_lock_a_colleague_out(personas):
    # A colleague behind the same address mistypes the victim's username five times.
    _fail("salesperson", 5, ip=OFFICE_IP)
    client = Client()

    response = _login("salesperson", PASSWORD, ip=OFFICE_IP, client=client)

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(personas.salesperson.pk)


@pytest.mark.django_db
def test_a_whole_office_signing_in_from_one_address_is_never_refused(personas):
    colleagues = [UserFactory(username=f"colleague{i}") for i in range(40)]

    statuses = {_login(user.username, PASSWORD, ip=OFFICE_IP).status_code for user in colleagues}

    assert statuses == {302}


# --- Per address -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_guessing_many_usernames_from_one_address_is_refused_with_429_and_retry_after(personas):
    # The attack of the report: 184 guesses over 46 usernames in 60 s from one address.
    statuses = []
    with _frozen():
        for guess in range(184):
            statuses.append(_login(f"user{guess % 46}", f"guess-{guess}").status_code)
        refused = _login("salesperson", PASSWORD)

    assert statuses[:30] == [200] * 30
    assert set(statuses[30:]) == {429}
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 5 * 60
    assert "Too many failed sign-in attempts from your network" in refused.content.decode()
    assert AccessAttempt.objects.count() == 30  # refused guesses were not even tried


@pytest.mark.django_db
def test_the_token_endpoint_and_the_admin_log_in_count_and_obey_the_address_limit(personas):
    with _frozen():
        for guess in range(15):
            _token(f"user{guess}", WRONG)
        for guess in range(15):
            Client().post(
                reverse("admin:login"),
                {"username": f"admin{guess}", "password": WRONG},
                REMOTE_ADDR=ATTACKER_IP,
            )

        token = _token("salesperson", PASSWORD)
        admin = Client().post(
            reverse("admin:login"), {"username": "admin", "password": PASSWORD}, REMOTE_ADDR=ATTACKER_IP
        )
        elsewhere = _token("salesperson", PASSWORD, ip=OFFICE_IP)

    assert token.status_code == 429
    assert "Retry-After" in token
    assert "Too many failed sign-in attempts" in token.json()["detail"]
    assert admin.status_code == 429
    assert elsewhere.status_code == 200


@pytest.mark.django_db
def test_the_address_limit_lifts_when_its_five_minutes_are_over(personas):
    with _frozen() as traveller:
        for guess in range(30):
            _login(f"user{guess}", WRONG)
        assert _login("salesperson", PASSWORD).status_code == 429

        traveller.shift(timedelta(minutes=5))

        assert _login("salesperson", PASSWORD).status_code == 302


@pytest.mark.django_db
@override_settings(LOGIN_FAILURES_PER_IP=3, LOGIN_FAILURES_PER_IP_WINDOW=60)
def test_the_address_limit_is_configurable(personas):
    with _frozen():
        for guess in range(3):
            _login(f"user{guess}", WRONG)

        response = _login("salesperson", PASSWORD)

    assert response.status_code == 429
    assert int(response["Retry-After"]) <= 60


# --- In all ------------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(LOGIN_FAILURES_GLOBAL=20)
def test_guesses_spread_over_many_addresses_meet_the_global_limit(personas):
    with _frozen():
        for guess in range(20):
            _login(f"user{guess}", WRONG, ip=f"192.0.2.{guess + 1}")

        response = _token("salesperson", PASSWORD, ip="192.0.2.200")

    assert response.status_code == 429
    assert "on this site" in response.json()["detail"]
    assert int(response["Retry-After"]) <= 60


@pytest.mark.django_db
def test_the_first_refusal_of_a_window_is_audited_once(personas):
    with time_machine.travel(timezone.now().replace(minute=0, second=0), tick=False) as traveller:
        for guess in range(30):
            _login(f"user{guess}", WRONG)
        for guess in range(5):  # refused, each with a shorter Retry-After
            traveller.shift(timedelta(seconds=10))
            assert _login(f"user{guess}", WRONG).status_code == 429

    events = SecurityEvent.objects.filter(action=SecurityAction.LOGIN_THROTTLED)
    assert events.count() == 1
    assert (events.get().ip, events.get().detail["scope"]) == (ATTACKER_IP, "address")


@pytest.mark.django_db
def test_with_the_cache_down_people_can_still_sign_in(personas):
    broken = mock.patch(
        "django.core.cache.backends.locmem.LocMemCache.get", side_effect=RedisConnectionError("Redis is down")
    )
    with (
        broken,
        mock.patch(
            "django.core.cache.backends.locmem.LocMemCache.add",
            side_effect=RedisConnectionError("Redis is down"),
        ),
    ):
        _fail("teammate", 3)
        response = _login("salesperson", PASSWORD)

    assert response.status_code == 302


# --- Per username: ten failures, growing, told ----------------------------------------------


@pytest.mark.django_db
def test_the_lock_doubles_with_every_ten_more_failures(personas):
    with _frozen() as traveller:
        _fail("salesperson", 10, ip="192.0.2.1")
        traveller.shift(timedelta(minutes=16))  # the first lock (15 minutes) is over
        _fail("salesperson", 9, ip="192.0.2.2")  # each one locks again, for 15 minutes

        twentieth = _login("salesperson", WRONG, ip="192.0.2.2")
        traveller.shift(timedelta(minutes=30))

        assert _login("salesperson", PASSWORD, ip=OFFICE_IP).status_code == 302

    assert twentieth.status_code == 429
    assert int(twentieth["Retry-After"]) == 30 * 60


@pytest.mark.django_db
def test_the_lockout_page_says_until_when_and_gives_retry_after(personas):
    with _frozen():
        _fail("salesperson", 10)

        response = _login("salesperson", PASSWORD, ip=OFFICE_IP)

    assert response.status_code == 429
    assert int(response["Retry-After"]) == 15 * 60
    assert "blocked until" in response.content.decode()


@pytest.mark.django_db
def test_the_user_is_told_in_the_app_and_by_e_mail_when_locked(personas, django_capture_on_commit_callbacks):
    with _frozen(), django_capture_on_commit_callbacks(execute=True):
        _fail("salesperson", 10)
        until = timezone.localtime(timezone.now() + timedelta(minutes=15))

    notice = Notification.objects.get(recipient=personas.salesperson, kind="login_locked")
    assert notice.title.startswith("Someone failed to sign in as you 10 times; your account is locked until")
    assert date_format(until, "DATETIME_FORMAT") in notice.title
    assert [message.to for message in mail.outbox] == [[personas.salesperson.email]]


@pytest.mark.django_db
def test_the_notice_is_sent_once_per_lock_level_and_never_for_unknown_usernames(personas):
    _fail("salesperson", 15)
    _fail("nobody-by-this-name", 10, ip=OFFICE_IP)

    assert Notification.objects.filter(kind="login_locked").count() == 1


# --- Ways out of a lock ---------------------------------------------------------------------------


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.mark.django_db
def test_the_right_password_and_the_second_factor_unlock(personas):
    device = TOTPDevice.objects.create(user=personas.salesperson, name="phone", confirmed=True)
    with _frozen():
        _fail("salesperson", 10)
        client = Client()

        password_step = _login("salesperson", PASSWORD, ip=OFFICE_IP, client=client)
        assert password_step.status_code == 302
        assert client.get(reverse("home")).url.startswith(reverse("mfa-verify"))
        assert AccessAttempt.objects.filter(username="salesperson").exists()  # not yet unlocked

        client.post(reverse("mfa-verify"), {"code": _code(device)})

        assert client.get(reverse("home")).status_code == 200
        assert not AccessAttempt.objects.filter(username="salesperson").exists()
        assert _login("salesperson", PASSWORD, ip=ATTACKER_IP).status_code == 302
    assert SecurityEvent.objects.filter(action=SecurityAction.LOGIN_UNLOCKED).count() == 1


@pytest.mark.django_db
def test_a_wrong_password_of_a_user_with_a_second_factor_stays_locked(personas):
    TOTPDevice.objects.create(user=personas.salesperson, name="phone", confirmed=True)
    _fail("salesperson", 10)
    client = Client()

    response = _login("salesperson", WRONG, ip=OFFICE_IP, client=client)

    assert response.status_code == 429
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_without_a_second_factor_the_right_password_does_not_pass_the_lock(personas):
    _fail("salesperson", 10)
    client = Client()

    assert _login("salesperson", PASSWORD, ip=OFFICE_IP, client=client).status_code == 429
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_an_admin_unlocks_a_username_in_the_admin(personas, client_as):
    _fail("salesperson", 10)
    attempts = list(AccessAttempt.objects.filter(username="salesperson").values_list("pk", flat=True))

    response = client_as("admin").post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
    )

    assert response.status_code == 302
    assert _login("salesperson", PASSWORD, ip=OFFICE_IP).status_code == 302


@pytest.mark.django_db
def test_a_successful_log_in_forgets_earlier_failures(personas):
    _fail("salesperson", 9)
    assert _login("salesperson", PASSWORD, ip=OFFICE_IP).status_code == 302

    _fail("salesperson", 9)

    assert _login("salesperson", PASSWORD, ip=OFFICE_IP).status_code == 302

"""Two-factor authentication: required for admins and managers where configured
(production), optional for salespeople, with recovery codes; the password-only token
endpoint refuses whoever needs a second factor."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.mfa import SETUP_KEY_SESSION_KEY
from config.models import ApiToken
from core.models import SecurityAction, SecurityEvent

PASSWORD = "correct-horse-battery"
REQUIRED = override_settings(MFA_REQUIRED_ROLES=["admin", "manager"])


def _login(username: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.fixture
def frozen():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def _enrol(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def _recovery_codes(user, *codes: str) -> None:
    device = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    for code in codes:
        device.token_set.create(token=code)


def _events(action: str) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(action=action))


# --- Where it is required -------------------------------------------------------------


def test_production_requires_it_for_admins_and_managers_and_the_demo_does_not(settings):
    from config.settings import base

    assert base.MFA_REQUIRED_ROLES == ["admin", "manager"]
    assert settings.MFA_REQUIRED_ROLES == []  # test mode, like local development


@pytest.mark.django_db
@REQUIRED
@pytest.mark.parametrize("role", ["manager", "admin"])
@pytest.mark.parametrize("url_name", ["home", "crm:customer-list", "account-security", "admin:index"])
def test_a_password_alone_leads_every_page_to_the_second_factor(personas, role, url_name):
    client = _login(role)

    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response.url == f"{reverse('mfa-verify')}?next={reverse(url_name)}"


@pytest.mark.django_db
@REQUIRED
def test_without_a_device_the_verification_step_sends_on_to_enrolment(personas):
    client = _login("manager")

    response = client.get(reverse("mfa-verify"), {"next": "/customers/"})

    assert response.status_code == 302
    assert response.url == f"{reverse('mfa-setup')}?next=/customers/"


@pytest.mark.django_db
@REQUIRED
@pytest.mark.parametrize(
    ("language", "enrolment", "verification"),
    [
        ("en", "Set up two-factor authentication", "Enter your code"),
        ("zh-hans", "设置双重身份验证", "输入验证码"),
    ],
)
def test_enrolment_and_verification_pages_speak_both_languages(personas, language, enrolment, verification):
    client = _login("manager")
    enrolment_page = client.get(reverse("mfa-setup"), HTTP_ACCEPT_LANGUAGE=language)
    _enrol(personas.manager)
    verification_page = client.get(reverse("mfa-verify"), HTTP_ACCEPT_LANGUAGE=language)

    assert enrolment in enrolment_page.content.decode()
    assert verification in verification_page.content.decode()


@pytest.mark.django_db
@REQUIRED
def test_session_api_calls_before_the_second_factor_are_refused(personas):
    client = _login("manager")

    response = client.get(reverse("customer-list"))

    assert response.status_code == 403
    assert "Two-factor authentication is required" in response.json()["detail"]


@pytest.mark.django_db
@REQUIRED
def test_salespeople_are_not_asked_unless_they_turned_it_on(personas):
    client = _login("salesperson")

    assert client.get(reverse("account-security")).status_code == 200


@pytest.mark.django_db
def test_a_salesperson_who_turned_it_on_is_asked_for_it_too(personas):
    _enrol(personas.salesperson)
    client = _login("salesperson")

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("mfa-verify"))


# --- Enrolment ---------------------------------------------------------------------------


@pytest.mark.django_db
@REQUIRED
def test_enrolment_shows_a_qr_code_and_the_key_then_confirms_with_a_code(personas, frozen):
    client = _login("manager")

    page = client.get(reverse("mfa-setup"), {"next": "/customers/"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "otpauth://totp/Funnel%20CRM%3Amanager?secret=" in html
    assert 'src="data:image/svg+xml' in html
    assert not TOTPDevice.objects.filter(user=personas.manager).exists()  # nothing saved before confirming

    device = TOTPDevice(key=client.session[SETUP_KEY_SESSION_KEY])
    response = client.post(reverse("mfa-setup"), {"code": _code(device), "next": "/customers/"})

    assert response.status_code == 200
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    assert len(codes) == 10
    assert TOTPDevice.objects.get(user=personas.manager).confirmed
    assert set(
        StaticToken.objects.filter(device__user=personas.manager).values_list("token", flat=True)
    ) == set(codes)
    assert client.get(reverse("crm:customer-list")).status_code == 200
    assert [event.actor for event in _events(SecurityAction.MFA_ENROLLED)] == [personas.manager]


@pytest.mark.django_db
@REQUIRED
def test_enrolment_with_a_wrong_code_saves_nothing(personas):
    client = _login("manager")
    client.get(reverse("mfa-setup"))

    response = client.post(reverse("mfa-setup"), {"code": "000000"})

    assert response.status_code == 200
    assert "This code is not valid" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=personas.manager).exists()
    assert client.get(reverse("home")).status_code == 302


# --- Verification after the password ----------------------------------------------------


@pytest.mark.django_db
@REQUIRED
def test_the_right_code_opens_the_session_under_a_new_session_id(personas, frozen):
    device = _enrol(personas.manager)
    client = _login("manager")
    before = client.session.session_key

    response = client.post(reverse("mfa-verify"), {"code": _code(device), "next": "/customers/"})

    assert response.status_code == 302
    assert response.url == "/customers/"
    assert client.session.session_key != before
    assert client.get(reverse("account-security")).status_code == 200
    assert client.get(reverse("customer-list")).status_code == 200
    assert _events(SecurityAction.MFA_VERIFIED)[0].actor == personas.manager


@pytest.mark.django_db
@REQUIRED
def test_a_wrong_code_is_refused_and_audited(personas, frozen):
    _enrol(personas.manager)
    client = _login("manager")

    response = client.post(reverse("mfa-verify"), {"code": "123456"})

    assert response.status_code == 200
    assert "This code is not valid" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302
    assert _events(SecurityAction.MFA_FAILED)[0].actor == personas.manager


@pytest.mark.django_db
@REQUIRED
def test_a_used_code_cannot_be_replayed_and_failures_slow_down_guessing(personas, frozen):
    device = _enrol(personas.manager)
    code = _code(device)
    assert _login("manager").post(reverse("mfa-verify"), {"code": code}).status_code == 302

    # The same code again, from another browser, in the same 30 seconds: refused.
    second = _login("manager")
    assert second.post(reverse("mfa-verify"), {"code": code}).status_code == 200
    # Right after a failure even the next valid code waits (django-otp's throttling).
    frozen.shift(timedelta(seconds=30))
    assert second.post(reverse("mfa-verify"), {"code": "000000"}).status_code == 200
    assert second.post(reverse("mfa-verify"), {"code": _code(device)}).status_code == 200
    frozen.shift(timedelta(seconds=5))
    assert second.post(reverse("mfa-verify"), {"code": _code(device)}).status_code == 302


@pytest.mark.django_db
@REQUIRED
def test_a_recovery_code_works_once(personas, frozen):
    _enrol(personas.manager)
    _recovery_codes(personas.manager, "abcd2345", "efgh6723")

    first = _login("manager")
    response = first.post(reverse("mfa-verify"), {"code": "ABCD 2345"})
    assert response.status_code == 302
    assert first.get(reverse("account-security")).status_code == 200

    again = _login("manager")
    assert again.post(reverse("mfa-verify"), {"code": "abcd2345"}).status_code == 200
    assert list(StaticToken.objects.values_list("token", flat=True)) == ["efgh6723"]
    assert _events(SecurityAction.MFA_VERIFIED)[0].detail == {"method": "recovery_code"}


# --- API tokens -------------------------------------------------------------------------


@pytest.mark.django_db
@REQUIRED
@pytest.mark.parametrize("role", ["manager", "admin"])
def test_the_password_only_token_endpoint_refuses_roles_that_need_a_second_factor(personas, role):
    response = Client().post(reverse("api-token"), {"username": role, "password": PASSWORD})

    assert response.status_code == 403
    assert "two-factor authentication" in response.json()["detail"]
    assert "/accounts/security/" in response.json()["detail"]
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_the_token_endpoint_refuses_a_salesperson_who_turned_it_on(personas):
    _enrol(personas.salesperson)

    response = Client().post(reverse("api-token"), {"username": "salesperson", "password": PASSWORD})

    assert response.status_code == 403
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
@REQUIRED
def test_the_token_endpoint_still_serves_salespeople_without_a_second_factor(personas):
    response = Client().post(reverse("api-token"), {"username": "salesperson", "password": PASSWORD})

    assert response.status_code == 200
    assert ApiToken.objects.get(user=personas.salesperson).pk == response.json()["id"]


@pytest.mark.django_db
@REQUIRED
def test_after_the_second_factor_the_security_page_issues_a_working_token(personas, frozen):
    device = _enrol(personas.manager)
    client = _login("manager")
    assert client.post(reverse("account-api-token")).status_code == 302  # not before the code
    client.post(reverse("mfa-verify"), {"code": _code(device)})

    response = client.post(reverse("account-api-token"))

    assert response.status_code == 200
    key = re.search(r'data-testid="api-token">([0-9a-f]+)<', response.content.decode()).group(1)
    assert ApiToken.objects.get(user=personas.manager)
    assert key in response.content.decode()
    api = Client().get(reverse("customer-list"), HTTP_AUTHORIZATION=f"Token {key}")
    assert api.status_code == 200
    assert _events(SecurityAction.TOKEN_ISSUED)[0].detail == {"via": "security page"}


# --- Turning it off ---------------------------------------------------------------------


@pytest.mark.django_db
@REQUIRED
def test_a_manager_cannot_turn_it_off(personas, frozen):
    device = _enrol(personas.manager)
    client = _login("manager")
    client.post(reverse("mfa-verify"), {"code": _code(device)})

    response = client.post(reverse("mfa-disable"))

    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=personas.manager).exists()


@pytest.mark.django_db
@REQUIRED
def test_a_salesperson_can_turn_it_off_after_verifying(personas, frozen):
    device = _enrol(personas.salesperson)
    client = _login("salesperson")
    client.post(reverse("mfa-verify"), {"code": _code(device)})

    response = client.post(reverse("mfa-disable"))

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=personas.salesperson).exists()
    assert SESSION_KEY in client.session
    assert _login("salesperson").get(reverse("account-security")).status_code == 200

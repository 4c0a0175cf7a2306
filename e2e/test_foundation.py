"""Foundation journeys: sign in, switch to Simplified Chinese, sign out; a clean CSP."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from crm.tests.factories import TeamFactory, UserFactory

from .conftest import csp_violations, login

PASSWORD = "correct-horse-battery"

pytestmark = pytest.mark.e2e


def _chinese(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


@pytest.fixture
def sales_east1(transactional_db):
    return UserFactory(
        username="sales_east1",
        first_name="Wei",
        last_name="Zhang",
        team=TeamFactory(name="East"),
    )


def test_sign_in_switch_to_chinese_and_sign_out(page, sales_east1):
    login(page, "sales_east1", PASSWORD)

    # Home greets the user by name, styled and scripted (static files are served).
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_contain_text("Wei Zhang")
    expect(page.locator("[data-testid=user-menu]")).to_contain_text("Wei Zhang")
    expect(page.locator("[data-language-submit]")).to_be_hidden()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgba(0, 0, 0, 0)"

    # Picking 简体中文 submits the form by itself (static/js/app.js).
    with page.expect_navigation():
        page.select_option("[data-testid=language-select]", "zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    assert cookies.get("django_language") == "zh-hans"
    expect(page.locator("[data-testid=language-select]")).to_have_value("zh-hans")
    log_out = _chinese("Log out")
    if log_out != "Log out":  # a catalog translates it: the page must show the translation
        expect(page.locator("[data-testid=logout]")).to_have_text(log_out)
    expect(page.locator("h1")).to_contain_text("Wei Zhang")

    # User menu → Log out → back at the login page, still in Chinese.
    page.click("[data-testid=user-menu]")
    expect(page.locator("[data-testid=logout]")).to_be_visible()
    with page.expect_navigation():
        page.click("[data-testid=logout]")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator("#id_username")).to_be_visible()
    expect(page.locator("[data-testid=user-menu]")).to_have_count(0)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    # The session is gone: home sends us back to the login page.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))

    assert page.page_errors == []
    assert page.failed_responses == []
    assert csp_violations(page) == []


def test_login_page_has_no_csp_violations_or_script_errors(page, transactional_db):
    response = page.goto("/accounts/login/")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("load")
    expect(page.locator("#id_username")).to_be_visible()
    # app.js ran: the language form's fallback button is hidden.
    expect(page.locator("[data-language-submit]")).to_be_hidden()

    assert csp_violations(page) == []
    assert page.console_errors == []
    assert page.page_errors == []
    assert page.failed_responses == []

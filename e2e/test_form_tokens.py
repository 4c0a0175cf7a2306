"""A page form that reaches the server twice (a double click, a browser retrying after a
timeout) saves once: the page gives every post form a one-time token
(``static/js/app.js``), and the server refuses its second use (``config/form_tokens.py``),
sending the person back to the form with a message."""

import re

import pytest
from playwright.sync_api import expect

from crm.models import Customer
from crm.tests.factories import TeamFactory, UserFactory
from funnel.tests.factories import ensure_default_grades

from .conftest import csp_violations, login, watched_page

PASSWORD = "correct-horse-battery"

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def salesperson(transactional_db):
    ensure_default_grades()
    return UserFactory(
        username="sales_east1", first_name="Wei", last_name="Zhang", team=TeamFactory(name="East")
    )


@pytest.fixture
def page(browser, live_server):
    """Without the service worker: page.route does not see what a service worker fetches."""
    context = browser.new_context(base_url=live_server.url, locale="en-US", service_workers="block")
    yield watched_page(context)
    context.close()


def test_the_customer_form_sent_twice_saves_one_customer_and_says_so(page, salesperson):
    login(page, "sales_east1", PASSWORD)
    page.goto("/customers/new/")
    form = page.locator("main form[method=post]")
    expect(form.locator("input[name=form_token]")).to_have_value(re.compile(r"^[0-9a-f-]{36}$"))
    sent_token = form.locator("input[name=form_token]").input_value()
    form.locator("#id_name").fill("Northwind Ltd")

    # The network delivers the post twice; the browser shows the answer to the second.
    def twice(route):
        if route.request.method != "POST":
            route.continue_()
            return
        route.fetch(max_redirects=0)
        route.fulfill(response=route.fetch())

    page.route("**/customers/new/", twice)
    with page.expect_navigation():
        form.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert")).to_contain_text("This form was already sent; nothing was saved twice.")
    assert list(Customer.objects.values_list("name", flat=True)) == ["Northwind Ltd"]
    # The form shown again has a new token: sending it now is a new request.
    fresh_token = page.locator("main form[method=post] input[name=form_token]").input_value()
    assert re.fullmatch(r"[0-9a-f-]{36}", fresh_token) and fresh_token != sent_token
    assert page.page_errors == []
    assert csp_violations(page) == []

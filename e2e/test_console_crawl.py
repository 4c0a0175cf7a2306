"""Every page opens cleanly for each kind of user: as a salesperson, a salesperson of a
sub-team, a manager and an admin, the crawl opens every GET page the role matrix declares
for that role (``config/tests/route_matrix.py``) and every link of the navigation bar and
user menu, and finds no console error, no script error, no CSP violation, no failed
request (a missing static file) and no control the keyboard reaches but nobody can see.
Charts are drawn but not hovered (the tooltips have their own test)."""

import time

import pytest
from django.urls import reverse
from playwright.sync_api import Error as PlaywrightError

from config.tests.test_routes import declared_routes

from .axe import focusable_hidden_controls
from .conftest import csp_violations, login, watched_page

PASSWORD = "correct-horse-battery"
ROLES = ("salesperson", "sub_salesperson", "manager", "admin")

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _matrix_pages(world, role: str) -> set[str]:
    """URLs of the declared pages that answer ``role`` with 200 (an API route answers an
    anonymous visitor 401; a page sends them to log in)."""
    return {
        reverse(route.name, kwargs=route.kwargs(world) if route.kwargs else None) + route.query
        for route in declared_routes().values()
        if route.method == "get" and route.expect["anonymous"] == 302 and route.expect[role] == 200
    }


def _navigation_links(page) -> set[str]:
    """Same-site links of the top bar (its menus included), as paths."""
    return set(
        page.evaluate("""() => [...document.querySelectorAll("nav a[href]")]
            .filter((link) => link.origin === location.origin)
            .map((link) => link.pathname + link.search)""")
    )


def _problems(page, url: str) -> list[str]:
    """What went wrong while ``url`` loaded in ``page`` (empty when it is clean)."""
    page.console_errors.clear()
    page.page_errors.clear()
    page.failed_responses.clear()
    try:
        response = page.goto(url)
    except PlaywrightError as error:
        if "Download is starting" in error.message:
            return []  # an export or a template file: no page to look at
        raise
    if response.status != 200:
        return [f"answered {response.status}"]
    return [
        *(f"console: {text}" for text in page.console_errors),
        *(f"script: {text}" for text in page.page_errors),
        *(f"CSP: {text}" for text in csp_violations(page) if text not in page.console_errors),
        *(f"request: {failed}" for failed in page.failed_responses),
        *(f"hidden but focusable: {control}" for control in focusable_hidden_controls(page)),
    ]


def test_every_page_opens_cleanly_for_each_role(browser, live_server, matrix_world, capsys):
    started = time.monotonic()
    found, crawled = {}, {}
    for role in ROLES:
        context = browser.new_context(
            base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 900}
        )
        page = watched_page(context)
        login(page, role, PASSWORD)
        urls = sorted(_matrix_pages(matrix_world, role) | _navigation_links(page))
        for url in urls:
            if problems := _problems(page, url):
                found[f"{role} {url}"] = problems
        crawled[role] = len(urls)
        context.close()
    with capsys.disabled():
        print(
            f"\ncrawl, pages per role: {crawled}, in {time.monotonic() - started:.0f} s; "
            f"{len(found)} with problems"
        )
    assert not found, "\n".join(
        f"{where}: {problem}" for where, problems in found.items() for problem in problems
    )


def test_the_favicon_is_served(page, transactional_db):
    """The icon every page links to, and /favicon.ico for pages without the link (the admin)."""
    page.goto("/accounts/login/")
    icons = page.evaluate(
        """() => [...document.querySelectorAll("link[rel~=icon]")].map((link) => link.href)"""
    )
    assert icons
    for url in [*icons, "/favicon.ico"]:
        response = page.request.get(url)
        assert response.status == 200, url
        assert response.headers["content-type"].startswith("image/"), url

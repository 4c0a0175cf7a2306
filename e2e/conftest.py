"""Browser fixtures for the journeys in ``e2e/``: Playwright driving Debian's chromium.

* ``browser`` — one headless chromium (``/usr/bin/chromium``) for the e2e package. It is
  never downloaded: without it the tests skip on a laptop and fail under ``CI=true``.
* ``page`` — a fresh browser context per test whose ``base_url`` is the ``live_server``,
  so tests write ``page.goto("/customers/")``. Console errors, page errors and CSP
  violations are collected on ``page.console_errors`` / ``page.csp_violations``.
* ``login(page, username, password)`` — signs in through the login form; reuse it from
  any journey with ``from e2e.conftest import login``.
* ``matrix_world`` — the root conftest's personas (every username is its role, e.g.
  ``manager``) with the role matrix's world of rows (``config/tests/test_routes.py``).

A failing test leaves a full-page screenshot in ``test-results/``.
"""

import os

# Playwright's sync API keeps an asyncio loop running in this thread, which makes Django
# refuse ORM calls from the test ("SynchronousOnlyOperation"). The test code is plain
# synchronous code, so allow it — before anything imports Django's ORM.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import contextlib  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from conftest import skip_or_fail  # noqa: E402 - the root conftest's helper

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS_DIR = Path(__file__).resolve().parent.parent / "test-results"
TIMEOUT_MS = 15_000

# Recorded in the page by an init script (init scripts are not subject to the page's CSP).
_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " blocked " + (event.blockedURI || "inline"));
});
"""


def pytest_collection_modifyitems(items):
    """A browser journey that fails gets one more run (reported as "rerun" in the summary).

    On this two-core machine a loaded chromium now and then misses a beat that no wait in
    the test can name; a real fault fails twice. Unit and API tests never retry.
    """
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.flaky(reruns=1))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so ``page`` can screenshot a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="package")
def playwright_driver():
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is in requirements.txt
        skip_or_fail("the playwright package is not installed")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright_driver):
    """One chromium for the whole e2e package (scoped so Playwright's loop stops after it)."""
    try:
        chromium = playwright_driver.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
        )
    except Exception as exc:  # noqa: BLE001 - any launch error means "no browser here"
        skip_or_fail(f"could not start {CHROMIUM}: {exc}")
    yield chromium
    chromium.close()


PHONE = {"width": 390, "height": 844}


def watched_page(context):
    """A new page of ``context`` that collects console errors, page errors, failed
    responses and (through the init script) CSP violations."""
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(_CSP_LISTENER)
    browser_page = context.new_page()
    browser_page.console_errors = []
    browser_page.page_errors = []
    browser_page.failed_responses = []
    browser_page.on(
        "console",
        lambda message: browser_page.console_errors.append(message.text) if message.type == "error" else None,
    )
    browser_page.on("pageerror", lambda error: browser_page.page_errors.append(str(error)))
    browser_page.on(
        "response",
        lambda response: (
            browser_page.failed_responses.append(f"{response.status} {response.url}")
            if response.status >= 400
            else None
        ),
    )
    return browser_page


@pytest.fixture
def phone_page(browser, live_server):
    """``phone_page(**context_options)`` → a watched page in a new 390×844 touch context
    (``is_mobile``), English unless the options say otherwise; closed after the test."""
    contexts = []

    def make(**options):
        options = {
            "locale": "en-US",
            "viewport": PHONE,
            "is_mobile": True,
            "has_touch": True,
            "device_scale_factor": 3,
            **options,
        }
        context = browser.new_context(base_url=live_server.url, **options)
        contexts.append(context)
        return watched_page(context)

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(request, browser, live_server):
    """A new context (own cookies) per test, English first, pointed at the live server."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-US",
        viewport={"width": 1280, "height": 900},
    )
    browser_page = watched_page(context)
    yield browser_page
    failed = any(
        getattr(request.node, f"report_{when}", None) is not None
        and getattr(request.node, f"report_{when}").failed
        for when in ("setup", "call")
    )
    if failed:
        RESULTS_DIR.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        # A screenshot that cannot be taken must never hide the real failure.
        with contextlib.suppress(Exception):
            browser_page.screenshot(path=str(RESULTS_DIR / f"{name}.png"), full_page=True)
    context.close()


def csp_violations(page) -> list[str]:
    """CSP violations reported in the current document plus any logged to the console."""
    in_document = page.evaluate("window.__cspViolations || []")
    in_console = [text for text in page.console_errors if "Content Security Policy" in text]
    return [*in_document, *in_console]


def login(page, username: str, password: str) -> None:
    """Sign in through the login form and wait until the signed-in navbar shows."""
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    if page.locator("[data-testid=user-menu]").count() == 0:
        raise AssertionError(f"login as {username!r} failed; still at {page.url}")


@pytest.fixture
def matrix_world(transactional_db, personas):
    """The role matrix's world, with the objects its routes build on first use (alerts,
    handover tasks, the pool, conflicts) built now, so every page has rows to show."""
    from config.tests.test_routes import build_world, declared_routes

    world = build_world(personas)
    for route in declared_routes().values():
        if route.kwargs:
            route.kwargs(world)
    return world

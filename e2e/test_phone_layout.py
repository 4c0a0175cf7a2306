"""Every page of the role matrix fits a 390 px phone, for a salesperson and a manager,
in English and in Chinese, and passes axe-core (WCAG 2.1 AA) there with no serious or
critical violation (a table scrolling sideways must be reachable by keyboard, say).

A mobile browser widens its layout viewport to a page that is too wide, so the test
compares ``document.documentElement.scrollWidth`` with the device width, not with
``innerWidth``. The world is the role matrix's (``config.tests.test_routes``), built
once; every declared GET page that answers the role with 200 and a full HTML document
is visited (exports, feeds, scripts and htmx fragments are no pages).

``PHONE_SHOTS=/tmp/shots pytest e2e/test_phone_layout.py`` also keeps a full-page
screenshot of every page, to look at with one's own eyes.
"""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from config.tests.test_routes import all_url_patterns, build_world, declared_routes

from .axe import serious_violations
from .conftest import PHONE, TIMEOUT_MS, login

PASSWORD = "correct-horse-battery"
ROLES = ("salesperson", "manager")
LANGUAGES = ("en", "zh-hans")

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The innermost elements sticking out past the right edge: what to fix on a failing page.
_STICKING_OUT = """(limit) => {
  const out = [...document.body.querySelectorAll("*")].filter(
    (el) => el.getBoundingClientRect().right > limit + 1 && !el.closest(".table-responsive"));
  const innermost = out.filter((el) => !out.some((other) => other !== el && el.contains(other)));
  return innermost.slice(0, 3).map((el) => {
    const classes = typeof el.className === "string" && el.className.trim()
      ? "." + el.className.trim().split(/\\s+/).join(".") : "";
    return el.tagName.toLowerCase() + classes + " «" + (el.textContent || "").trim().slice(0, 30) + "»";
  });
}"""


def _page_urls(world, role: str) -> list[tuple[str, str]]:
    """(route name, url) of every declared GET page (not the API, not Django's admin)
    that the role may open."""
    existing = {key for key, _, _ in all_url_patterns()}
    urls = []
    for name, route in sorted(declared_routes().items()):
        if name not in existing or route.method != "get" or route.expect.get(role) != 200:
            continue
        url = reverse(name, kwargs=route.kwargs(world) if route.kwargs else None) + route.query
        if not url.startswith(("/api/", "/admin/")):
            urls.append((name, url))
    return urls


def _is_page(answer) -> bool:
    return (
        answer.status == 200
        and "text/html" in answer.headers.get("content-type", "")
        and "<html" in answer.text()[:2000].lower()
    )


def _too_wide_or_inaccessible(page, urls, label: str, shots: Path | None) -> tuple[int, list[str]]:
    checked, failures = 0, []
    for name, url in urls:
        # Ask first: navigating to an export or a feed would start a download.
        if not _is_page(page.request.get(url, max_redirects=0)):
            continue
        page.goto(url, wait_until="load")
        checked += 1
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            culprits = "; ".join(page.evaluate(_STICKING_OUT, PHONE["width"]))
            failures.append(f"{label} {url} ({name}): {width}px — {culprits}")
        failures += [f"{label} {url} ({name}): {violation}" for violation in serious_violations(page)]
        if shots is not None:
            path = shots / f"{label.replace(' ', '-')}-{name.replace(':', '-')}.png"
            page.screenshot(path=str(path), full_page=True, scale="css")
    return checked, failures


def test_every_page_fits_a_390px_phone_and_passes_axe_there(browser, live_server, personas, capsys):
    world = build_world(personas)
    shots = Path(os.environ["PHONE_SHOTS"]) if os.environ.get("PHONE_SHOTS") else None
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    failures = []
    for role in ROLES:
        urls = _page_urls(world, role)
        for language in LANGUAGES:
            context = browser.new_context(
                viewport=PHONE,
                is_mobile=True,
                has_touch=True,
                device_scale_factor=3,
                locale="en-US",
                base_url=live_server.url,
            )
            context.set_default_timeout(TIMEOUT_MS)
            context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
            page = context.new_page()
            login(page, getattr(world.personas, role).username, PASSWORD)
            checked, wrong = _too_wide_or_inaccessible(page, urls, f"{role} {language}", shots)
            context.close()
            with capsys.disabled():  # shown in every run's output
                print(f"\n{role} ({language}): {checked} pages checked at {PHONE['width']} px")
            assert checked > 20, f"{role} ({language}): only {checked} pages were checked"
            failures += wrong
    assert not failures, "Pages wider than the phone or failing axe on it:\n" + "\n".join(failures)

"""The installable app: service worker, manifest, offline page, icons (``config/pwa.py``)."""

import json
import re
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from PIL import Image

from activities.models import Objection
from config import pwa

pytestmark = pytest.mark.django_db


class _Tags(HTMLParser):
    """Every start tag of a page, as (name, attributes)."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(html: str, name: str) -> list[dict]:
    parser = _Tags()
    parser.feed(html)
    return [attrs for tag, attrs in parser.tags if tag == name]


def worker_config(body: str) -> dict:
    match = re.search(r"^var CONFIG = (\{.*\});$", body, re.MULTILINE)
    assert match, "the worker's configuration is written in"
    return json.loads(match.group(1))


def assert_no_inline_script(html: str) -> None:
    """What the Content-Security-Policy (script-src 'self') allows: scripts from files
    only, no event-handler attributes, no javascript: links."""
    for script in tags(html, "script"):
        assert script.get("src") or script.get("type") == "application/json", script
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE)
    assert "javascript:" not in html


# --- The service worker -----------------------------------------------------------------


def test_the_worker_is_public_javascript_at_the_root_scope():
    response = Client().get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert pwa.SW_CONFIG_PLACEHOLDER not in response.content.decode()


def test_the_worker_caches_the_app_shell_and_keeps_copies_of_my_day_and_customer_pages():
    config = worker_config(Client().get("/sw.js").content.decode())

    assert re.fullmatch(r"[0-9a-f]{16}", config["version"])
    assert {
        "/static/js/offline.js",
        "/static/css/app.css",
        "/static/vendor/htmx/htmx.min.js",
        "/static/vendor/bootstrap/bootstrap.min.css",
    } <= set(config["shell"])
    assert config["offlineUrl"] == "/offline/"
    assert config["apiPrefix"] == "/api/"
    kept = [re.compile(pattern) for pattern in config["pages"]]
    for path in [
        "/",
        reverse("crm:customer-detail", args=[42]),
        reverse("activities:log-activity", args=[7]),
    ]:
        assert any(pattern.match(path) for pattern in kept), path
    for path in ["/customers/", "/api/activities/", "/customers/42/edit/", "/reports/"]:
        assert not any(pattern.match(path) for pattern in kept), path
    assert re.match(config["logFormPattern"], reverse("activities:log-activity", args=[7]))
    # A planned visit's check-in page is fetched ahead from my day; a copy of it is kept.
    check_in = reverse("activities:visit-check-in", args=[42])
    assert any(re.match(pattern, check_in) for pattern in config["warm"])
    assert any(pattern.match(check_in) for pattern in kept)


def test_the_worker_never_keeps_the_api_or_posts():
    body = Client().get("/sw.js").content.decode()

    # The fetch handler leaves the API and every non-GET to the network, untouched.
    assert "url.pathname.indexOf(CONFIG.apiPrefix) === 0) { return; }" in body
    assert 'if (request.method !== "GET")' in body


def test_the_worker_version_follows_the_app_shell_files(monkeypatch):
    before = worker_config(pwa._build_worker())["version"]

    monkeypatch.setattr(pwa, "_file_digest", lambda path: "changed" if path == "css/app.css" else "same")
    changed = worker_config(pwa._build_worker())["version"]

    assert changed != before
    assert worker_config(pwa._build_worker())["version"] == changed  # stable while nothing changes


def test_the_app_shell_lists_only_files_that_exist():
    for path in pwa.SHELL_STATIC:
        assert finders.find(path), path


# --- Manifest, icons, favicon -------------------------------------------------------------


def test_the_manifest_makes_the_app_installable():
    response = Client().get("/manifest.webmanifest")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == "Funnel CRM"
    assert manifest["short_name"]
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/", "/", "standalone")
    assert manifest["theme_color"] == pwa.THEME_COLOR
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon
        with Image.open(path) as image:
            assert f"{image.width}x{image.height}" == icon["sizes"]
            assert image.format == "PNG"


def test_the_manifest_speaks_the_users_language():
    manifest = json.loads(Client(headers={"accept-language": "zh-hans"}).get("/manifest.webmanifest").content)

    assert manifest["lang"] == "zh-hans"


def test_the_favicon_answers_at_the_root_for_pages_without_our_link():
    response = Client().get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_every_page_links_the_manifest_theme_colour_and_icons(client_as):
    html = client_as("salesperson").get("/").content.decode()

    links = {link["rel"]: link["href"] for link in tags(html, "link")}
    assert links["manifest"] == "/manifest.webmanifest"
    assert finders.find(links["icon"].removeprefix("/static/"))
    assert finders.find(links["apple-touch-icon"].removeprefix("/static/"))
    assert {"name": "theme-color", "content": pwa.THEME_COLOR} in tags(html, "meta")
    assert "/static/js/offline.js" in [script.get("src") for script in tags(html, "script")]
    panel = next(div for div in tags(html, "div") if "data-offline-panel" in div)
    assert (panel["data-sw"], panel["data-sw-scope"]) == ("/sw.js", "/")
    assert "Waiting to sync (%(count)s)" in panel["data-text-waiting"]
    assert_no_inline_script(html)


def test_the_login_page_links_the_favicon_too():
    html = Client().get(reverse("login")).content.decode()

    assert any(link["rel"] == "icon" for link in tags(html, "link"))


# --- The offline page and the offline "log a call" form -----------------------------------


def test_the_offline_page_is_public_and_shows_no_users_data(client_as, personas):
    signed_in = client_as("salesperson").get("/offline/")
    anonymous = Client().get("/offline/")

    assert signed_in.status_code == anonymous.status_code == 200
    html = signed_in.content.decode()
    assert "data-offline-page" in html
    assert "data-user=" not in html
    assert personas.salesperson.display_name not in html
    assert_no_inline_script(html)
    assert "script-src 'self'" in signed_in["Content-Security-Policy"]


def test_the_offline_page_in_chinese():
    html = Client(headers={"accept-language": "zh-hans"}).get("/offline/").content.decode()

    assert '<html lang="zh-hans">' in html


def test_the_offline_log_form_is_a_queued_form_for_any_customer(client_as):
    Objection.objects.create(name="Too expensive", answer="Move from price to value.")

    response = client_as("salesperson").get(reverse("pwa-offline-log-form"), headers={"hx-request": "true"})

    assert response.status_code == 200
    html = response.content.decode()
    form = tags(html, "form")[0]
    assert "data-offline-queue" in form and "data-offline-only" in form
    assert form["data-offline-api"] == reverse("activity-list")
    assert form["action"] == "/activities/customers/__CUSTOMER__/log/"
    assert (form["data-kind"], form["data-purpose"]) == ("__KIND__", "__PURPOSE__")
    inputs = {field.get("name"): field for field in tags(html, "input")}
    assert inputs["customer"]["value"] == "__CUSTOMER__"
    assert inputs["client_key"]["value"] == ""
    assert "Move from price to value." in html
    offsets = [
        button["data-quick-offset"] for button in tags(html, "button") if "data-quick-offset" in button
    ]
    assert offsets == ["1", "3", "7"]
    assert_no_inline_script(html)


def test_the_offline_log_form_needs_a_signed_in_user():
    response = Client().get(reverse("pwa-offline-log-form"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))

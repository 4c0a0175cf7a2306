"""The small ones of issue 17: CSP ``base-uri 'none'``, no ``Server`` header with a
version, no start without collected static files, and JSON 503 from the API while the
database is down (cookie prefixes: ``test_settings_modes.py``; chart tooltips:
``e2e/test_chart_escaping.py``)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from unittest import mock

import pytest
from django.conf import settings
from django.db.utils import InterfaceError, OperationalError
from django.test import Client, override_settings
from django.urls import reverse

from config.checks import static_files_collected
from config.tokens import issue_token

MANIFEST_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def _directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "url_name"), [("anonymous", "login"), ("salesperson", "home")])
def test_no_base_element_may_redirect_relative_urls(client_as, role, url_name):
    response = client_as(role).get(reverse(url_name))

    assert _directives(response)["base-uri"] == "'none'"


# --- Static files ---------------------------------------------------------------------------


def test_without_the_static_manifest_the_checks_refuse_to_start(tmp_path):
    with override_settings(DEBUG=False, STATIC_ROOT=tmp_path, STORAGES=MANIFEST_STORAGE):
        errors = static_files_collected(None)
        (tmp_path / "staticfiles.json").write_text(json.dumps({"paths": {}, "version": "1.1"}))
        collected = static_files_collected(None)

    assert [error.id for error in errors] == ["config.E001"]
    assert "collectstatic" in errors[0].hint
    assert collected == []


def test_development_and_plain_storages_need_no_manifest(tmp_path):
    with override_settings(DEBUG=True, STATIC_ROOT=tmp_path, STORAGES=MANIFEST_STORAGE):
        assert static_files_collected(None) == []
    assert static_files_collected(None) == []  # tests: StaticFilesStorage


def test_the_docker_image_collects_and_every_web_start_goes_through_the_checks():
    dockerfile = (settings.BASE_DIR / "Dockerfile").read_text()
    compose = (settings.BASE_DIR / "docker-compose.yml").read_text()
    procfile = (settings.BASE_DIR / "Procfile").read_text()

    assert "collectstatic --no-input" in dockerfile
    assert '"-c", "config/gunicorn.conf.py"' in dockerfile
    assert "--config=config/gunicorn.conf.py" in compose
    assert "gunicorn -c config/gunicorn.conf.py" in procfile.splitlines()[0]


# --- The Server header ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_application_adds_no_server_header(client_as):
    for response in (client_as("anonymous").get(reverse("login")), client_as("salesperson").get("/api/")):
        assert "Server" not in response


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_gunicorn_with_our_config_names_no_version(tmp_path):
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}},
        "DJANGO_ENV": "test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn config and app
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        headers = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2) as answer:
                    headers = answer.headers
                break
            except OSError:
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)

    assert headers is not None, server.stderr.read().decode()[-2000:]
    assert headers.get_all("Server") == ["gunicorn"]


# --- The database is down --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error", [OperationalError("could not connect to server"), InterfaceError("connection already closed")]
)
def test_api_calls_while_the_database_is_down_answer_json_503_with_retry_after(personas, error):
    _token, key = issue_token(user=personas.salesperson, via="test")
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {key}")

    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=error):
        response = client.get(reverse("customer-list"))

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "30"
    assert response.json() == {"detail": "The database is unavailable; try again in a minute."}


@pytest.mark.django_db
def test_other_api_server_errors_answer_json_and_pages_keep_the_html_page(personas, client_as, monkeypatch):
    from activities.api.views import MyDayView
    from activities.views import MyDayView as MyDayPage

    monkeypatch.setattr(MyDayView, "get", lambda view, request: 1 / 0)
    monkeypatch.setattr(MyDayPage, "get", lambda view, request: 1 / 0)
    client = client_as("salesperson")
    client.raise_request_exception = False

    api = client.get(reverse("my-day"))
    page = client.get(reverse("home"))

    assert (api.status_code, api.json()) == (500, {"detail": "A server error occurred."})
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")

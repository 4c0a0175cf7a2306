"""Settings by mode, each checked in a fresh process: production is strict, demos stay local."""

import json
import os
import secrets
import sqlite3
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow

PRODUCTION_HOST = "crm.example.com"


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run ``manage.py`` with only the given variables (the test run's settings must not leak in)."""
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def database_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'funnel.sqlite3'}"


@pytest.fixture
def collected_static(tmp_path) -> str:
    """A STATIC_ROOT as ``collectstatic`` leaves it, as far as start-up looks (its manifest)."""
    root = tmp_path / "staticfiles"
    root.mkdir()
    (root / "staticfiles.json").write_text(json.dumps({"paths": {}, "version": "1.1", "hash": ""}))
    return str(root)


@pytest.fixture
def production_env(database_url, collected_static) -> dict[str, str]:
    return {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": PRODUCTION_HOST,
        "DATABASE_URL": database_url,
        "STATIC_ROOT": collected_static,
    }


def _user_count(database_url: str) -> int:
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
        return db.execute("SELECT COUNT(*) FROM crm_user").fetchone()[0]


def test_production_passes_the_deploy_check_without_warnings(production_env):
    assert len(production_env["SECRET_KEY"]) >= 50

    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=production_env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr.upper()


def test_the_deploy_check_fails_on_a_warning(production_env):
    # The previous test means something only if a weak setting would fail it.
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**production_env, "SECURE_HSTS_SECONDS": "0"}
    )

    assert result.returncode != 0
    assert "security.W004" in result.stderr


PRODUCTION_RESPONSES = """
import json
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from crm.models import User

# No collectstatic here: plain static URLs (the manifest storage only changes file names).
override_settings(STORAGES={"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
call_command("migrate", verbosity=0)
User.objects.create_user("seller", password="a-long-enough-phrase", role="salesperson")
client = Client(HTTP_HOST=HOST)
plain = client.get("/accounts/login/")
login = client.post("/accounts/login/", {"username": "seller", "password": "a-long-enough-phrase"},
                    secure=True)
page = client.get("/accounts/password/", secure=True)
api = client.get("/api/customers/", secure=True)
cookies = {name: {flag: bool(login.cookies[name][flag]) for flag in ("secure", "httponly")}
           | {"samesite": login.cookies[name]["samesite"], "path": login.cookies[name]["path"],
              "domain": login.cookies[name]["domain"]}
           for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)}
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "login": login.status_code, "page": [page.status_code, dict(page.items())],
    "api": [api.status_code, api.get("Cache-Control")], "cookies": cookies,
}))
"""


def test_production_responses_carry_the_security_headers_and_secure_cookies(production_env):
    script = f"HOST = {PRODUCTION_HOST!r}\n{PRODUCTION_RESPONSES}"

    result = _manage("shell", "--verbosity", "0", "-c", script, env=production_env)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])

    # Plain HTTP is redirected to HTTPS.
    assert answers["plain"] == [301, f"https://{PRODUCTION_HOST}/accounts/login/"]
    assert answers["login"] == 302
    status, headers = answers["page"]
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"
    policy = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert answers["api"] == [200, "no-store"]  # customer data
    assert policy["base-uri"] == "'none'"
    # "__Host-" cookies: only from this host, over HTTPS, for the whole site (issue 17).
    assert set(answers["cookies"]) == {"__Host-sessionid", "__Host-csrftoken"}
    for cookie in answers["cookies"].values():
        assert cookie == {"secure": True, "httponly": True, "samesite": "Lax", "path": "/", "domain": ""}


def test_production_refuses_to_start_without_collected_static_files(production_env, tmp_path):
    empty = tmp_path / "not-collected"
    empty.mkdir()

    refused = _manage("check", env={**production_env, "STATIC_ROOT": str(empty)})
    migrate = _manage("migrate", "--no-input", env={**production_env, "STATIC_ROOT": str(empty)})
    collected = _manage("check", env=production_env)

    assert refused.returncode != 0
    assert "config.E001" in refused.stderr and "collectstatic" in refused.stderr
    assert migrate.returncode != 0
    assert collected.returncode == 0, collected.stderr


def test_production_requires_two_factor_authentication_for_admins_and_managers(production_env):
    script = "from django.conf import settings; print(','.join(settings.MFA_REQUIRED_ROLES))"

    production = _manage("shell", "--verbosity", "0", "-c", script, env=production_env)
    local = _manage("shell", "--verbosity", "0", "-c", script, env={**production_env, "DJANGO_ENV": "local"})

    assert production.stdout.strip() == "admin,manager"
    assert local.stdout.strip() == ""


def test_production_refuses_to_start_without_a_secret_key(production_env):
    env = {name: value for name, value in production_env.items() if name != "SECRET_KEY"}

    result = _manage("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set in production" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts(production_env):
    env = {name: value for name, value in production_env.items() if name != "ALLOWED_HOSTS"}

    result = _manage("check", env=env)

    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set in production" in result.stderr


def test_an_unknown_mode_is_refused_by_name(production_env):
    result = _manage("check", env={**production_env, "DJANGO_ENV": "prod"})

    assert result.returncode != 0
    assert "DJANGO_ENV must be local, test or production, not 'prod'" in result.stderr


@pytest.mark.parametrize("mode, debug", [("production", "False"), ("local", "True")])
def test_debug_is_off_in_production_and_on_for_local_development(production_env, mode, debug):
    script = "from django.conf import settings; print(settings.DEBUG, settings.SESSION_COOKIE_SECURE)"

    result = _manage("shell", "--verbosity", "0", "-c", script, env={**production_env, "DJANGO_ENV": mode})

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [debug, str(mode == "production")]


def test_seed_demo_refuses_in_production_and_creates_no_users(production_env, database_url):
    migrated = _manage("migrate", "--no-input", env=production_env)
    assert migrated.returncode == 0, migrated.stderr

    result = _manage("seed_demo", env=production_env)

    assert result.returncode != 0
    assert "never created in production" in result.stderr
    assert _user_count(database_url) == 0

    # The same command on the same database works in development mode.
    local = _manage("seed_demo", env={**production_env, "DJANGO_ENV": "local"})
    assert local.returncode == 0, local.stderr
    assert _user_count(database_url) > 0


def test_production_counts_rate_limits_in_redis_shared_by_every_process(production_env):
    script = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"

    redis = _manage(
        "shell",
        "--verbosity",
        "0",
        "-c",
        script,
        env={**production_env, "REDIS_URL": "redis://127.0.0.1:6379/0"},
    )

    assert redis.returncode == 0, redis.stderr
    assert redis.stdout.strip() == "django.core.cache.backends.redis.RedisCache"

"""Shared personas and role helpers for every app's tests.

The personas form two teams with a sub-team, so every visibility test can ask the
same question of each role: salesperson, teammate, their manager, another team's
salesperson and manager, an admin, a deactivated user and an anonymous visitor.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from django.urls.resolvers import URLResolver

from crm.models import Role, User
from crm.tests.factories import TeamFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

ROLES = (
    "anonymous",
    "salesperson",
    "teammate",
    "sub_salesperson",
    "manager",
    "other_salesperson",
    "other_manager",
    "admin",
    "deactivated",
)


EVERYDAY_RUN = "not slow"


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """The everyday run, ``pytest -m "not slow"``, spreads over the cores (pytest-xdist, one
    worker per core) unless a worker count is given (``-n 0`` runs it in one process): a
    minute and a half on two cores instead of three and a half. Before xdist's own hook,
    which then starts the workers; ``make test`` and CI name no marker and run as before."""
    if (
        config.getoption("markexpr", "").strip() == EVERYDAY_RUN
        and config.pluginmanager.has_plugin("xdist")
        and config.getoption("numprocesses", None) is None
        and "PYTEST_XDIST_WORKER" not in os.environ
    ):
        config.option.numprocesses = "auto"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """A browser journey is slow: the everyday ``pytest -m "not slow"`` leaves them all out
    (before ``-m`` deselects), ``make test`` and CI run them."""
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.slow)


def skip_or_fail(reason: str) -> None:
    """Skip a test whose service is missing on a laptop; in CI a missing service fails."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: required here)")
    pytest.skip(reason)


def at_once(*calls) -> list:
    """Run each call in its own thread, so on its own database connection, all released
    together by a barrier; returns their results in order (an error is re-raised here).
    Each thread closes its connections, or a transactional test cannot flush."""
    from django.db import connections

    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=10)
            return call()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [future.result(timeout=60) for future in futures]


def race(*attempts, refusal: type[Exception]) -> list[str]:
    """``at_once`` for attempts at the same change: each one "won" or was "refused"
    (raised ``refusal``), sorted so a test asserts e.g. ``["refused", "won"]``."""

    def outcome(attempt):
        try:
            attempt()
        except refusal:
            return "refused"
        return "won"

    return sorted(at_once(*[lambda attempt=attempt: outcome(attempt) for attempt in attempts]))


@dataclass
class Personas:
    salesperson: User
    teammate: User
    sub_salesperson: User
    manager: User
    other_salesperson: User
    other_manager: User
    admin: User
    deactivated: User

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)


def make_personas() -> Personas:
    """East (with sub-team East North) managed by ``manager``; West by ``other_manager``."""
    east = TeamFactory(name="East")
    east_north = TeamFactory(name="East North", parent=east)
    west = TeamFactory(name="West")
    manager = UserFactory(username="manager", role=Role.MANAGER, team=east)
    other_manager = UserFactory(username="other_manager", role=Role.MANAGER, team=west)
    east.manager = manager
    east.save()
    west.manager = other_manager
    west.save()
    return Personas(
        salesperson=UserFactory(username="salesperson", team=east),
        teammate=UserFactory(username="teammate", team=east),
        sub_salesperson=UserFactory(username="sub_salesperson", team=east_north),
        manager=manager,
        other_salesperson=UserFactory(username="other_salesperson", team=west),
        other_manager=other_manager,
        admin=UserFactory(username="admin", role=Role.ADMIN, team=None, is_staff=True, is_superuser=True),
        deactivated=UserFactory(username="deactivated", team=east),
    )


def sign_in(client, personas: Personas, role: str):
    """``client`` signed in as that persona (anonymous: left signed out)."""
    user = personas.user(role)
    if user is not None:
        client.force_login(user)
    return client


def deactivate_after_sign_in(personas: Personas, role: str) -> None:
    """``deactivated`` signs in first and is deactivated afterwards, so its requests
    prove that an existing session is refused on the very next request."""
    if role == "deactivated":
        User.objects.filter(pk=personas.deactivated.pk).update(is_active=False)


@pytest.fixture
def personas(db) -> Personas:
    """The personas (``make_personas``), made afresh for each test."""
    return make_personas()


@pytest.fixture
def client_as(personas):
    """``client_as(role)`` → a test client signed in as that persona (``sign_in``), the
    deactivated one deactivated once signed in (``deactivate_after_sign_in``)."""
    from django.test import Client

    def make(role: str) -> Client:
        role_client = sign_in(Client(), personas, role)
        deactivate_after_sign_in(personas, role)
        return role_client

    return make


@pytest.fixture
def url_reversals(monkeypatch) -> list:
    """Grows by one entry per URL reversed (``reverse``, ``{% url %}``): for tests that a
    page's links cost the same whatever its number of rows."""
    reversals = []
    original = URLResolver._reverse_with_prefix
    monkeypatch.setattr(
        URLResolver,
        "_reverse_with_prefix",
        lambda *args, **kwargs: reversals.append(1) or original(*args, **kwargs),
    )
    return reversals


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters (failed log-ins, the duplicate check) live in the cache, local
    memory in tests: each test starts with none counted."""
    from django.core.cache import cache

    cache.clear()

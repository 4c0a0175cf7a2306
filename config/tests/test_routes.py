"""Route coverage and the role matrix (see ``route_matrix.py``)."""

import importlib
from http.cookies import SimpleCookie
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from conftest import ROLES, Personas, deactivate_after_sign_in, make_personas, sign_in

from .route_matrix import PREFIX_RULES, Route, sampled_by_prefix_rule

APP_ROUTE_MODULES = [
    "config.tests.routes",
    "crm.tests.routes",
    "funnel.tests.routes",
    "activities.tests.routes",
    "reports.tests.routes",
    "crm.tests.routes_imports",
]


def _route_modules():
    return [importlib.import_module(name) for name in APP_ROUTE_MODULES]


def declared_routes() -> dict[str, Route]:
    routes: dict[str, Route] = {}
    for module in _route_modules():
        for route in module.ROUTES:
            assert route.name not in routes, f"{route.name} declared twice"
            routes[route.name] = route
    return routes


def all_url_patterns(resolver=None, namespace="", prefix=""):
    """Yield (key, pattern string, needs_args) for every URL pattern of the project."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from all_url_patterns(pattern, ns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            full = prefix + str(pattern.pattern)
            key = f"{namespace}{pattern.name}" if pattern.name else full
            yield key, full, bool(pattern.pattern.regex.groupindex) or "(?P<" in full


def _rule_for(key: str, declared: dict[str, Route]) -> Route | None:
    if key in declared:
        return declared[key]
    for prefix, rule in PREFIX_RULES.items():
        if key.startswith(prefix):
            return rule
    return None


def test_every_url_pattern_is_declared_in_the_role_matrix():
    declared = declared_routes()
    missing = sorted({key for key, _, _ in all_url_patterns() if _rule_for(key, declared) is None})
    assert not missing, (
        "These routes have no role expectations; declare them in <app>/tests/routes.py: " + ", ".join(missing)
    )


def test_every_declaration_names_a_real_route():
    keys = {key for key, _, _ in all_url_patterns()}
    stale = sorted(name for name in declared_routes() if name not in keys)
    assert not stale, f"Declared but no such route: {stale}"


def build_world(personas) -> SimpleNamespace:
    """Every app's objects (``build_world`` of its routes module), and those its routes
    build on first use (alerts, handover tasks, the pool, conflicts) built now."""
    world = SimpleNamespace(personas=personas)
    for module in _route_modules():
        builder = getattr(module, "build_world", None)
        if builder:
            builder(world)
    for route in declared_routes().values():
        if route.kwargs:
            route.kwargs(world)
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The personas and the world, built once for this module in a transaction rolled back
    after its last test. Each test's own transaction (``db``) is a savepoint inside it, so
    whatever a request changes is undone before the next test."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world(make_personas())
        transaction.set_rollback(True)


class RoleClients:
    """One test client per persona, signed in once for the module: a client loads the
    middleware (WhiteNoise reads the static files) on its first request, and a sign-in
    writes a session — both too slow to repeat for every role of every route."""

    def __init__(self, personas: Personas):
        self.personas = personas
        self.clients = {role: sign_in(Client(), personas, role) for role in ROLES}
        self.cookies = {
            role: {name: morsel.value for name, morsel in client.cookies.items()}
            for role, client in self.clients.items()
        }

    def __call__(self, role: str) -> Client:
        """The role's client with only its sign-in cookie (what earlier requests set is gone)."""
        client = self.clients[role]
        client.cookies = SimpleCookie(self.cookies[role])
        deactivate_after_sign_in(self.personas, role)
        return client


@pytest.fixture(scope="module")
def client_as_role(world, django_db_blocker) -> RoleClients:
    with django_db_blocker.unblock():
        return RoleClients(world.personas)


def _request(client, route: Route, world):
    url = reverse(route.name, kwargs=route.kwargs(world) if route.kwargs else None) + route.query
    data = route.data(world) if route.data else None
    if route.method == "get":
        return client.get(url, data)
    return (
        getattr(client, route.method)(url, data, content_type="application/json")
        if url.startswith("/api/")
        else getattr(client, route.method)(url, data)
    )


def _cases():
    declared = declared_routes()
    seen = set()
    for key, _, needs_args in all_url_patterns():
        route = _rule_for(key, declared)
        if route is None or key in seen:
            continue
        if key not in declared and (needs_args or not sampled_by_prefix_rule(key)):
            continue
        if key not in declared:
            route = Route(key, route.expect)
        seen.add(key)
        yield route


@pytest.mark.parametrize("route", list(_cases()), ids=lambda r: r.name)
def test_route_answers_each_role_as_declared(route, world, client_as_role, db):
    wrong = {}
    for role in ROLES:
        # A write route's changes are undone after each role (``Route.mutates``).
        with transaction.atomic():
            response = _request(client_as_role(role), route, world)
            transaction.set_rollback(route.mutates)
        if response.status_code != route.expect[role]:
            wrong[role] = f"got {response.status_code}, expected {route.expect[role]}"
    assert not wrong, f"{route.name}: {wrong}"

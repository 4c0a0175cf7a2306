"""Route coverage and the role matrix (see ``route_matrix.py``)."""

import importlib
from types import SimpleNamespace

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from conftest import ROLES

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
    world = SimpleNamespace(personas=personas)
    for module in _route_modules():
        builder = getattr(module, "build_world", None)
        if builder:
            builder(world)
    return world


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
def test_route_answers_each_role_as_declared(route, personas, client_as):
    world = build_world(personas)
    wrong = {}
    for role in ROLES:
        if route.mutates and role != ROLES[0]:
            world = build_world(personas)
        response = _request(client_as(role), route, world)
        if response.status_code != route.expect[role]:
            wrong[role] = f"got {response.status_code}, expected {route.expect[role]}"
    assert not wrong, f"{route.name}: {wrong}"

"""The role matrix: every URL of the project declares what each role gets.

Each app lists its routes in ``<app>/tests/routes.py`` as ``ROUTES`` (and may add
objects to the shared world with ``build_world``). ``test_routes.py`` fails when
any URL pattern has no declaration, and requests every declared route as every
persona, so no later route can slip in untested.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

ANON = ("anonymous", "deactivated")
SIGNED_IN = (
    "salesperson",
    "teammate",
    "sub_salesperson",
    "manager",
    "other_salesperson",
    "other_manager",
    "admin",
)


def expect(default: int, anonymous: int, **by_role: int) -> dict[str, int]:
    """Expected status per role: ``default`` for signed-in roles unless overridden."""
    result = dict.fromkeys(ANON, anonymous)
    result.update(dict.fromkeys(SIGNED_IN, default))
    result.update(by_role)
    return result


# Pages: anonymous and deactivated sessions are sent to the login page.
PAGE = expect(200, 302)
PAGE_MANAGERS = expect(403, 302, manager=200, other_manager=200, admin=200)
PAGE_ADMIN = expect(403, 302, admin=200)
# A page about a row owned by ``salesperson`` (team East): only they, their
# manager (team tree) and the admin see it; everyone else gets 404.
PAGE_OWNED = expect(404, 302, salesperson=200, manager=200, admin=200)
# API: anonymous and deactivated get 401 (token auth's challenge).
API = expect(200, 401)
API_MANAGERS = expect(403, 401, manager=200, other_manager=200, admin=200)
API_ADMIN = expect(403, 401, admin=200)
API_OWNED = expect(404, 401, salesperson=200, manager=200, admin=200)
PUBLIC = dict.fromkeys((*ANON, *SIGNED_IN), 200)


@dataclass(frozen=True)
class Route:
    name: str
    expect: dict[str, int]
    method: str = "get"
    kwargs: Callable[[SimpleNamespace], dict[str, Any]] | None = None
    data: Callable[[SimpleNamespace], dict[str, Any]] | None = None
    query: str = ""
    # Writes change the world: each role's request is undone (a savepoint rolled back)
    # before the next role's, so every role meets the same world.
    mutates: bool = False
    note: str = field(default="", compare=False)


# Prefixes (of URL names, or of the route for unnamed patterns) whose every pattern
# shares one rule. Django admin: only admins get in; everyone else is redirected.
PREFIX_RULES = {
    "admin:": Route("admin:", expect(302, 302, admin=200)),
    "admin/": Route("admin/", expect(302, 302, admin=200)),
}


def sampled_by_prefix_rule(key: str) -> bool:
    """Which prefix-covered routes the matrix requests: the admin index and every
    model's change list (add/change pages depend on per-model permissions)."""
    return key == "admin:index" or key.endswith("_changelist")

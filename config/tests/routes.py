"""Role expectations for the project-level routes (see ``route_matrix.py``)."""

from .route_matrix import API, PAGE, PUBLIC, Route, expect


def build_world(world) -> None:
    """An API token of ``salesperson`` (only its owner may revoke it)."""
    from config.tokens import issue_token

    world.api_token, _key = issue_token(user=world.personas.salesperson, name="laptop", via="test")


def _api_token(w):
    return {"pk": w.api_token.pk}


ROUTES = [
    Route("home", PAGE),
    Route("healthz", PUBLIC),
    # The installable app: the worker, the manifest, the offline page and the favicon are
    # public (fetched by the browser itself); the offline "log a call" form lists the
    # objection catalog, so it needs a signed-in user.
    Route("pwa-service-worker", PUBLIC),
    Route("pwa-manifest", PUBLIC),
    Route("pwa-offline", PUBLIC),
    Route("pwa-offline-log-form", PAGE),
    Route("favicon", PUBLIC),
    # set_language works for anyone (the login page has the switch) and redirects.
    Route(
        "set_language",
        dict.fromkeys(PUBLIC, 302),
        method="post",
        data=lambda w: {"language": "zh-hans", "next": "/"},
    ),
    Route("login", expect(302, 200), note="signed-in users are sent on to their home page"),
    Route("logout", dict.fromkeys(PUBLIC, 302), method="post"),
    Route("password_change", PAGE),
    # Security page and two-factor steps (MFA_REQUIRED_ROLES is empty in tests; the
    # required flows are in test_mfa.py). Nobody in the world has a device yet, so
    # verify sends on to setup, and renewing codes or turning 2FA off redirect back.
    Route("account-security", PAGE),
    Route("account-api-token", expect(200, 302), method="post", mutates=True),
    Route(
        "account-api-token-revoke",
        expect(404, 302, salesperson=302),
        method="post",
        mutates=True,
        kwargs=_api_token,
        note="one's own tokens only; an admin revokes others' in the admin",
    ),
    Route("mfa-verify", dict.fromkeys(PUBLIC, 302)),
    Route("mfa-setup", PAGE),
    Route("mfa-recovery-codes", dict.fromkeys(PUBLIC, 302), method="post", mutates=True),
    Route("mfa-disable", dict.fromkeys(PUBLIC, 302), method="post", mutates=True),
    # Django admin's own login/logout pages (every other admin route: PREFIX_RULES).
    Route("admin:login", expect(200, 200, admin=302)),
    Route("admin:logout", dict.fromkeys(PUBLIC, 302), method="post"),
    Route("api-root", API),
    Route("api-schema", API),
    Route("api-docs", API),
    Route("api-token", dict.fromkeys(PUBLIC, 400), method="post", data=lambda w: {}),
    # Logout ends the credential it came with (here the session): 204.
    Route("api-logout", expect(204, 401), method="post", mutates=True),
    Route("apitoken-list", API),
    Route(
        "apitoken-detail", expect(404, 401, salesperson=204), method="delete", mutates=True, kwargs=_api_token
    ),
    Route("user-list", API),
    Route(
        "user-detail",
        expect(404, 401, salesperson=200, manager=200, admin=200),
        kwargs=lambda w: {"pk": w.personas.salesperson.pk},
    ),
    Route("team-list", API),
    Route(
        "team-detail",
        expect(404, 401, salesperson=200, teammate=200, manager=200, admin=200, deactivated=401),
        kwargs=lambda w: {"pk": w.personas.salesperson.team_id},
    ),
]

"""Role expectations for the project-level routes (see ``route_matrix.py``)."""
from .route_matrix import API, PAGE, PUBLIC, Route, expect

ROUTES = [
    Route("home", PAGE),
    Route("healthz", PUBLIC),
    # set_language works for anyone (the login page has the switch) and redirects.
    Route("set_language", dict.fromkeys(PUBLIC, 302), method="post",
          data=lambda w: {"language": "zh-hans", "next": "/"}),
    Route("login", expect(302, 200), note="signed-in users are sent on to their home page"),
    Route("logout", dict.fromkeys(PUBLIC, 302), method="post"),
    Route("password_change", PAGE),
    # Django admin's own login/logout pages (every other admin route: PREFIX_RULES).
    Route("admin:login", expect(200, 200, admin=302)),
    Route("admin:logout", dict.fromkeys(PUBLIC, 302), method="post"),
    Route("api-root", API),
    Route("api-schema", API),
    Route("api-docs", API),
    Route("api-token", dict.fromkeys(PUBLIC, 400), method="post", data=lambda w: {}),
    Route("user-list", API),
    Route("user-detail", expect(404, 401, salesperson=200, manager=200, admin=200),
          kwargs=lambda w: {"pk": w.personas.salesperson.pk}),
    Route("team-list", API),
    Route("team-detail", expect(404, 401, salesperson=200, teammate=200, manager=200, admin=200,
                                deactivated=401),
          kwargs=lambda w: {"pk": w.personas.salesperson.team_id}),
]

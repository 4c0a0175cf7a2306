"""The API's promises: authentication, token login, visibility scoping, schema and offline docs."""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from knox.crypto import hash_token
from openapi_spec_validator import validate

from config.models import ApiToken
from config.tokens import issue_token
from crm.tests.factories import UserFactory

PASSWORD = "correct-horse-battery"  # the factories' password


def _token_client(user) -> Client:
    _token, key = issue_token(user=user, via="test")
    return Client(HTTP_AUTHORIZATION=f"Token {key}")


def _usernames(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["username"] for row in response.json()["results"]}


def _team_names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["results"]}


# --- Authentication -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name, kwargs",
    [
        ("api-root", None),
        ("user-list", None),
        ("team-list", None),
        ("api-schema", None),
        ("api-docs", None),
    ],
)
def test_anonymous_calls_are_answered_401_with_a_token_challenge(personas, url_name, kwargs):
    response = Client().get(reverse(url_name, kwargs=kwargs))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_anonymous_detail_call_is_answered_401(personas):
    response = Client().get(reverse("user-detail", kwargs={"pk": personas.salesperson.pk}))

    assert response.status_code == 401


@pytest.mark.django_db
def test_token_login_returns_a_token_that_authenticates(personas):
    response = Client().post(reverse("api-token"), {"username": "salesperson", "password": PASSWORD})

    assert response.status_code == 200
    token = response.json()["token"]
    assert ApiToken.objects.get(digest=hash_token(token)).user == personas.salesperson
    users = Client().get(reverse("user-list"), HTTP_AUTHORIZATION=f"Token {token}")
    assert _usernames(users) == {"salesperson"}


@pytest.mark.django_db
def test_token_login_returns_a_new_token_each_time(personas):
    # Each device logs in for its own token (it used to hand back the same key).
    first = Client().post(reverse("api-token"), {"username": "salesperson", "password": PASSWORD})
    second = Client().post(reverse("api-token"), {"username": "salesperson", "password": PASSWORD})

    assert first.json()["token"] != second.json()["token"]
    assert first.json()["id"] != second.json()["id"]
    assert ApiToken.objects.filter(user=personas.salesperson).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {"username": "salesperson", "password": "not-the-password"},
        {"username": "nobody", "password": PASSWORD},
        {"username": "salesperson"},
        {},
    ],
)
def test_token_login_with_bad_credentials_answers_400_without_a_token(personas, data):
    response = Client().post(reverse("api-token"), data)

    assert response.status_code == 400
    assert "token" not in response.json()
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_token_login_of_a_deactivated_user_answers_400(personas):
    personas.deactivated.is_active = False
    personas.deactivated.save()

    response = Client().post(reverse("api-token"), {"username": "deactivated", "password": PASSWORD})

    assert response.status_code == 400


@pytest.mark.django_db
def test_an_unknown_token_answers_401(personas):
    response = Client().get(reverse("user-list"), HTTP_AUTHORIZATION="Token " + "0" * 40)

    assert response.status_code == 401


# --- Scoping ------------------------------------------------------------------------

EAST_TREE = {"manager", "salesperson", "teammate", "sub_salesperson", "deactivated"}
EVERYONE = EAST_TREE | {"other_salesperson", "other_manager", "admin"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, expected",
    [
        ("salesperson", {"salesperson"}),
        ("sub_salesperson", {"sub_salesperson"}),
        ("manager", EAST_TREE),
        ("other_manager", {"other_manager", "other_salesperson"}),
        ("admin", EVERYONE),
    ],
)
def test_user_list_shows_exactly_the_visible_colleagues(client_as, role, expected):
    assert _usernames(client_as(role).get(reverse("user-list"))) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, status",
    [
        ("salesperson", 404),
        ("teammate", 404),
        ("other_manager", 404),
        ("manager", 200),
        ("admin", 200),
    ],
)
def test_user_detail_outside_the_scope_is_not_found(client_as, personas, role, status):
    url = reverse("user-detail", kwargs={"pk": personas.sub_salesperson.pk})

    assert client_as(role).get(url).status_code == status


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, expected",
    [
        ("salesperson", {"East"}),
        ("sub_salesperson", {"East North"}),
        ("manager", {"East", "East North"}),
        ("other_salesperson", {"West"}),
        ("other_manager", {"West"}),
        ("admin", {"East", "East North", "West"}),
    ],
)
def test_team_list_shows_own_team_and_the_managed_tree(client_as, role, expected):
    assert _team_names(client_as(role).get(reverse("team-list"))) == expected


@pytest.mark.django_db
def test_user_search_matches_username_and_names_within_the_scope(client_as, personas):
    personas.sub_salesperson.first_name = "Meiling"
    personas.sub_salesperson.save()
    personas.other_salesperson.first_name = "Meiling"
    personas.other_salesperson.save()
    manager = client_as("manager")

    assert _usernames(manager.get(reverse("user-list"), {"search": "teammate"})) == {"teammate"}
    assert _usernames(manager.get(reverse("user-list"), {"search": "meiling"})) == {"sub_salesperson"}
    assert _usernames(manager.get(reverse("user-list"), {"search": "other_"})) == set()
    admin = client_as("admin")
    assert _usernames(admin.get(reverse("user-list"), {"search": "meiling"})) == {
        "sub_salesperson",
        "other_salesperson",
    }


@pytest.mark.django_db
def test_user_search_by_last_name(client_as, personas):
    personas.teammate.last_name = "Zhangsun"
    personas.teammate.save()

    response = client_as("manager").get(reverse("user-list"), {"search": "zhangsun"})

    assert _usernames(response) == {"teammate"}


@pytest.mark.django_db
def test_user_list_queries_do_not_grow_with_the_team(personas, django_assert_num_queries):
    client = _token_client(personas.manager)
    # token + user, the team tree, the page count, the page of users (team joined)
    with django_assert_num_queries(4):
        assert len(_usernames(client.get(reverse("user-list")))) == len(EAST_TREE)

    UserFactory.create_batch(10, team=personas.salesperson.team)
    client = _token_client(personas.manager)
    with django_assert_num_queries(4):
        assert len(_usernames(client.get(reverse("user-list")))) == len(EAST_TREE) + 10


# --- Schema and docs ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "how",
    [
        {"data": {"format": "json"}},
        {"HTTP_ACCEPT": "application/vnd.oai.openapi+json"},
    ],
)
def test_schema_is_a_valid_openapi_3_document(client_as, how):
    response = client_as("salesperson").get(reverse("api-schema"), **how)

    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    validate(spec)  # raises OpenAPIValidationError on an invalid document
    assert {"/api/users/", "/api/teams/", "/api/auth/token/"} <= set(spec["paths"])


class _AssetParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src") is not None:
            self.urls.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])
        elif tag == "script":
            self.urls.append("inline-script")
        elif tag == "style":  # the Content-Security-Policy allows no inline style
            self.urls.append("inline-style")


@pytest.mark.django_db
def test_docs_load_only_local_static_files_that_exist(client_as):
    response = client_as("salesperson").get(reverse("api-docs"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    parser = _AssetParser()
    parser.feed(response.content.decode())
    assert parser.urls, "the docs page loads no scripts or styles"
    assert "inline-script" not in parser.urls and "inline-style" not in parser.urls
    static_prefix = "/" + settings.STATIC_URL.lstrip("/")
    for url in parser.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{url} is loaded from another host"
        if parts.path.startswith(static_prefix):
            assert finders.find(parts.path.removeprefix(static_prefix)), f"{url} is not a static file"
        else:
            assert parts.path == reverse("api-docs"), f"{url} is neither static nor the docs script"


@pytest.mark.django_db
def test_docs_script_points_at_the_local_schema_and_calls_no_other_host(client_as):
    response = client_as("salesperson").get(reverse("api-docs"), {"script": ""})

    assert response.status_code == 200
    script = response.content.decode()
    assert f'url: "{reverse("api-schema")}"' in script
    # Swagger UI would otherwise fetch a badge from validator.swagger.io.
    assert re.search(r'"validatorUrl":\s*null', script)
    assert not re.search(r"https?://", script)


# --- Error answers (each found by the schemathesis fuzz test, test_api_fuzz.py) ----------

ERROR = {"$ref": "#/components/schemas/Error"}
VALIDATION_ERROR = {"$ref": "#/components/schemas/ValidationError"}


def _json_schema(response: dict) -> dict:
    return response["content"]["application/json"]["schema"]


@pytest.mark.django_db
def test_the_schema_documents_every_error_answer_with_its_body(client_as):
    paths = client_as("salesperson").get(reverse("api-schema"), {"format": "json"}).json()["paths"]

    detail = paths["/api/customers/{id}/"]["get"]["responses"]
    create = paths["/api/customers/"]["post"]["responses"]
    reassign = paths["/api/customers/{id}/reassign/"]["post"]["responses"]
    assert {status: _json_schema(detail[status]) for status in ("401", "403", "404")} == dict.fromkeys(
        ("401", "403", "404"), ERROR
    )
    assert (_json_schema(create["400"]), _json_schema(create["415"])) == (VALIDATION_ERROR, ERROR)
    # A view's own error status (someone else moved the customer) gets the same body.
    assert _json_schema(reassign["409"]) == ERROR


@pytest.mark.django_db
def test_the_schema_says_a_pool_customer_has_no_owner_name(client_as):
    schemas = client_as("salesperson").get(reverse("api-schema"), {"format": "json"}).json()["components"]

    assert schemas["schemas"]["Customer"]["properties"]["owner_name"]["nullable"] is True


@pytest.mark.django_db
def test_an_api_url_no_route_matches_answers_the_apis_json_404(client_as):
    api = client_as("salesperson").get("/api/customers/not-a-number/")
    page = client_as("salesperson").get("/customers/not-a-number/")

    assert (api.status_code, api["Content-Type"]) == (404, "application/json")
    assert api.json() == {"detail": "Not found."}
    assert (page.status_code, page["Content-Type"]) == (404, "text/html; charset=utf-8")


@pytest.mark.django_db
def test_a_request_django_refuses_before_drf_answers_the_apis_json_400(client_as, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3

    response = client_as("manager").post(reverse("customer-bulk-reassign"), {"customers": [1, 2, 3, 4]})

    assert (response.status_code, response["Content-Type"]) == (400, "application/json")
    assert set(response.json()) == {"detail"}


@pytest.mark.django_db
def test_a_bare_validation_message_comes_in_the_field_messages_shape(client_as):
    # DRF's search filter refuses a NUL character with a bare list of messages.
    response = client_as("salesperson").get(reverse("user-list"), {"search": "\x00"})

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]

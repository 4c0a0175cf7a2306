"""Fuzzing the API with schemathesis, as a salesperson, a manager and an admin.

Every operation of ``/api/schema/`` gets generated requests, valid and invalid (bounded:
``EXAMPLES_PER_OPERATION`` each, no shrinking), sent with the role's token to the WSGI
app inside the test's transaction (rolled back at the end, like any test's rows). Every
answer must be no server error, and have a status, content type and body the schema
documents. Path ids are often those of real rows of the route matrix's world, so detail
and action routes get past their 404.
Locally each run draws new examples; in CI Hypothesis's ``ci`` profile makes them
repeatable. Schemathesis's message for each failing operation ends with a ``curl``
command that reproduces it.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, models, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from activities.api.views import MyDayView
from config.tokens import issue_token
from config.wsgi import application
from crm.api.serializers import CustomerSerializer
from crm.tests.factories import CustomerFactory

from .test_routes import build_world

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 15


def _row_ids(world) -> list[int]:
    rows = [*vars(world).values(), *vars(world.personas).values()]
    return sorted({row.pk for row in rows if isinstance(row, models.Model)})


@pytest.fixture
def connection_kept_open():
    """What Django's test client does: requests sent straight to the WSGI app must not
    close the test's database connection (and its transaction) as they start and end."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def fuzz_operation(operation, *, headers: dict[str, str], ids: list[int]) -> None:
    """Raise schemathesis's failure group if any generated call breaks a check."""
    cases = st.one_of([operation.as_strategy(generation_mode=mode) for mode in GenerationMode])

    @given(case=cases, real_id=st.sampled_from([None, *ids]))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case, real_id):
        if real_id is not None and case.path_parameters:
            case.path_parameters = dict.fromkeys(case.path_parameters, real_id)
        # A savepoint per call, as a request on its own would have: a failed query then
        # spoils only this call, not the test's transaction for every later one.
        with transaction.atomic():
            case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def _token_headers(user) -> dict[str, str]:
    _token, key = issue_token(user=user, via="test")
    return {"Authorization": f"Token {key}"}


def _schema_as(user):
    headers = _token_headers(user)
    return schemathesis.openapi.from_wsgi("/api/schema/", application, headers=headers), headers


def _break_my_day(monkeypatch):
    monkeypatch.setattr(MyDayView, "get", lambda view, request: 1 / 0)


def _break_customer_names(monkeypatch):
    represent = CustomerSerializer.to_representation
    monkeypatch.setattr(
        CustomerSerializer,
        "to_representation",
        lambda serializer, customer: {**represent(serializer, customer), "name": 42},
    )


@pytest.mark.slow  # drives schemathesis, like the fuzz test it proves
@pytest.mark.parametrize(
    ("path", "breakage", "failure"),
    [
        ("/api/my-day/", _break_my_day, "Server error"),
        ("/api/customers/", _break_customer_names, "Response violates schema"),
    ],
    ids=["server-error", "undocumented-body"],
)
def test_the_fuzzer_fails_on_a_server_error_and_on_a_body_the_schema_does_not_describe(
    personas, connection_kept_open, monkeypatch, path, breakage, failure
):
    CustomerFactory(owner=personas.salesperson)
    schema, headers = _schema_as(personas.salesperson)
    breakage(monkeypatch)

    with pytest.raises(BaseExceptionGroup, match=failure):
        fuzz_operation(schema[path]["GET"], headers=headers, ids=[])


@pytest.mark.slow
@pytest.mark.parametrize("role", ["salesperson", "manager", "admin"])
def test_fuzzed_api_calls_get_no_server_error_and_answers_the_schema_documents(
    role, personas, connection_kept_open
):
    ids = _row_ids(build_world(personas))
    schema, _headers = _schema_as(personas.user(role))

    failures = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            # A token of its own per operation: logout and DELETE /api/auth/tokens/{id}/
            # revoke the token they are called with.
            fuzz_operation(operation, headers=_token_headers(personas.user(role)), ids=ids)
        except (AssertionError, BaseExceptionGroup) as failure:
            failures[operation.label] = failure
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(
        f"{label}: {failure}" for label, failure in failures.items()
    )

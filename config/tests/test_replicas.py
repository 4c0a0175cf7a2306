"""Reads that scale out (``core.replicas``): against a real PostgreSQL streaming replica of
the test database (``DATABASE_REPLICA_URL``; CI starts one with ``pg_basebackup -R``).

To tell the replica from the primary, a test pauses the replica's replay: what is written
after that is on the primary only, so a page that shows it read from the primary."""

import os
import subprocess
import time

import pytest
from django.conf import settings
from django.db import connections
from django.test import override_settings
from django.urls import reverse

from conftest import skip_or_fail
from core import replicas
from crm.tests.factories import CustomerFactory
from funnel.tests.factories import grade

# Without a replica the tests skip (fail in CI) in the ``replica`` fixture.
REPLICA_CONFIGURED = "replica" in settings.DATABASES
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(
        transaction=True, databases=["default", "replica"] if REPLICA_CONFIGURED else ["default"]
    ),
]

FUNNEL_API = "report-funnel"


@pytest.fixture
def replica():
    """Replica reads on (the test settings turn them off), measured afresh on every
    request, and the replica replaying again afterwards."""
    if not REPLICA_CONFIGURED:
        skip_or_fail("needs a streaming replica: set DATABASE_REPLICA_URL=postgres://…:5433/…")
    with override_settings(REPLICA_READS=True, REPLICA_CHECK_SECONDS=0, REPLICA_MAX_LAG_SECONDS=60):
        replicas.forget_state()
        try:
            yield
        finally:
            _on_replica("SELECT pg_wal_replay_resume()")
            replicas.forget_state()


def _on_replica(sql: str, params=()):
    with connections["replica"].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def replayed() -> None:
    """Wait until the replica has replayed everything the primary committed so far."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (position,) = cursor.fetchone()
    deadline = time.monotonic() + 10
    while not _on_replica("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [position])[0]:
        assert time.monotonic() < deadline, "the replica did not catch up within 10 s"
        time.sleep(0.05)


def pause_replay() -> None:
    """From here on, the primary's writes stay off the replica (until the fixture resumes)."""
    replayed()
    _on_replica("SELECT pg_wal_replay_pause()")


def open_count(client) -> int:
    response = client.get(reverse(FUNNEL_API))
    assert response.status_code == 200
    return response.json()["open_count"]


def test_reports_read_from_the_replica_and_other_pages_from_the_primary(replica, personas, client_as):
    CustomerFactory(owner=personas.salesperson, grade=grade("C"))
    client = client_as("salesperson")
    pause_replay()

    CustomerFactory(owner=personas.salesperson, grade=grade("B"))

    assert open_count(client) == 1  # the report: the replica, which has not seen the second
    page = client.get(reverse("crm:customer-list"))
    assert page.status_code == 200 and page.context["page_obj"].paginator.count == 2  # the primary


def test_after_their_own_write_a_user_reads_the_dashboard_from_the_primary(replica, personas, client_as):
    CustomerFactory(owner=personas.salesperson, grade=grade("C"))
    salesperson, manager = client_as("salesperson"), client_as("manager")
    pause_replay()

    created = salesperson.post(
        reverse("customer-list"),
        {"name": "Written Just Now Ltd", "grade": grade("B").pk},
        content_type="application/json",
    )

    assert created.status_code == 201
    assert open_count(salesperson) == 2  # pinned to the primary: the write shows
    page = salesperson.get(reverse("reports:funnel"))
    assert page.status_code == 200 and page.context["open_count"] == 2
    assert open_count(manager) == 1  # someone else still reads the replica


def test_healthz_reports_the_replica_state_and_lag(replica, client):
    replayed()
    body = client.get(reverse("healthz")).json()
    assert body["replica"]["state"] == "ok" and 0 <= body["replica"]["lag_seconds"] < 60

    with override_settings(REPLICA_MAX_LAG_SECONDS=0):
        pause_replay()
        CustomerFactory()
        time.sleep(0.2)
        body = client.get(reverse("healthz")).json()
    assert body["replica"]["state"] == "lagging" and body["replica"]["lag_seconds"] > 0
    assert body["status"] == "degraded"


def test_a_lagging_replica_sends_reports_to_the_primary(replica, personas, client_as):
    client = client_as("salesperson")
    with override_settings(REPLICA_MAX_LAG_SECONDS=0):
        pause_replay()
        CustomerFactory(owner=personas.salesperson, grade=grade("B"))
        time.sleep(0.2)
        assert open_count(client) == 1


@pytest.fixture
def stopped_replica(replica):
    """Stop the replica's PostgreSQL cluster (``REPLICA_CLUSTER``, e.g. "15 replica", set by
    CI); start it again afterwards and wait until it answers."""
    cluster = os.environ.get("REPLICA_CLUSTER", "").split()
    if len(cluster) != 2:
        skip_or_fail('needs REPLICA_CLUSTER="<version> <name>" to stop and start the replica')
    control = ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster]
    replicas.state()  # measured "ok" while it runs
    connections["replica"].close()
    subprocess.run([*control, "stop", "-m", "fast"], check=True)  # noqa: S603
    try:
        yield
    finally:
        subprocess.run([*control, "start"], check=True)  # noqa: S603
        deadline = time.monotonic() + 30
        while replicas.measure().state != "ok":
            assert time.monotonic() < deadline, "the replica did not come back within 30 s"
            time.sleep(0.2)


def test_a_stopped_replica_makes_reads_fall_back_with_no_error_page(stopped_replica, personas, client_as):
    CustomerFactory(owner=personas.salesperson, grade=grade("C"))
    client = client_as("salesperson")

    # Still believed up (checked a moment ago): the view fails on it and runs again on the primary.
    with override_settings(REPLICA_CHECK_SECONDS=3600):
        replicas.forget_state()
        replicas._checked[replicas.REPLICA] = (time.monotonic(), replicas.ReplicaState("ok"))
        page = client.get(reverse("reports:funnel"))
        assert page.status_code == 200 and page.context["open_count"] == 1
        assert replicas.state().state == "down"
    # Known to be down: straight to the primary, and /healthz says so.
    assert open_count(client) == 1
    assert client_as("manager").get(reverse("reports:funnel-export")).status_code == 200
    health = client.get(reverse("healthz"))
    assert health.status_code == 200 and health.json()["replica"] == {"state": "down", "lag_seconds": None}

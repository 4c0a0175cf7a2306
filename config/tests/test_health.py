"""``/healthz``: 200 while the database answers, the broker's state reported, fast when it is down."""

import time
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config import views
from config.celery import app as celery_app
from core.models import WorkerHeartbeat

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def broker_down():
    """Point the Celery app at a port nobody listens on; restore it afterwards."""
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = CLOSED_PORT_BROKER
    try:
        yield
    finally:
        celery_app.conf.broker_url = previous


@pytest.mark.django_db
def test_health_answers_anonymous_callers_with_json(client):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["database"] == "ok"
    assert set(body) == {"database", "broker", "replica", "worker_heartbeat_age_seconds", "status"}
    assert body["replica"] == {"state": "off", "lag_seconds": None}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_health_reports_the_age_of_the_worker_heartbeat(client):
    assert client.get(reverse("healthz")).json()["worker_heartbeat_age_seconds"] is None

    WorkerHeartbeat.objects.create(name="worker", beat_at=timezone.now() - timedelta(seconds=90))

    assert 90 <= client.get(reverse("healthz")).json()["worker_heartbeat_age_seconds"] < 100


@pytest.mark.django_db
def test_health_stays_up_and_fast_when_the_broker_is_unreachable(broker_down):
    started = time.monotonic()

    response = Client().get(reverse("healthz"))

    elapsed = time.monotonic() - started
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("down")
    assert body["status"] == "degraded"
    assert elapsed < 2, f"/healthz took {elapsed:.1f}s with the broker down"


@pytest.mark.django_db
def test_health_is_ok_when_database_and_broker_answer(client, monkeypatch):
    monkeypatch.setattr(views, "_broker_state", lambda: "ok")

    body = client.get(reverse("healthz")).json()

    assert body["status"] == "ok"


@pytest.mark.django_db
def test_health_answers_503_when_the_database_is_down(client, monkeypatch):
    monkeypatch.setattr(views, "_database_state", lambda: "down: OperationalError")

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    body = response.json()
    assert body["database"].startswith("down")
    assert body["status"] == "degraded"
    assert "worker_heartbeat_age_seconds" not in body


@pytest.mark.django_db
def test_database_state_reports_a_failing_connection_as_down(monkeypatch):
    class UnreachableDatabase:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(views, "connection", UnreachableDatabase())

    assert views._database_state() == "down: OperationalError"

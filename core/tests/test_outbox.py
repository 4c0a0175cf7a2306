"""The transactional outbox: publish after commit, nothing on rollback, a drain that catches up
once, and a broker outage that costs a request one short timeout, not the task."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import kombu.pools
import pytest
import redis
from celery import shared_task
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from config.celery import app as celery_app
from conftest import skip_or_fail
from core import outbox
from core.models import OutboxMessage, WorkerHeartbeat

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"
REDIS_TEST_DB = 15

delivered: list[str] = []


@shared_task(name="core.tests.outbox_probe", ignore_result=True)
def outbox_probe(key: str) -> None:
    """Records each delivery, so a test can count how often a message was sent."""
    delivered.append(key)


@pytest.fixture(autouse=True)
def fresh_outbox_state(monkeypatch):
    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)
    delivered.clear()
    yield
    delivered.clear()


def _drop_broker_connections() -> None:
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu.pools.reset()


@contextmanager
def celery_configured(**conf):
    """Reconfigure the project's Celery app (not eager, another broker) and restore it after."""
    saved = {key: celery_app.conf[key] for key in conf}
    celery_app.conf.update(conf)
    _drop_broker_connections()
    try:
        yield celery_app
    finally:
        celery_app.conf.update(saved)
        _drop_broker_connections()


def _broker_down():
    return celery_configured(
        task_always_eager=False,
        broker_url=CLOSED_PORT_BROKER,
        broker_transport_options=settings.REDIS_BROKER_TRANSPORT_OPTIONS,
    )


def _age(*messages: OutboxMessage, by: timedelta) -> None:
    OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(created_at=timezone.now() - by)


@pytest.mark.slow
def test_a_web_process_knows_every_scheduled_task_by_name():
    # Outbox rows name their task; a fresh process (not a worker) must resolve them.
    script = (
        "from celery import current_app; from django.conf import settings; "
        "print(sorted({e['task'] for e in settings.CELERY_BEAT_SCHEDULE.values()} - set(current_app.tasks)))"
    )
    env = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    result = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", script],
        cwd=settings.BASE_DIR,
        env={**env, "DJANGO_ENV": "test"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"tasks unknown to a web process: {result.stdout}"


# --- Eager mode (the test settings): the publishing rules -----------------------------


@pytest.mark.django_db(transaction=True)
def test_enqueue_publishes_only_after_the_transaction_commits():
    with transaction.atomic():
        message = outbox.enqueue("core.tests.outbox_probe", key="after-commit")
        assert delivered == []
        assert OutboxMessage.objects.get().published_at is None

    assert delivered == ["after-commit"]
    message.refresh_from_db()
    assert message.published_at is not None
    assert message.attempts == 1
    assert message.last_error == ""


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_publishes_nothing_and_leaves_no_row():
    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), transaction.atomic():
        outbox.enqueue("core.tests.outbox_probe", key="rolled-back")
        raise Abandoned

    assert delivered == []
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_enqueue_resolves_a_project_task_by_name(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outbox.enqueue("core.tasks.record_heartbeat")

    assert WorkerHeartbeat.objects.filter(name="worker").exists()


@pytest.mark.django_db
def test_drain_publishes_old_pending_messages_once():
    # given: two messages a request never published, and one still on its way
    first = OutboxMessage.objects.create(task_name="core.tests.outbox_probe", kwargs={"key": "first"})
    second = OutboxMessage.objects.create(task_name="core.tests.outbox_probe", kwargs={"key": "second"})
    _age(first, by=timedelta(minutes=5))
    _age(second, by=timedelta(minutes=1))
    young = OutboxMessage.objects.create(task_name="core.tests.outbox_probe", kwargs={"key": "young"})

    # when
    sent = outbox.drain()

    # then: oldest first, the young one left to its own on_commit
    assert sent == 2
    assert delivered == ["first", "second"]
    assert set(OutboxMessage.objects.filter(published_at__isnull=True)) == {young}

    # and a second drain sends nothing again
    assert outbox.drain() == 0
    assert delivered == ["first", "second"]


@pytest.mark.django_db
def test_drain_takes_a_bounded_batch():
    messages = [
        OutboxMessage.objects.create(task_name="core.tests.outbox_probe", kwargs={"key": str(n)})
        for n in range(3)
    ]
    _age(*messages, by=timedelta(minutes=1))

    assert outbox.drain(batch_size=2) == 2
    assert outbox.drain(batch_size=2) == 1
    assert delivered == ["0", "1", "2"]


@pytest.mark.django_db
def test_the_beat_scheduled_drain_task_drains():
    message = OutboxMessage.objects.create(task_name="core.tests.outbox_probe", kwargs={"key": "beat"})
    _age(message, by=timedelta(minutes=1))

    from core.tasks import drain_outbox

    assert drain_outbox.delay() is not None
    assert delivered == ["beat"]


# --- Broker down (no server needed: nothing listens on port 1) -------------------------


@pytest.mark.django_db
def test_a_broker_outage_leaves_the_message_pending_and_costs_one_short_timeout(
    django_capture_on_commit_callbacks,
):
    with _broker_down():
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            message = outbox.enqueue("core.tests.outbox_probe", key="during-outage")
        elapsed = time.monotonic() - started

        # The next request within the cool-down does not even try the broker.
        started_again = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            later = outbox.enqueue("core.tests.outbox_probe", key="still-down")
        elapsed_again = time.monotonic() - started_again

    assert elapsed < 2, f"publishing to a dead broker took {elapsed:.1f}s"
    assert elapsed_again < 0.5
    message.refresh_from_db()
    assert message.published_at is None
    assert message.attempts == 1
    assert message.last_error
    later.refresh_from_db()
    assert later.published_at is None
    assert later.attempts == 0
    assert delivered == []

    # Once the broker is back (eager again here), the drain sends both, once.
    _age(message, later, by=timedelta(minutes=1))
    assert outbox.drain() == 2
    assert sorted(delivered) == ["during-outage", "still-down"]
    assert outbox.drain() == 0


# --- Real Redis and a real worker --------------------------------------------------------


def _test_redis_url() -> str:
    """``REDIS_URL``'s server, but always the dedicated test database (it is flushed)."""
    parts = urlsplit(os.environ.get("REDIS_URL") or f"redis://127.0.0.1:6379/{REDIS_TEST_DB}")
    return urlunsplit(parts._replace(path=f"/{REDIS_TEST_DB}"))


@pytest.fixture
def test_redis():
    url = _test_redis_url()
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.exceptions.RedisError:
        skip_or_fail(f"Redis not reachable at {url}")
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_outage_then_drain_then_a_real_worker_records_the_heartbeat(test_redis):
    # given: the broker is down while a request enqueues work
    with _broker_down():
        started = time.monotonic()
        with transaction.atomic():
            message = outbox.enqueue("core.tasks.record_heartbeat")
        elapsed = time.monotonic() - started

    assert elapsed < 2, f"publishing to a dead broker took {elapsed:.1f}s"
    message.refresh_from_db()
    assert message.published_at is None
    assert message.attempts == 1

    # when: Redis is back, the drain publishes and a worker consumes
    with celery_configured(
        task_always_eager=False,
        broker_url=test_redis,
        broker_transport_options=settings.REDIS_BROKER_TRANSPORT_OPTIONS,
        worker_hijack_root_logger=False,
    ) as app:
        assert outbox.drain(min_age=timedelta(0)) == 1
        message.refresh_from_db()
        assert message.published_at is not None
        assert not WorkerHeartbeat.objects.exists()  # published, not yet consumed

        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False):
            deadline = time.monotonic() + 10
            while not WorkerHeartbeat.objects.filter(name="worker").exists():
                assert time.monotonic() < deadline, "no worker heartbeat within 10 s"
                time.sleep(0.1)

    # then
    assert outbox.drain(min_age=timedelta(0)) == 0
    connections.close_all()

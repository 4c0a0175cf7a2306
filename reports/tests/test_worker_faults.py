"""Worker faults: a worker killed (SIGKILL) in the middle of the weekly rollup loses nothing.

The rollup is acknowledged only once it has finished (``acks_late``), so the broker gives
it out again: at once when only the pool process running it dies
(``task_reject_on_worker_lost``), and after the Redis visibility timeout when the whole
worker dies, to the worker that is restarted. It writes in one transaction and upserts,
so the second run leaves exactly the rows of a clean run.

A real ``celery -A config worker`` subprocess on real Redis and on PostgreSQL, sharing
pytest's test database. To kill it provably mid-task, the test holds a lock on the
rollup table, so the worker has done its reads and waits at its write. Redis: the
database of ``REDIS_URL`` (default 0), on its own queue; no live worker may use that
database, since the restarted worker returns every task left unacknowledged there.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction

from conftest import skip_or_fail
from core.tests.test_outbox import celery_configured
from reports.models import WeeklyRollup
from reports.services import compute_weekly_rollups
from reports.tasks import compute_weekly_rollup

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

ROLLUP_TABLE = WeeklyRollup._meta.db_table
ROLLUP_FIELDS = [field.attname for field in WeeklyRollup._meta.concrete_fields if not field.primary_key]
WAIT_SECONDS = 45
# A starting worker returns the tasks left unacknowledged for longer than this; with
# the default (an hour) the killed worker's task would wait an hour.
SHORT_VISIBILITY_TIMEOUT = 2


@pytest.fixture
def broker_url():
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (the worker shares the test database): set DATABASE_URL=postgres://…")
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.exceptions.RedisError:
        skip_or_fail(f"Redis not reachable at {url}")
    finally:
        client.close()
    return url


class Workers:
    """Starts ``celery -A config worker`` subprocesses on one queue; kills them all at the end."""

    def __init__(self, broker_url: str, log_dir: Path):
        self.queue = f"worker-faults-{uuid.uuid4().hex[:8]}"
        self.log_dir = log_dir
        db = connection.settings_dict
        self.env = {
            **{name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ},
            "DJANGO_ENV": "test",
            "REDIS_URL": broker_url,
            "DATABASE_URL": (
                f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}"
                f"@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
            ),
        }
        self.started: list[subprocess.Popen] = []

    def start(self, **env) -> subprocess.Popen:
        log = (self.log_dir / f"worker-{len(self.started) + 1}.log").open("w")
        worker = subprocess.Popen(  # noqa: S603 - our own Celery app with fixed arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "-Q",
                self.queue,
                "-n",
                f"{self.queue}-{len(self.started)}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=settings.BASE_DIR,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the pool processes die with it
        )
        log.close()
        self.started.append(worker)
        return worker

    def logs(self) -> str:
        logs = sorted(self.log_dir.glob("*.log"))
        return "\n".join(f"--- {path.name}\n{path.read_text()[-3000:]}" for path in logs)

    def stop_all(self) -> None:
        for worker in self.started:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)


@pytest.fixture
def workers(broker_url, tmp_path):
    started = Workers(broker_url, tmp_path)
    yield started
    started.stop_all()
    client = redis.Redis.from_url(broker_url)
    client.delete(*client.scan_iter(match=f"*{started.queue}*"))  # the queue and its bindings
    client.close()
    with connection.cursor() as cursor:  # connections the killed workers left behind
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def _wait_until(condition: Callable, failure: str, workers: Workers):
    deadline = time.monotonic() + WAIT_SECONDS
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{failure} within {WAIT_SECONDS} s\n{workers.logs()}"
        time.sleep(0.2)
    return result


def _backends_waiting_for_the_rollup_table() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_locks WHERE relation = %s::regclass AND NOT granted", [ROLLUP_TABLE]
        )
        return {pid for (pid,) in cursor.fetchall()}


def _pool_process(worker: subprocess.Popen) -> int:
    (child,) = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    return int(child)


def _rows() -> list[dict]:
    """Every rollup row but its id (a second run may insert the rows anew)."""
    return list(WeeklyRollup.objects.order_by("salesperson_id", "week_start").values(*ROLLUP_FIELDS))


def _kill_pool_process(workers: Workers, worker: subprocess.Popen) -> None:
    os.kill(_pool_process(worker), signal.SIGKILL)


def _kill_worker_and_restart(workers: Workers, worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    # A starting worker sweeps the unacknowledged messages once, at once; its next sweep
    # is 100 s later (kombu: restore interval 10 s × throttle 10). Restart only when the
    # killed task is past the visibility timeout, so that first sweep returns it.
    time.sleep(SHORT_VISIBILITY_TIMEOUT + 1)
    workers.start(BROKER_VISIBILITY_TIMEOUT=str(SHORT_VISIBILITY_TIMEOUT))


@pytest.mark.parametrize(
    "kill",
    [
        pytest.param(_kill_pool_process, id="pool-process"),
        pytest.param(_kill_worker_and_restart, id="whole-worker"),
    ],
)
def test_a_rollup_killed_midway_runs_again_and_leaves_the_rows_of_a_clean_run(workers, this_week, kill):
    # given: the rows of a clean run, then none
    compute_weekly_rollups(week=this_week)
    clean = _rows()
    WeeklyRollup.objects.all().delete()

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {ROLLUP_TABLE} IN EXCLUSIVE MODE")  # reads pass, writes wait
        with celery_configured(task_always_eager=False, broker_url=workers.env["REDIS_URL"]):
            compute_weekly_rollup.apply_async(kwargs={"week": this_week.isoformat()}, queue=workers.queue)
        worker = workers.start()
        (first_run,) = _wait_until(
            _backends_waiting_for_the_rollup_table, "the worker did not reach the rollup's write", workers
        )

        # when: SIGKILL in the middle of the rollup
        kill(workers, worker)

        # then: the task runs again, up to the same write (the killed run's connection
        # still waits there; it can never commit, its client is gone)
        _wait_until(
            lambda: _backends_waiting_for_the_rollup_table() - {first_run},
            "the killed rollup did not run again",
            workers,
        )
    # the lock is released: the second run writes
    _wait_until(lambda: _rows() == clean, "the second run did not write the clean run's rows", workers)

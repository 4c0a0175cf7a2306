"""Customer-list throughput: gunicorn (2 workers, production-like: DEBUG off) on a free
port of 127.0.0.1, loaded by locust headless from a second process with a fixed number
of users and no think time (a bounded, closed-loop load)."""

import csv
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).with_name("locustfile.py")


@dataclass(frozen=True)
class Throughput:
    requests_per_s: float
    median_ms: float
    p95_ms: float
    requests: int
    failures: int


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - our own server on 127.0.0.1
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer on {url} within {timeout:.0f} s")


def measure_throughput(*, session_key: str, path: str, users: int, seconds: int) -> Throughput:
    """Serve the app with gunicorn and load ``path`` with ``users`` locust users signed in
    with ``session_key`` for ``seconds``."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DEBUG": "false", "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            str(BIN / "gunicorn"),
            "config.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=settings.BASE_DIR,
        env=env,
    )
    try:
        _wait_until_up(f"{base}/healthz")
        with tempfile.TemporaryDirectory() as folder:
            prefix = str(Path(folder) / "load")
            load = subprocess.run(  # noqa: S603 - fixed argv
                [
                    str(BIN / "locust"),
                    "-f",
                    str(LOCUSTFILE),
                    "--headless",
                    "--users",
                    str(users),
                    "--spawn-rate",
                    str(users),
                    "--run-time",
                    f"{seconds}s",
                    "--host",
                    base,
                    "--csv",
                    prefix,
                    "--only-summary",
                    "--loglevel",
                    "WARNING",
                    "--stop-timeout",
                    "5",
                ],
                env={
                    **env,
                    "BENCH_PATH": path,
                    "BENCH_COOKIE": f"{settings.SESSION_COOKIE_NAME}={session_key}",
                },
                check=False,
                capture_output=True,
                text=True,
            )
            if load.returncode not in (0, 1):  # 1: some requests failed, counted below
                raise RuntimeError(f"locust failed:\n{load.stderr}")
            with open(f"{prefix}_stats.csv", newline="") as stats:
                total = next(row for row in csv.DictReader(stats) if row["Name"] == "Aggregated")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return Throughput(
        float(total["Requests/s"]),
        float(total["50%"]),
        float(total["95%"]),
        int(total["Request Count"]),
        int(total["Failure Count"]),
    )

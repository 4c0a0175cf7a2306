"""Time the heavy pages and jobs on a generated organisation (``manage.py generate_data``).

    DATABASE_URL=postgres://… .venv/bin/python bench/measure.py [--runs 30]

Prints one Markdown table (median and p95 server time, SQL queries) and writes it to
``bench/results/``. Pages are requested in-process through Django's test client (server
time, no network); jobs run once each, as the beat would run them.
"""
import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from crm.models import Customer, Role, User  # noqa: E402
from funnel import services as funnel_services  # noqa: E402
from reports import services as report_services  # noqa: E402


def _time_page(client: Client, url: str, runs: int) -> tuple[float, float, int, int]:
    timings = []
    queries = 0
    status = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, HTTP_HOST="127.0.0.1")
            timings.append((time.perf_counter() - started) * 1000)
        queries, status = len(captured), response.status_code
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    return statistics.median(timings), p95, queries, status


def _time_job(label: str, job) -> tuple[str, float]:
    started = time.perf_counter()
    job()
    return label, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    settings.MFA_REQUIRED_ROLES = []

    salesperson = User.objects.filter(role=Role.SALESPERSON, is_active=True).order_by("pk").first()
    manager = User.objects.filter(role=Role.MANAGER, is_active=True, managed_teams__isnull=False).first()
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).first()
    customer = Customer.objects.filter(owner=salesperson).first()
    customers = Customer.objects.count()

    rows = []
    for role, user in (("salesperson", salesperson), ("manager", manager), ("admin", admin)):
        client = Client()
        client.force_login(user)
        customer_list = reverse("crm:customer-list")
        pages = [
            ("customer list", customer_list),
            ("customer list, filtered", customer_list + "?tier=priority&ordering=-weighted_value"),
            ("customer list, searched", customer_list + "?search=Customer%2012"),
            ("my day", reverse("home")),
            ("funnel dashboard", reverse("reports:funnel")),
            ("API customer list", reverse("customer-list")),
        ]
        if role == "salesperson":
            pages.append(("customer detail", reverse("crm:customer-detail", args=[customer.pk])))
        for label, url in pages:
            median, p95, queries, status = _time_page(client, url, args.runs)
            rows.append(f"| {label} | {role} | {median:.1f} | {p95:.1f} | {queries} | {status} |")

    today = timezone.localdate()
    jobs = [
        _time_job("stagnation scan", lambda: funnel_services.scan_stagnation(on=today)),
        _time_job("pool return", lambda: funnel_services.return_idle_customers(on=today)),
        _time_job("weekly rollup, one week",
                  lambda: report_services.compute_weekly_rollups(week=today - timedelta(days=7))),
    ]

    table = [
        f"Funnel CRM benchmark — {customers:,} customers, {connection.vendor}, "
        f"{timezone.now():%Y-%m-%d %H:%M}",
        "",
        "| page | as | median ms | p95 ms | SQL queries | status |",
        "|---|---|---:|---:|---:|---:|",
        *rows,
        "",
        "| job | seconds |",
        "|---|---:|",
        *[f"| {label} | {seconds:.2f} |" for label, seconds in jobs],
    ]
    text = "\n".join(table)
    print(text)
    out = ROOT / "bench" / "results" / f"{timezone.now():%Y%m%d-%H%M}-{connection.vendor}.md"
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()

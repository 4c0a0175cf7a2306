"""``make bench``: the speed of Funnel CRM at scale (SPEC §5, issue 8), on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/funnel_bench .venv/bin/python bench/run.py [--reuse]

Creates the database if it does not exist and migrates it. An empty database first gets
the large organisation (``manage.py generate_data``: 200 users in 20 teams, 100,000
customers, 1,000,000 activities, 26 weeks of plans and reports …); one that already holds
customers is left alone unless ``--reuse`` is given (then it is migrated and measured as it
is). Weekly rollups are backfilled for 26 weeks when there are none (a running site has
them, and the dashboards read them), then VACUUM ANALYZE. Then:

* pages, as salesperson, manager and admin, in-process through Django's test client
  (server time without the network): median and p95 over ``--runs`` requests after
  one warm-up, and the SQL queries of one request;
* the raw-SQL floors in the same run, and each page's median over its floor's;
* the jobs, once each, each in a transaction that is rolled back (the data stay as
  generated, so runs compare);
* the customer list's throughput with gunicorn (2 workers) under locust.

Prints one Markdown table with each row's budget and result, and writes it to
``bench/results/<timestamp>.md``.
"""

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DEBUG", "false")  # DEBUG would keep every query and slow every page

import django  # noqa: E402
import psycopg2  # noqa: E402
from psycopg2 import sql  # noqa: E402

PG_SETTINGS = (
    "jit",
    "shared_buffers",
    "work_mem",
    "effective_cache_size",
    "random_page_cost",
    "max_parallel_workers_per_gather",
    "synchronous_commit",
)
JOB_BUDGETS_S = {
    "stagnation scan": 3,
    "pool return": 3,
    "weekly rollup, one week": 10,
    "26-week backfill": 180,
    "20,000-row import": 60,
}
MIN_THROUGHPUT = 50  # requests/s, customer list, 2 gunicorn workers
FLOOR_RATIO = 4  # the company funnel dashboard against its raw-SQL floor


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` when it does not exist."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    conn = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"Created database {name}.")
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reuse", action="store_true", help="Measure a database that already holds data.")
    parser.add_argument("--customers", type=int, default=100_000, help="Size of a generated organisation.")
    parser.add_argument("--runs", type=int, default=30, help="Requests per page (≥ 30 for a p95).")
    parser.add_argument("--load-users", type=int, default=8, help="Concurrent locust users.")
    parser.add_argument("--load-seconds", type=int, default=20)
    parser.add_argument(
        "--only",
        metavar="TEXT",
        help="Measure only the pages whose label contains TEXT (no jobs, no load test, "
        "nothing written): a quick look at one page after a change; the full run is the evidence.",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "make bench measures PostgreSQL, the production database its budgets are about; SQLite is "
            "refused. Set DATABASE_URL=postgres://USER@HOST:5432/DBNAME (created if missing)."
        )
    ensure_database(url)
    django.setup()
    started = time.monotonic()
    prepare(args)
    text = measure_all(args)
    print(text)
    if args.only:
        return  # a partial look is not a result
    out = ROOT / "bench" / "results" / f"{time.strftime('%Y%m%d-%H%M', time.gmtime())}Z.md"
    out.write_text(text + "\n")
    took = timedelta(seconds=round(time.monotonic() - started))
    print(f"\nWritten to {out.relative_to(ROOT)}; preparing and measuring took {took}.")


def prepare(args: argparse.Namespace) -> None:
    """Refuse a database that holds data without ``--reuse``, before touching it; migrate
    and collect the static files; generate the organisation into an empty database."""
    from django.core.management import call_command
    from django.db import connection

    from crm.models import Customer
    from reports.models import WeeklyRollup

    table = Customer._meta.db_table
    holds_data = table in connection.introspection.table_names() and Customer.objects.exists()
    if holds_data and not args.reuse:
        sys.exit(
            f"{connection.settings_dict['NAME']} already holds customers. Pass --reuse "
            "(make bench BENCH_ARGS=--reuse) to migrate it and measure its data as they are, or point "
            "DATABASE_URL at a new database to generate the organisation."
        )
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # served by WhiteNoise, as deployed
    started = time.monotonic()
    if not holds_data:
        call_command("generate_data", customers=args.customers)
    if not WeeklyRollup.objects.exists():  # a running site has them: the beat writes one week a Monday
        call_command("backfill_rollups", weeks=26, verbosity=0)
    with connection.cursor() as cursor:  # all-visible pages and fresh statistics, as on a settled server
        cursor.execute("VACUUM ANALYZE")
        # ...whose generated gigabyte is on disk: otherwise the checkpointer writes it out
        # while the pages are measured (superusers and pg_checkpoint members only).
        cursor.execute(
            "SELECT pg_has_role('pg_checkpoint', 'member') OR rolsuper FROM pg_roles "
            "WHERE rolname = current_user"
        )
        if cursor.fetchone()[0]:
            cursor.execute("CHECKPOINT")
    print(f"Prepared in {timedelta(seconds=round(time.monotonic() - started))}.")


def measure_all(args: argparse.Namespace) -> str:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from activities.models import Activity
    from bench import cases
    from crm.models import Customer

    settings.MFA_REQUIRED_ROLES = []  # the personas sign in without a second factor
    logging.getLogger("axes").setLevel(logging.WARNING)  # one line per sign-in otherwise
    people = cases.personas()
    floors = {
        "funnel aggregate": floor_funnel(args.runs),
        "first page": floor_first_page(people["salesperson"], args.runs),
    }
    rows = [
        row(
            "floor: funnel aggregate (count, weighted value by open grade)", "SQL", floors["funnel aggregate"]
        ),
        row("floor: one owner's first customer page", "SQL", floors["first page"]),
    ]
    clients = {role: cases.client_for(user) for role, user in people.items()}
    for page in cases.pages(people):
        if args.only and args.only not in page.label:
            continue
        print(f"  {page.label} as {page.role} …", flush=True)
        rows.append(page_row(page, cases.measure(clients[page.role], page.url, args.runs), floors))
    for label, seconds in [] if args.only else run_jobs(people):
        rows.append(
            row(
                label,
                "job",
                None,
                measured=f"{seconds:.2f} s",
                budget=f"≤ {JOB_BUDGETS_S[label]} s",
                ok=seconds <= JOB_BUDGETS_S[label],
            )
        )
    if not args.only:
        rows.append(throughput_row(people["salesperson"], args))
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
        cursor.execute(
            "SELECT name, current_setting(name) FROM unnest(%s::text[]) AS name", [list(PG_SETTINGS)]
        )
        shown = [f"{name}={value}" for name, value in cursor.fetchall()]
    failed = [line for line in rows if line.endswith("| FAIL |")]
    budgets = [line for line in rows if line.endswith(("| pass |", "| FAIL |"))]
    return "\n".join(
        [
            f"## Funnel CRM benchmark, {timezone.now():%Y-%m-%d %H:%M} UTC",
            "",
            f"{Customer.objects.count():,} customers, {Activity.objects.count():,} activities; {version}; "
            f"{', '.join(shown)}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}. "
            f"Pages: {args.runs} requests each, server time in-process. "
            "× floor: median over the floor's median.",
            "",
            "| measurement | as | median | p95 | SQL queries | × floor | budget | result |",
            "|---|---|---:|---:|---:|---:|---|---|",
            *rows,
            "",
            f"{len(failed)} of {len(budgets)} budgets missed." if failed else "Every budget met.",
        ]
    )


def row(
    label: str,
    role: str,
    timing=None,
    *,
    measured: str = "",
    p95: str = "",
    queries: str = "",
    ratio: str = "",
    budget: str = "",
    ok: bool | None = None,
) -> str:
    if timing is not None:
        measured, p95 = f"{timing.median_ms:.1f} ms", f"{timing.p95_ms:.1f} ms"
    result = "" if ok is None else "pass" if ok else "FAIL"
    return f"| {label} | {role} | {measured} | {p95} | {queries} | {ratio} | {budget} | {result} |"


def page_row(page, timing, floors: dict) -> str:
    from bench.cases import MAX_QUERIES

    ok = timing.status == 200 and timing.queries <= MAX_QUERIES
    budget = [f"≤ {MAX_QUERIES} queries"]
    if page.budget_ms is not None:
        budget.insert(0, f"p95 ≤ {page.budget_ms:.0f} ms")
        ok = ok and timing.p95_ms <= page.budget_ms
    ratio = ""
    if page.floor:
        times = timing.median_ms / floors[page.floor].median_ms
        ratio = f"{times:.1f}×" if times < 10 else f"{times:.0f}×"
        if page.budget_ms is not None and page.floor == "funnel aggregate":
            budget.insert(1, f"≤ {FLOOR_RATIO}× floor")
            ok = ok and times <= FLOOR_RATIO
    label = page.label if timing.status == 200 else f"{page.label} (HTTP {timing.status})"
    return row(
        label, page.role, timing, queries=str(timing.queries), ratio=ratio, budget=", ".join(budget), ok=ok
    )


def time_sql(query: str, params: list, runs: int):
    """Median and p95 of a raw query with its rows fetched (one warm-up)."""
    from django.db import connection

    from bench.cases import Timing, percentile

    timings = []
    with connection.cursor() as cursor:
        for n in range(runs + 1):
            started = time.perf_counter()
            cursor.execute(query, params)
            cursor.fetchall()
            if n:
                timings.append((time.perf_counter() - started) * 1000)
    return Timing(sorted(timings)[len(timings) // 2], percentile(timings, 95), 1, 200)


def floor_funnel(runs: int):
    """What the company funnel dashboard must at least do: count and weighted value of
    the live customers by open grade, one GROUP BY."""
    from core.models import Grade, GradeKind
    from crm.models import Customer

    customer, grade = Customer._meta.db_table, Grade._meta.db_table
    return time_sql(
        "SELECT g.id, count(*), "
        "sum(c.expected_value * coalesce(c.probability_override, g.probability) / 100) "
        f'FROM "{customer}" c JOIN "{grade}" g ON g.id = c.grade_id '
        "WHERE g.kind = %s AND c.archived_at IS NULL GROUP BY g.id",
        [GradeKind.OPEN],
        runs,
    )


def floor_first_page(owner, runs: int):
    """What the default customer list must at least do: one owner's first 50 live
    customers by name, with their grade."""
    from core.models import Grade
    from crm.models import Customer

    customer, grade = Customer._meta.db_table, Grade._meta.db_table
    return time_sql(
        f'SELECT c.*, g.* FROM "{customer}" c JOIN "{grade}" g ON g.id = c.grade_id '  # noqa: S608
        "WHERE c.owner_id = %s AND c.archived_at IS NULL ORDER BY c.name, c.id LIMIT 50",
        [owner.pk],
        runs,
    )


def run_jobs(people: dict) -> list[tuple[str, float]]:
    """Each job once, timed, in a transaction that is rolled back afterwards."""
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from crm.demo import import_workbook
    from crm.importing import services as imports
    from crm.models import ImportState, User
    from funnel import services as funnel_services
    from reports import services as report_services
    from reports.periods import last_complete_week, today

    day = today()
    manager = people["manager"]
    team = list(User.objects.filter(team=manager.team, is_active=True).values_list("username", flat=True))
    workbook = import_workbook(20_000, team)
    settings.IMPORT_SYNC_MAX_BYTES = len(workbook)  # in this process, not through the worker

    def import_rows() -> None:
        batch = imports.start_import(
            by=manager, kind="customers", upload=SimpleUploadedFile("bench.xlsx", workbook)
        )
        batch = imports.confirm_import(batch=batch, by=manager)
        if batch.state != ImportState.DONE or batch.created_count != 20_000:
            raise RuntimeError(f"The import ended {batch.state}: {batch.message}")

    jobs: list[tuple[str, Callable[[], object]]] = [
        ("stagnation scan", lambda: funnel_services.scan_stagnation(on=day)),
        ("pool return", lambda: funnel_services.return_idle_customers(on=day)),
        (
            "weekly rollup, one week",
            lambda: report_services.compute_weekly_rollups(week=last_complete_week(day)),
        ),
        ("26-week backfill", lambda: call_command("backfill_rollups", weeks=26, verbosity=0)),
        ("20,000-row import", import_rows),
    ]
    return [(label, rolled_back(label, job)) for label, job in jobs]


def rolled_back(label: str, job: Callable[[], object]) -> float:
    from django.db import transaction

    print(f"  {label} …", flush=True)
    with transaction.atomic():
        started = time.perf_counter()
        job()
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def throughput_row(user, args: argparse.Namespace) -> str:
    from django.urls import reverse

    from bench.cases import client_for
    from bench.load import measure_throughput

    print("  customer list under load …", flush=True)
    session = client_for(user).session.session_key
    result = measure_throughput(
        session_key=session,
        path=reverse("crm:customer-list"),
        users=args.load_users,
        seconds=args.load_seconds,
    )
    return row(
        f"customer list throughput, gunicorn 2 workers, {args.load_users} locust users, "
        f"{result.requests:,} requests, {result.failures} failed",
        "salesperson",
        measured=f"{result.requests_per_s:.1f} req/s",
        p95=f"{result.p95_ms:.0f} ms",
        budget=f"≥ {MIN_THROUGHPUT} req/s",
        ok=result.requests_per_s >= MIN_THROUGHPUT and result.failures == 0,
    )


if __name__ == "__main__":
    main()

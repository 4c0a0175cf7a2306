"""The benchmark in miniature (``make test``): every page of ``make bench``, on an
organisation made by the same generator, runs at most 15 SQL queries, and as many at
2,000 customers as at 300 — so a page that starts querying per row fails CI. Timings
are printed (``pytest -s``), never asserted: this machine is not the benchmark's."""

from io import StringIO

import pytest
from django.core.management import call_command

from bench import cases
from crm.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def generate(customers: int) -> dict[str, User]:
    """Another organisation of ``customers`` customers; its personas."""
    since = User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    call_command(
        "generate_data",
        customers=customers,
        users=30,
        teams=5,
        activities=3 * customers,
        weeks=4,
        seed=customers,
        stdout=StringIO(),
    )
    return cases.personas(since)


def measure_pages(people: dict[str, User], runs: int) -> dict[tuple[str, str], cases.Timing]:
    clients = {role: cases.client_for(user) for role, user in people.items()}
    return {
        (page.label, page.role): cases.measure(clients[page.role], page.url, runs)
        for page in cases.pages(people)
    }


def test_every_benchmark_page_runs_a_constant_number_of_queries_within_budget(settings):
    settings.MFA_REQUIRED_ROLES = []
    small = measure_pages(generate(300), runs=1)
    large = measure_pages(generate(2000), runs=3)

    print("\n| page | as | queries (300 → 2,000 customers) | median ms | p95 ms |")
    for (label, role), timing in large.items():
        print(
            f"| {label} | {role} | {small[label, role].queries} → {timing.queries} | "
            f"{timing.median_ms:.1f} | {timing.p95_ms:.1f} |"
        )
    assert {key: timing.status for key, timing in large.items() if timing.status != 200} == {}
    assert {key: timing.queries for key, timing in large.items() if timing.queries > cases.MAX_QUERIES} == {}
    assert {
        key: (small[key].queries, timing.queries)
        for key, timing in large.items()
        if timing.queries != small[key].queries
    } == {}

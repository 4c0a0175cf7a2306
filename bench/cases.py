"""What the benchmark requests, shared by ``bench/run.py`` (the large organisation on
PostgreSQL) and ``bench/tests`` (a small one in ``make test``): the personas, the pages
with their budgets, and one page's measurement (server time in-process, SQL queries)."""

import math
import statistics
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Contact, Customer, Role, User

MAX_QUERIES = 15  # per page, and constant in the data size (SPEC §5)


@dataclass(frozen=True)
class Page:
    label: str
    role: str  # "salesperson", "manager" or "admin"
    url: str
    budget_ms: float | None = None  # p95
    floor: str | None = None  # the raw-SQL floor it is compared with, if any


@dataclass(frozen=True)
class Timing:
    median_ms: float
    p95_ms: float
    queries: int
    status: int


def personas(since_pk: int = 0) -> dict[str, User]:
    """A salesperson owning customers, the manager of their team, and an admin, among the
    users with ``pk > since_pk`` (one generated organisation of several)."""
    users = User.objects.filter(pk__gt=since_pk, is_active=True).order_by("pk")
    salesperson = users.filter(role=Role.SALESPERSON, customers__isnull=False).select_related("team").first()
    return {
        "salesperson": salesperson,
        "manager": salesperson.team.manager,
        "admin": users.filter(role=Role.ADMIN).first(),
    }


def pages(people: dict[str, User]) -> list[Page]:
    """Every page of the benchmark, as each role that may open it."""
    customer = (
        Customer.objects.filter(owner=people["salesperson"], last_activity_at__isnull=False)
        .order_by("pk")
        .first()
    )
    customers = reverse("crm:customer-list")
    search = customer.name[:4]  # what one types of a company's name: its city and trade name, say
    funnel_scope = {"salesperson": "salesperson", "manager": "team", "admin": "company"}
    result = []
    for role in ("salesperson", "manager", "admin"):
        result += [
            Page("customer list", role, customers, 50, "first page"),
            Page(
                "customer list, filtered",
                role,
                customers + "?tier=priority&ordering=-weighted_value",
                50,
                "first page",
            ),
            Page(
                "customer list, searched",
                role,
                f"{customers}?{urlencode({'search': search})}",
                50,
                "first page",
            ),
            Page("customer detail", role, reverse("crm:customer-detail", args=[customer.pk]), 60),
            Page("my day", role, reverse("home"), 60),
            Page(
                f"funnel dashboard, {funnel_scope[role]}",
                role,
                reverse("reports:funnel"),
                120 if role == "admin" else None,
                "funnel aggregate",
            ),
            Page("conversion report", role, reverse("reports:conversion")),
            Page("API customer list", role, reverse("customer-list"), 50, "first page"),
        ]
        if role != "salesperson":  # managers' page
            result.append(Page("weekly manager report", role, reverse("reports:weekly")))
        if role == "admin":  # issue 22: the company forecast, p95 ≤ 120 ms
            result.append(Page("forecast, company", role, reverse("reports:forecast"), 120))
        if role != "admin":  # the visibility rule's two shapes: one owner, a team tree
            result += global_search_pages(role, customer)
    return result


SEARCH_BUDGET_MS = 100  # p95, issue 16: the navbar's search as one types


def global_search_pages(role: str, customer: Customer) -> list[Page]:
    """The navbar's global search (page and API) for what one types to find ``customer``:
    the start of its name, the end of its contact's mobile number, its contact's name and
    that name's first two characters."""
    contact = Contact.objects.filter(customer=customer).exclude(phone_digits="").order_by("pk").first()
    typed = {
        "name prefix": customer.name[:4],
        "phone fragment": contact.phone_digits[-6:],
        "contact name": contact.name,
        # A Chinese name's first two characters (宋文 of 宋文博): below a trigram, the bigram index
        "contact name, two characters": contact.name[:2],
    }
    result = []
    for what, q in typed.items():
        query = urlencode({"q": q})
        result += [
            Page(f"global search, {what}", role, f"{reverse('crm:quick-search')}?{query}", SEARCH_BUDGET_MS),
            Page(f"API global search, {what}", role, f"{reverse('quick-search')}?{query}", SEARCH_BUDGET_MS),
        ]
    return result


def client_for(user: User) -> Client:
    """Signed in as ``user``; a page that fails answers 500 (the table shows it) rather than raising."""
    client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
    client.force_login(user)
    return client


def measure(client: Client, url: str, runs: int) -> Timing:
    """``runs`` requests after one warm-up (caches filled as on a running server): the
    median and p95 server time, and the SQL queries of the last request."""
    client.get(url)
    timings = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
    return Timing(statistics.median(timings), percentile(timings, 95), len(captured), response.status_code)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * pct / 100) - 1)]  # nearest rank

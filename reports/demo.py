"""The forecast of the demo company (``seed_demo``) and of the benchmark's generated
organisation (``generate_data``): signing dates and forecast categories as salespeople
keep them, a few months of weekly snapshots in which some customers slip, and the
managers' adjustments. ``seed_demo`` and ``generate_data`` guard where they may run.

Snapshots are written directly, not through ``services.snapshot_forecast``: the demo's
customer history starts the day it is generated, so the past weeks have no history to
read them from.
"""

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.models import ForecastCategory, GradeKind
from crm.models import Customer, Role, Team, User, effective_forecast_category

from . import services
from .models import ForecastSnapshot
from .periods import week_start
from .selectors.forecast import COUNTED, forecast_periods

# Weeks of snapshots, this one included (a quarter: the page shows as many).
DEMO_WEEKS = 13
# A slip moves the signing date this much later.
SLIP = timedelta(days=30)


def generate_forecast(
    *,
    customers: QuerySet[Customer],
    today: date,
    rng: random.Random,
    weeks: int = DEMO_WEEKS,
    batch_size: int = 5000,
) -> dict[str, int]:
    """Give ``customers`` (their open, owned ones) the forecast a sales team keeps, and
    ``weeks`` Mondays of snapshots up to this one. Returns counts."""
    open_customers = customers.filter(
        grade__kind=GradeKind.OPEN, owner__isnull=False, archived_at__isnull=True
    )
    _signing_dates(open_customers, today, rng)
    _categories(open_customers, today, rng)
    snapshots = _snapshots(open_customers, today, rng, weeks, batch_size)
    adjustments = _adjustments(today)
    return {"snapshots": snapshots, "adjustments": adjustments}


def _signing_dates(customers: QuerySet[Customer], today: date, rng: random.Random) -> None:
    """A and B customers without one, and a third of the C ones, sign within four months;
    a few A customers' dates have passed (stuck commits). One UPDATE per day."""
    by_day: dict[date, list[int]] = defaultdict(list)
    undated = customers.filter(expected_signing_on__isnull=True, grade__code__in=["A", "B", "C"])
    for pk, code in undated.values_list("pk", "grade__code").order_by("pk").iterator():
        if code == "C" and rng.random() > 0.33:
            continue
        days = rng.randint(-20, -1) if code == "A" and rng.random() < 0.05 else rng.randint(3, 120)
        by_day[today + timedelta(days=days)].append(pk)
    for day, ids in by_day.items():
        Customer.objects.filter(pk__in=ids).update(expected_signing_on=day)


def _categories(customers: QuerySet[Customer], today: date, rng: random.Random) -> None:
    """Salespeople raise a few C customers to best case and some B to commit, and leave a
    few A customers out; the rest follow their grade."""
    choices = {
        "C": (ForecastCategory.BEST_CASE, 0.1),
        "B": (ForecastCategory.COMMIT, 0.15),
        "A": (ForecastCategory.OMITTED, 0.03),
    }
    chosen: dict[str, list[int]] = defaultdict(list)
    dated = customers.filter(expected_signing_on__isnull=False, forecast_category="", expected_value__gt=0)
    for pk, code in dated.values_list("pk", "grade__code").order_by("pk").iterator():
        category, share = choices.get(code, ("", 0))
        if category and rng.random() < share:
            chosen[category].append(pk)
    for category, ids in chosen.items():
        Customer.objects.filter(pk__in=ids).update(forecast_category=category)


def _snapshots(
    customers: QuerySet[Customer], today: date, rng: random.Random, weeks: int, batch_size: int
) -> int:
    """Each Monday's forecast: today's customers, of whom one in five slipped once (its
    date a month earlier before a random week) and one in ten twice."""
    this_monday = week_start(today)
    mondays = [this_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    rows = (
        customers.filter(expected_signing_on__isnull=False)
        .annotate(category=effective_forecast_category())
        .filter(category__in=COUNTED)
        .values_list("pk", "owner_id", "category", "expected_signing_on", "expected_value", "weighted_value")
        .order_by("pk")
    )
    ForecastSnapshot.objects.filter(week_start__in=mondays, customer__in=customers).delete()
    batch, written = [], 0
    for pk, owner_id, category, signing_on, value, weighted in rows.iterator():
        roll = rng.random()
        wanted = 2 if roll < 0.1 else 1 if roll < 0.3 else 0
        slips = sorted(rng.sample(range(1, weeks), k=min(wanted, weeks - 1)))
        for index, monday in enumerate(mondays):
            then = signing_on - SLIP * sum(1 for slip in slips if slip > index)
            first, end = services.snapshot_window(monday)
            if first <= then < end:
                batch.append(
                    ForecastSnapshot(
                        week_start=monday,
                        customer_id=pk,
                        owner_id=owner_id,
                        category=category,
                        expected_signing_on=then,
                        expected_value=value,
                        weighted_value=weighted,
                    )
                )
        if len(batch) >= batch_size:
            written += len(ForecastSnapshot.objects.bulk_create(batch))
            batch = []
    return written + len(ForecastSnapshot.objects.bulk_create(batch))


def _adjustments(today: date) -> int:
    """Each team's manager takes a tenth off the team's commit this month ("one tender
    may slip"), beside the commit itself."""
    month = forecast_periods(today)[0]
    made = 0
    for team in Team.objects.filter(manager__isnull=False, manager__role=Role.MANAGER).select_related(
        "manager"
    ):
        commit = sum(
            Customer.objects.filter(
                owner__in=User.objects.filter(team=team),
                archived_at__isnull=True,
                expected_signing_on__gte=month.start,
                expected_signing_on__lt=month.end,
            )
            .annotate(category=effective_forecast_category())
            .filter(category=ForecastCategory.COMMIT)
            .values_list("expected_value", flat=True),
            Decimal(0),
        )
        if commit:
            services.adjust_forecast(
                by=team.manager,
                team=team,
                period=month,
                amount=(commit * Decimal("0.9")).quantize(Decimal(1)),
                note=_("One tender may slip to next month."),
            )
            made += 1
    return made

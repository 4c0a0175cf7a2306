"""The funnel dashboard: the scope's customers per grade and per person, stuck and new
customers, quota against target, conversion rates, this week's movement and the shape
diagnosis — in a fixed number of queries."""

from collections import defaultdict
from datetime import date, datetime

from django.db.models import Count, F, IntegerField, Q, Value
from django.utils import timezone

from core.models import Grade, GradeKind
from crm.models import Customer
from crm.selectors import customer_tally_visible_to
from funnel.models import FunnelSettings
from funnel.selectors import WonConcentration, won_concentration

from .. import diagnosis
from ..periods import Period, PeriodKind, period_for, today, week_start
from .conversion import conversion_rates, trailing_window
from .figures import LIST_LIMIT, ZERO
from .flows import grade_flows, move_direction
from .scope import Scope, ScopeKind, scope_customers, scope_people
from .targets import quota_vs_target


def _live_totals(scope: Scope) -> list[dict]:
    """The scope's live customers per (owner, grade): count, expected and weighted value,
    summed from the customer tally (about a thousand rows, not every customer)."""
    return list(
        customer_tally_visible_to(scope.viewer).filter(scope.q("owner")).totals("owner_id", "grade_id")
    )


def _stuck_and_new(
    scope: Scope, now: datetime, periods: list[Period]
) -> tuple[dict[tuple, int], dict[str, int]]:
    """Stuck live customers per (owner, grade), and the customers created in each of
    ``periods`` (nested: the year comes last) whatever became of them since, in one query:
    the stuck rows and one row of new-customer counts (its ``stuck`` empty). Each part
    reads an index alone: ``customer_live_stagnant_idx``, and the creation dates in
    ``customer_created_idx`` (the company) or ``customer_owner_grade_idx`` (owners)."""
    customers = Customer.objects.visible_to(scope.viewer).filter(scope.q("owner")).order_by()
    no_id = Value(None, output_field=IntegerField())
    stuck = (
        customers.stuck(now)
        .values(owner_pk=F("owner_id"), grade_pk=F("grade_id"))
        .annotate(stuck=Count("*"), **{f"new_{period.kind}": Value(0) for period in periods})
    )
    year = periods[-1]
    new = (
        customers.filter(created_at__gte=year.start_at, created_at__lt=year.end_at)
        .values(owner_pk=no_id, grade_pk=no_id)
        .annotate(
            stuck=no_id,
            **{
                f"new_{period.kind}": Count(
                    "created_at", filter=Q(created_at__gte=period.start_at, created_at__lt=period.end_at)
                )
                for period in periods
            },
        )
    )
    stuck_counts, new_customers = {}, {}
    for row in stuck.union(new, all=True):
        if row["stuck"] is None:
            new_customers = {period.kind: row[f"new_{period.kind}"] for period in periods}
        else:
            stuck_counts[(row["owner_pk"], row["grade_pk"])] = row["stuck"]
    return stuck_counts, new_customers


def _per_team(people: list[dict]) -> list[dict]:
    """The per-salesperson rows summed by each person's own team, in team name order
    (people without a team last)."""
    teams: dict = {}
    for entry in people:
        team = entry["person"].team
        total = teams.setdefault(
            team,
            {
                "team": team,
                "people": 0,
                "open": 0,
                "weighted": ZERO,
                "stuck": 0,
                "counts": [0] * len(entry["counts"]),
            },
        )
        total["people"] += 1
        for key in ("open", "weighted", "stuck"):
            total[key] += entry[key]
        total["counts"] = [a + b for a, b in zip(total["counts"], entry["counts"], strict=True)]
    return sorted(teams.values(), key=lambda row: (row["team"] is None, row["team"] and row["team"].name))


def _movement(flows: dict, monday: date, grades: dict[int, Grade]) -> dict:
    """This week's new, upgraded, downgraded, won and lost customers, from the flows."""
    moves = {"new": 0, "up": 0, "down": 0, "won": 0, "lost": 0}
    for (week, src, dst), n in flows.items():
        if week != monday:
            continue
        if src is None:
            moves["new"] += n
        elif grades[dst].kind == GradeKind.WON:
            moves["won"] += n
        elif grades[dst].kind == GradeKind.LOST:
            moves["lost"] += n
        elif direction := move_direction(grades[src], grades[dst]):
            moves[direction] += n
    return moves


def funnel_dashboard(scope: Scope) -> dict:
    """Everything the funnel dashboard shows, in a fixed number of queries: grades (1),
    the live totals per owner and grade from the customer tally (1), stuck and new
    customers (1), people of the scope and the concentration guard's settings (2), the
    stuck list (1), orders for the month, quarter and year (1), targets (1), and the
    grade flows of the last 180 days — rollup rows plus the live rest — which give both
    the conversion rates and this week's movement (2)."""
    now = timezone.now()
    day = today()
    grades = list(Grade.objects.order_by("order"))
    open_grades = [grade for grade in grades if grade.is_open]
    periods = [period_for(kind, day) for kind in (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR)]
    stuck_counts, new_customers = _stuck_and_new(scope, now, periods)
    per_grade, per_owner = _per_grade_and_owner(scope, grades, stuck_counts)
    rows = [{"grade": grade, **per_grade[grade.pk]} for grade in grades]
    quota = sum((per_grade[g.pk]["weighted"] for g in open_grades), ZERO)
    people = [] if scope.kind == ScopeKind.OWNER else _people_rows(scope, grades, per_owner)

    # The whole company's 200 salespeople make a long table: it lists teams, each a link
    # to that team's dashboard, which lists its people.
    teams = _per_team(people) if scope.kind == ScopeKind.COMPANY else []

    stuck = list(scope_customers(scope).stuck(now).order_by("stagnant_from", "pk")[:LIST_LIMIT])

    targets = quota_vs_target(scope, periods=periods, day=day, quota=quota, new_customers=new_customers)
    rate_start, rate_end = trailing_window()
    flows = grade_flows(scope, rate_start, rate_end, by_week=True)
    rates = conversion_rates(scope, rate_start, rate_end, grades, flows)
    recent_orders = targets.pop("recent_orders")
    layers = [
        diagnosis.Layer(g.code, per_grade[g.pk]["count"], rate.rate, rate.is_measured)
        for g, rate in zip(open_grades, rates, strict=True)
    ]
    return {
        "scope": scope,
        "grades": grades,
        "rows": rows,
        "quota": quota,
        "open_count": sum(per_grade[g.pk]["count"] for g in open_grades),
        "people": people,
        "concentration": _won_concentration(people, grades),
        "teams": teams,
        "movement": _movement(flows, week_start(day), {grade.pk: grade for grade in grades}),
        "week_start": week_start(day),
        "stuck": stuck,
        "stuck_count": sum(per_grade[g.pk]["stuck"] for g in open_grades),
        "periods": targets["periods"],
        "rates": rates,
        "diagnosis": diagnosis.diagnose(layers, recent_orders),
        "recent_orders": recent_orders,
    }


def _empty_owner() -> dict:
    """The totals of a person without live customers."""
    return {"counts": {}, "count": 0, "weighted": ZERO, "stuck": 0}


def _per_grade_and_owner(
    scope: Scope, grades: list[Grade], stuck_counts: dict[tuple, int]
) -> tuple[dict[int, dict], dict[int, dict]]:
    """The live totals summed two ways in one pass over the tally: per grade (count,
    expected and weighted value, stuck) for the funnel rows, and per owner (count per
    grade; open count, weighted value and stuck over the open grades only) for the
    people table — a won or lost customer is no one's pipeline."""
    per_grade: dict[int, dict] = {
        g.pk: {"count": 0, "expected": ZERO, "weighted": ZERO, "stuck": 0} for g in grades
    }
    per_owner: dict = defaultdict(_empty_owner)
    open_ids = {grade.pk for grade in grades if grade.is_open}
    for row in _live_totals(scope):
        if not row["count"]:
            continue
        value = row["weighted"]
        stuck = stuck_counts.get((row["owner_id"], row["grade_id"]), 0)
        totals = per_grade[row["grade_id"]]
        totals["count"] += row["count"]
        totals["expected"] += row["expected"]
        totals["weighted"] += value
        totals["stuck"] += stuck
        owner = per_owner[row["owner_id"]]
        owner["counts"][row["grade_id"]] = row["count"]
        if row["grade_id"] in open_ids:
            owner["count"] += row["count"]
            owner["weighted"] += value
            owner["stuck"] += stuck
    return per_grade, per_owner


def _people_rows(scope: Scope, grades: list[Grade], per_owner: dict[int, dict]) -> list[dict]:
    """One row per person of the scope, also those with no customers (they show as zeros,
    so a manager sees who has an empty funnel)."""
    people = []
    for person in scope_people(scope):
        entry = per_owner.get(person.pk, _empty_owner())
        people.append(
            {
                "person": person,
                "counts": [entry["counts"].get(g.pk, 0) for g in grades],
                "open": entry["count"],
                "weighted": entry["weighted"],
                "stuck": entry["stuck"],
            }
        )
    return people


def _won_concentration(people: list[dict], grades: list[Grade]) -> WonConcentration | None:
    """The concentration guard over the scope's people (none for one salesperson's
    funnel), from the per-person counts the dashboard has already, plus the settings row."""
    if not people:
        return None
    won = [index for index, grade in enumerate(grades) if grade.kind == GradeKind.WON]
    return won_concentration(
        {entry["person"]: sum(entry["counts"][index] for index in won) for entry in people},
        FunnelSettings.load(),
    )


def chart_data(dashboard: dict) -> dict:
    """What static/js/charts.js draws (passed through ``json_script``)."""
    return {
        "grades": [
            {
                "code": row["grade"].code,
                "name": row["grade"].display_name,
                "kind": row["grade"].kind,
                "count": row["count"],
                "weighted": float(row["weighted"]),
            }
            for row in dashboard["rows"]
        ],
    }

"""Reads of the funnel, each scoped by the visibility rule."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, DateTimeField, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.models import Grade, GradeKind
from crm.models import Customer, CustomerTally, Role, Team, Tier, User
from crm.selectors import customer_tally_visible_to

from . import clock
from .models import (
    ConflictClaim,
    ConflictStatus,
    FunnelSettings,
    GradeChange,
    HandoverStatus,
    HandoverTask,
    Reassignment,
    StagnationAlert,
)

ZERO = Decimal(0)


def funnel_summary(user: User, owner: User | None = None) -> list[dict]:
    """Count and weighted value per grade of the live customers ``user`` may see
    (optionally one owner's), in funnel order — one grouped query on the customer tally
    plus the grades."""
    rows = customer_tally_visible_to(user)
    if owner is not None:
        rows = rows.filter(owner=owner)
    totals = {row["grade_id"]: row for row in rows.totals("grade_id")}
    return [
        {
            "grade": grade,
            "count": totals.get(grade.pk, {}).get("count", 0),
            "expected": totals.get(grade.pk, {}).get("expected", ZERO),
            "weighted": totals.get(grade.pk, {}).get("weighted", ZERO),
        }
        for grade in Grade.objects.order_by("order")
    ]


def quota(owner: User) -> Decimal:
    """定额: the sum of weighted values of ``owner``'s open customers."""
    result = CustomerTally.objects.filter(owner=owner, grade__kind=GradeKind.OPEN).aggregate(
        total=Coalesce(Sum("weighted_value"), ZERO),
    )
    return result["total"]


def grade_changes_visible_to(user: User) -> QuerySet[GradeChange]:
    return GradeChange.objects.visible_to(user).select_related(
        "customer",
        "from_grade",
        "to_grade",
        "changed_by",
        "owner",
    )


_PERSON_NAME = ("username", "first_name", "last_name")  # what ``display_name`` reads


def grade_timeline(customer: Customer, limit: int) -> QuerySet[GradeChange]:
    """The customer page's grade moves, with only the columns its timeline shows."""
    return (
        GradeChange.objects.filter(customer=customer)
        .select_related("from_grade", "to_grade", "changed_by")
        .only(
            "changed_at",
            "note",
            "from_grade__code",
            "from_grade__kind",
            "to_grade__code",
            "to_grade__kind",
            *(f"changed_by__{name}" for name in _PERSON_NAME),
        )
        .order_by("-changed_at", "-pk")[:limit]
    )


# --- Stagnation alerts and handover tasks ---------------------------------------------


def alerts_visible_to(user: User) -> QuerySet[StagnationAlert]:
    """Open stagnation alerts of live, owned customers ``user`` may see (owner and their
    managers), oldest stagnation first, customer, owner and grade joined: after each
    scan, one per customer the funnel shows as stuck (snoozed ones included)."""
    return (
        StagnationAlert.objects.visible_to(user)
        .open()
        .filter(customer__archived_at__isnull=True, customer__owner__isnull=False)
        .select_related("customer", "customer__owner", "customer__grade", "grade")
        .order_by("stagnant_from", "pk")
    )


def alert_counts(alerts: QuerySet[StagnationAlert], today: date) -> dict[str, int]:
    """Of these open alerts, how many (each a stuck customer), how many are snoozed on
    ``today`` and how many are left to act on: one query."""
    snoozed = Q(snoozed_until__gt=today)
    counts = alerts.order_by().aggregate(stuck=Count("pk"), snoozed=Count("pk", filter=snoozed))
    return {**counts, "to_act_on": counts["stuck"] - counts["snoozed"]}


# What a grade badge reads of a grade (``formatting.grade_badge``: code, colour, name).
GRADE_BADGE_FIELDS = ("code", "kind", "name", "name_zh")
# What a "my day" row reads of its customer: loading no more keeps the block cheap to fetch.
MY_DAY_ROW_CUSTOMER_FIELDS = (
    "customer__name",
    "customer__tier",
    *(f"customer__grade__{name}" for name in GRADE_BADGE_FIELDS),
)


def open_alerts_for(user: User) -> QuerySet[StagnationAlert]:
    """The alerts "my day" shows: a salesperson's own stuck customers, a manager's team's,
    but not those snoozed until a later day; only what its rows read (customer, grade
    badge, days in grade, owner's name)."""
    return (
        alerts_visible_to(user)
        .to_act_on(timezone.localdate())
        .select_related(None)
        .select_related("customer__owner", "customer__grade")
        .only(
            *MY_DAY_ROW_CUSTOMER_FIELDS,
            "customer__grade_entered_at",
            *(f"customer__owner__{name}" for name in _PERSON_NAME),
        )
    )


def handover_tasks_visible_to(user: User) -> QuerySet[HandoverTask]:
    """Handover tasks of the user (salesperson), their team tree (manager) or all (admin)."""
    return HandoverTask.objects.visible_to(user).select_related(
        "customer",
        "customer__grade",
        "owner",
        "step",
        "reassignment__from_owner",
    )


def open_handover_tasks_for(user: User) -> QuerySet[HandoverTask]:
    """The user's own open handover tasks, soonest due first, with what a "my day" row
    reads of the task, its customer and grade."""
    if not user.is_authenticated or not user.is_active:
        return HandoverTask.objects.none()
    return (
        HandoverTask.objects.open()
        .filter(owner=user, customer__archived_at__isnull=True)
        .select_related("customer__grade")
        .only("description", "due_on", *MY_DAY_ROW_CUSTOMER_FIELDS)
        .order_by("due_on", "pk")
    )


def handover_progress(user: User, *, since: date, today: date) -> list[dict]:
    """Per new owner the user may see: handover tasks created since ``since`` that are
    done, open, and open past their due date — one grouped query plus the people."""
    totals = list(
        HandoverTask.objects.visible_to(user)
        .filter(created_at__gte=clock.start_of_day(since))
        .exclude(status=HandoverStatus.CANCELLED)
        .order_by()
        .values("owner_id")
        .annotate(
            done=Count("pk", filter=Q(status=HandoverStatus.DONE)),
            open=Count("pk", filter=Q(status=HandoverStatus.OPEN)),
            overdue=Count("pk", filter=Q(status=HandoverStatus.OPEN, due_on__lt=today)),
        )
    )
    people = User.objects.in_bulk([row["owner_id"] for row in totals])
    rows = [{**row, "owner": people[row["owner_id"]]} for row in totals if row["owner_id"] in people]
    return sorted(rows, key=lambda row: (-row["overdue"], -row["open"], row["owner"].username))


# --- Reassignment ----------------------------------------------------------------------


def reassignment_timeline(customer: Customer, limit: int) -> QuerySet[Reassignment]:
    """The customer page's reassignments, with only the columns its timeline shows."""
    people = ("from_owner", "to_owner", "by")
    return (
        Reassignment.objects.filter(customer=customer)
        .select_related(*people)
        .only(
            "at",
            "kind",
            "forced",
            "reason",
            *(f"{person}__{name}" for person in people for name in _PERSON_NAME),
        )
        .order_by("-at", "-pk")[:limit]
    )


def assignable_owners(user: User) -> QuerySet[User]:
    """Active colleagues ``user`` may hand customers to: their team tree, or anyone (admin)."""
    return User.objects.visible_to(user).filter(is_active=True).select_related("team").order_by("username")


def departing_candidates(user: User) -> QuerySet[User]:
    """Active people of the manager's tree (anyone for an admin), except the user, with
    their live customer count."""
    return (
        User.objects.visible_to(user)
        .filter(is_active=True)
        .exclude(pk=user.pk)
        .select_related("team")
        .annotate(live_customers=Count("customers", filter=Q(customers__archived_at__isnull=True)))
        .order_by("team__name", "username")
    )


def departure_takers(user: User, leaver: User, *, other_teams: bool = False) -> QuerySet[User]:
    """Who the departure wizard offers to take over ``leaver``'s customers: the leaver's
    teammates (same team) — they know the accounts and the area. ``other_teams`` (the
    manager asked) adds everyone else ``user`` may hand customers to, teammates still
    first. Admins never take customers; a leaver without a team gets everyone."""
    people = assignable_owners(user).exclude(pk=leaver.pk).exclude(role=Role.ADMIN)
    if leaver.team_id is None:
        return people.order_by("team__name", "username")
    if not other_teams:
        return people.filter(team_id=leaver.team_id)
    return people.order_by(Case(When(team_id=leaver.team_id, then=0), default=1), "team__name", "username")


def departure_customers(leaver: User) -> list[Customer]:
    """The leaver's live customers with grade and weighted value, in funnel order."""
    return list(
        Customer.objects.filter(owner=leaver, archived_at__isnull=True)
        .select_related("grade")
        .order_by("grade__order", "-weighted_value", "name", "pk")
    )


def propose_split(customers: list[Customer], teammates: list[User]) -> dict[int, User]:
    """A balanced split of the leaver's customers across the teammates: grade by grade,
    the most valuable first, each to whoever has the fewest customers of that grade so
    far and then the least weighted value — so counts and weighted value per grade
    come out even. Pure computation on the given rows (no queries)."""
    if not teammates:
        return {}
    proposal: dict[int, User] = {}
    load: dict[tuple[int, int], tuple[int, Decimal]] = {}
    for customer in sorted(customers, key=lambda c: (c.grade.order, -c.weighted_value, c.pk)):

        def key(person, grade_id=customer.grade_id):
            count, weighted = load.get((grade_id, person.pk), (0, ZERO))
            return count, weighted, person.pk

        person = min(teammates, key=key)
        count, weighted = load.get((customer.grade_id, person.pk), (0, ZERO))
        load[(customer.grade_id, person.pk)] = (count + 1, weighted + customer.weighted_value)
        proposal[customer.pk] = person
    return proposal


# --- Public pool -------------------------------------------------------------------------


def pool_customers(user: User) -> QuerySet[Customer]:
    """The public pool, for any active user: live customers with no owner, grade joined,
    and the moment they came to the pool annotated. Only the fields a pool page shows are
    meant to be read from it (contacts stay private until claimed)."""
    if not user.is_authenticated or not user.is_active:
        return Customer.objects.none()
    pooled_at = (
        Reassignment.objects.filter(customer=OuterRef("pk"), to_owner__isnull=True)
        .order_by("-at")
        .values("at")[:1]
    )
    return (
        Customer.objects.in_pool()
        .select_related("grade")
        .annotate(pooled_at=Subquery(pooled_at, output_field=DateTimeField()))
    )


# --- Conflicts ---------------------------------------------------------------------------


def conflicts_visible_to(user: User) -> QuerySet[ConflictClaim]:
    return ConflictClaim.objects.visible_to(user).select_related(
        "customer",
        "customer__grade",
        "claimant",
        "holder",
        "settled_by",
    )


def conflict_suggestion(conflict: ConflictClaim, *, recent_days: int, now) -> dict:
    """The default rule shown to the manager: the earlier registration wins if it had
    recent activity. The holder registered when the customer was created; the
    claimant's registration is their stated first contact."""
    customer = conflict.customer
    holder_since = timezone.localdate(customer.created_at)
    last_activity = customer.last_activity_at
    recent = last_activity is not None and last_activity >= now - timedelta(days=recent_days)
    if holder_since <= conflict.first_contact_on and recent:
        outcome = ConflictStatus.KEPT
        why = _(
            "%(holder)s registered the customer first (%(date)s) and worked it in the last %(days)d days."
        )
    elif holder_since <= conflict.first_contact_on:
        outcome = ConflictStatus.TRANSFERRED
        why = _("%(holder)s registered it first (%(date)s) but has no activity in the last %(days)d days.")
    else:
        outcome = ConflictStatus.TRANSFERRED
        why = _("%(claimant)s's first contact came before %(holder)s registered it (%(date)s).")
    return {
        "outcome": outcome,
        "label": ConflictStatus(outcome).label,
        "why": why
        % {
            "holder": conflict.holder.display_name,
            "claimant": conflict.claimant.display_name,
            "date": date_format(holder_since, "SHORT_DATE_FORMAT"),
            "days": recent_days,
        },
    }


# --- Balance view ----------------------------------------------------------------------

NEW_HIRE_DAYS = 90


@dataclass(frozen=True)
class WonConcentration:
    """The smallest group of a team's people that holds the concentration share of its won
    customers (most won first), and whether the method's guard warns about it."""

    people: tuple
    won: int
    team_won: int
    team_size: int
    warns: bool

    @property
    def share(self) -> Decimal:
        """The group's share of the team's won customers, in per cent."""
        return Decimal(self.won) * 100 / Decimal(self.team_won)

    @property
    def text(self) -> str:
        """The warning in the reader's language (people are users: their display names)."""
        params = {
            "won": self.won,
            "total": self.team_won,
            "share": f"{self.share:.1f} %",
            "count": len(self.people),
            "size": self.team_size,
        }
        if len(self.people) == 1:
            return _(
                "%(name)s holds %(share)s of the team's won customers (%(won)d of %(total)d): "
                "spread the accounts so the team does not depend on one person."
            ) % {**params, "name": self.people[0].display_name}
        return _(
            "%(names)s (%(count)d of the team's %(size)d people) hold %(share)s of the team's won "
            "customers (%(won)d of %(total)d): spread the accounts so the team does not depend on a "
            "few people."
        ) % {**params, "names": ", ".join(person.display_name for person in self.people)}


def won_concentration(won_per_person: Mapping[Any, int], rule: FunnelSettings) -> WonConcentration | None:
    """The concentration guard of the method (pure: no queries). ``won_per_person`` holds
    every person of the team, those without won customers too, in a stable order.

    The people with the most won customers are taken until they hold
    ``rule.concentration_share`` % of the team's won customers or more (exactly the share
    counts). The guard warns when that group is one person or "a few" — at most
    ``concentration_few_people`` people, or at most ``concentration_few_share_of_team`` %
    of the team — unless the group is the whole team. None when nobody has won a customer."""
    team_won = sum(won_per_person.values())
    if not team_won:
        return None
    group, won = [], 0
    for person, count in sorted(won_per_person.items(), key=lambda item: -item[1]):
        group.append(person)
        won += count
        if won * 100 >= rule.concentration_share * team_won:
            break
    size, team_size = len(group), len(won_per_person)
    few = (
        size == 1
        or size <= rule.concentration_few_people
        or size * 100 <= rule.concentration_few_share_of_team * team_size
    )
    return WonConcentration(
        people=tuple(group), won=won, team_won=team_won, team_size=team_size, warns=few and size < team_size
    )


def team_subtree_ids(team_id: int) -> set[int]:
    """The team and all its sub-teams (one query)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Team.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    seen, stack = set(), [team_id]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(children.get(current, []))
    return seen


def balance(user: User, *, team: Team | None, today: date) -> dict:
    """Per salesperson of the team (the manager's tree, or ``team`` and its sub-teams):
    count and weighted value per grade and won customers, with the warnings of the
    method — one or a few people holding 80 % or more of the team's won customers
    (``won_concentration``), a priority customer owned by someone hired less than 90
    days ago. Constant queries."""
    team_ids = team_subtree_ids(team.pk) if team is not None else None
    people_qs = User.objects.visible_to(user).filter(is_active=True).exclude(role="admin")
    if team_ids is not None:
        people_qs = people_qs.filter(team_id__in=team_ids)
    people = list(people_qs.select_related("team").order_by("team__name", "username"))
    grades = list(Grade.objects.order_by("order"))
    cells = {
        (row["owner_id"], row["grade_id"]): row
        for row in CustomerTally.objects.filter(owner__in=people).totals("owner_id", "grade_id")
    }
    won_ids = {grade.pk for grade in grades if grade.kind == GradeKind.WON}
    rows = []
    for person in people:
        row_cells = [cells.get((person.pk, grade.pk), {"count": 0, "weighted": ZERO}) for grade in grades]
        open_cells = [cell for cell, grade in zip(row_cells, grades, strict=True) if grade.is_open]
        rows.append(
            {
                "person": person,
                "cells": row_cells,
                "open_count": sum(cell["count"] for cell in open_cells),
                "open_weighted": sum((cell["weighted"] for cell in open_cells), ZERO),
                "won": sum(cells.get((person.pk, grade_id), {"count": 0})["count"] for grade_id in won_ids),
            }
        )
    team_won = sum(row["won"] for row in rows)
    warnings = []
    concentration = won_concentration({row["person"]: row["won"] for row in rows}, FunnelSettings.load())
    if concentration is not None and concentration.warns:
        warnings.append(
            {
                "kind": "won_share",
                "person": concentration.people[0],
                "people": concentration.people,
                "text": concentration.text,
            }
        )
    hired_after = today - timedelta(days=NEW_HIRE_DAYS)
    new_hires = [person for person in people if person.hire_date and person.hire_date > hired_after]
    risky = (
        list(
            Customer.objects.filter(owner__in=new_hires, tier=Tier.PRIORITY, archived_at__isnull=True)
            .select_related("owner")
            .order_by("owner__username", "name")[:50]
        )
        if new_hires
        else []
    )
    for customer in risky:
        warnings.append(
            {
                "kind": "new_hire",
                "person": customer.owner,
                "customer": customer,
                "text": _(
                    "Priority customer %(customer)s is owned by %(name)s, hired %(days)d days ago "
                    "(less than %(limit)d)."
                )
                % {
                    "customer": customer.name,
                    "name": customer.owner.display_name,
                    "days": (today - customer.owner.hire_date).days,
                    "limit": NEW_HIRE_DAYS,
                },
            }
        )
    return {
        "grades": grades,
        "rows": rows,
        "warnings": warnings,
        "team_won": team_won,
        "concentration": concentration,
    }

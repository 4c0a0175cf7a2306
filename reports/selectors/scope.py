"""Whose numbers a report shows: the ``Scope`` resolved from the viewer and what they
asked for, and the people and customers it covers."""

from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from crm.models import Customer, Role, Team, User, owner_scope
from crm.selectors import customers_visible_to


class ScopeKind(StrEnum):
    """What a scope covers. Plain strings underneath, so templates and the API compare and
    print them as before."""

    OWNER = "owner"  # one salesperson
    TEAM = "team"  # a team tree
    MINE = "mine"  # a manager's own team tree plus themselves
    COMPANY = "company"  # admins: everything, the pool included


@dataclass(frozen=True)
class Scope:
    """Whose numbers a report shows, within what the viewer may see (``ScopeKind``)."""

    viewer: User
    kind: ScopeKind
    owner: User | None = None
    team: Team | None = None
    team_ids: frozenset = field(default_factory=frozenset)

    def q(self, owner_field: str = "owner") -> Q:
        """The scope as a filter on ``owner_field``, written as the visibility rule writes
        it (``crm.models.owner_scope``: owner IN those people, not a join on the owner's
        team); a manager's own scope is that rule."""
        if self.kind == ScopeKind.OWNER:
            return Q(**{f"{owner_field}_id": self.owner.pk})
        if self.kind == ScopeKind.TEAM:
            people = User.objects.filter(team_id__in=self.team_ids).values("pk")
            return Q(**{f"{owner_field}__in": people})
        if self.kind == ScopeKind.MINE:
            return owner_scope(self.viewer, owner_field) or Q()
        return Q()

    @property
    def title(self) -> str:
        """What a report's heading calls the scope."""
        if self.kind == ScopeKind.OWNER:
            return self.owner.display_name
        if self.kind == ScopeKind.TEAM:
            return _("Team %(team)s") % {"team": self.team.name}
        if self.kind == ScopeKind.COMPANY:
            return _("Whole company")
        return _("My team")

    @property
    def label(self) -> str:
        if self.kind == ScopeKind.OWNER:
            return self.owner.display_name
        if self.kind == ScopeKind.TEAM:
            return str(self.team)
        return ""

    def as_params(self) -> dict:
        if self.kind == ScopeKind.OWNER:
            return {"owner": self.owner.pk}
        if self.kind == ScopeKind.TEAM:
            return {"team": self.team.pk}
        return {}


def _subtree(team_id: int, pairs: list[tuple[int, int | None]] | None = None) -> frozenset:
    if pairs is None:
        pairs = list(Team.objects.values_list("id", "parent_id"))
    children: dict = defaultdict(list)
    for child, parent in pairs:
        children[parent].append(child)
    seen, stack = set(), [team_id]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(children[current])
    return frozenset(seen)


def _int_or_404(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def resolve_scope(viewer: User, *, owner=None, team=None, scope: str | None = None) -> Scope:
    """The scope a viewer asked for, or 404 when it is outside what they may see.

    Salespeople only ever get their own numbers (another owner or a team → 404).
    Managers pick themselves, anyone in their team tree, or a team of the tree;
    admins anyone and any team. Without a choice: salesperson → own, manager → their
    team tree, admin → the company.
    """
    if owner not in (None, ""):
        owner_id = _int_or_404(owner)
        if owner_id == viewer.pk:
            return Scope(viewer, ScopeKind.OWNER, owner=viewer)
        person = User.objects.visible_to(viewer).filter(pk=owner_id).select_related("team").first()
        if person is None:
            raise Http404
        return Scope(viewer, ScopeKind.OWNER, owner=person)
    if team not in (None, ""):
        team_id = _int_or_404(team)
        if not (viewer.is_admin or (viewer.is_manager and team_id in viewer.visible_team_ids)):
            raise Http404
        team_obj = Team.objects.filter(pk=team_id).first()
        if team_obj is None:
            raise Http404
        return team_scope(viewer, team_obj)
    if scope == "me" or viewer.is_salesperson:
        return Scope(viewer, ScopeKind.OWNER, owner=viewer)
    if viewer.is_admin:
        return Scope(viewer, ScopeKind.COMPANY)
    return Scope(viewer, ScopeKind.MINE, team_ids=viewer.visible_team_ids)


def team_scope(viewer: User, team: Team, teams: list[Team] | None = None) -> Scope:
    """The scope of ``team``'s tree; the caller has checked that ``viewer`` may see it.
    ``teams``: teams already loaded that hold the whole tree (no query then)."""
    pairs = None if teams is None else [(t.pk, t.parent_id) for t in teams]
    return Scope(viewer, ScopeKind.TEAM, team=team, team_ids=_subtree(team.pk, pairs))


def scope_people(scope: Scope) -> QuerySet[User]:
    """The active people whose numbers make up the scope (for per-salesperson rows)."""
    people = User.objects.filter(is_active=True).select_related("team").order_by("username")
    if scope.kind == ScopeKind.OWNER:
        return people.filter(pk=scope.owner.pk)
    if scope.kind == ScopeKind.COMPANY:
        return people.exclude(role=Role.ADMIN)
    if scope.kind == ScopeKind.MINE:
        return people.filter(Q(pk=scope.viewer.pk) | Q(team_id__in=scope.team_ids))
    return people.filter(team_id__in=scope.team_ids)


def scope_customers(scope: Scope) -> QuerySet[Customer]:
    """Live customers of the scope, through the viewer's visibility rule."""
    return customers_visible_to(scope.viewer).filter(scope.q("owner"), archived_at__isnull=True)

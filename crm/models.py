"""Users, teams and (later) the customer records they own."""
from functools import cached_property

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Team(models.Model):
    """A sales team; teams nest, and a manager sees their team and every sub-team."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent team"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="children",
    )
    manager = models.ForeignKey(
        "crm.User", verbose_name=_("manager"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="managed_teams",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    SALESPERSON = "salesperson", _("Salesperson")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Admin")


class UserQuerySet(models.QuerySet):
    def visible_to(self, user: "User") -> "UserQuerySet":
        """Colleagues a user may see and pick (e.g. as a new owner): self, team tree, or all."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_admin:
            return self
        if user.is_manager:
            return self.filter(Q(pk=user.pk) | Q(team_id__in=user.visible_team_ids))
        return self.filter(pk=user.pk)


class FunnelUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A person who signs in: salesperson, manager or admin, member of one team."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SALESPERSON)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="members",
    )
    hire_date = models.DateField(_("hire date"), null=True, blank=True)

    objects = FunnelUserManager()

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [models.Index(fields=["team", "is_active"], name="user_team_active_idx")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_salesperson(self) -> bool:
        return self.role == Role.SALESPERSON

    @cached_property
    def visible_team_ids(self) -> frozenset[int]:
        """Ids of the teams this user manages and all their sub-teams (one query, cached).

        Teams number in the tens, so walking the tree in Python is cheaper than a
        recursive CTE and works the same on SQLite and PostgreSQL.
        """
        if not self.is_manager and not self.is_admin:
            return frozenset()
        teams = list(Team.objects.values_list("id", "parent_id", "manager_id"))
        if self.is_admin:
            return frozenset(team[0] for team in teams)
        children: dict[int | None, list[int]] = {}
        for team_id, parent_id, _manager_id in teams:
            children.setdefault(parent_id, []).append(team_id)
        stack = [team_id for team_id, _parent_id, manager_id in teams if manager_id == self.pk]
        seen: set[int] = set()
        while stack:
            team_id = stack.pop()
            if team_id not in seen:
                seen.add(team_id)
                stack.extend(children.get(team_id, []))
        return frozenset(seen)


def owner_scope(user: User, owner_field: str = "owner") -> Q | None:
    """The one visibility rule for owned rows, as a filter on ``owner_field``.

    Salesperson: rows they own. Manager: rows owned by anyone in their team tree
    (and their own). Admin: everything (``None`` = no filter). Every ``visible_to``
    queryset method builds on this, so lists, counts, charts and exports agree.
    """
    if user.is_admin:
        return None
    if user.is_manager:
        return Q(**{owner_field: user.pk}) | Q(**{f"{owner_field}__team_id__in": user.visible_team_ids})
    return Q(**{owner_field: user.pk})


class OwnedQuerySet(models.QuerySet):
    """Base queryset for rows visible through their owner (or their customer's owner)."""

    owner_field = "owner"

    def visible_to(self, user) -> models.QuerySet:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        scope = owner_scope(user, self.owner_field)
        return self if scope is None else self.filter(scope)


class OutboxMessage(models.Model):
    """A task to publish to the broker, written in the same transaction as the change.

    Requests never talk to the broker directly: if Redis is down the row stays
    pending and ``crm.tasks.drain_outbox`` publishes it when the broker is back.
    Tasks published from here must be idempotent (a row may be sent twice).
    """

    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"], name="outbox_pending_idx",
                condition=Q(published_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk}"


class WorkerHeartbeat(models.Model):
    """The last time a Celery worker ran a task; ``/healthz`` reports its age."""

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name

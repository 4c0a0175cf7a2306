"""Reads of the crm app, each already scoped by the visibility rule."""
from django.db.models import Q, QuerySet

from .models import Team, User


def users_visible_to(user: User) -> QuerySet[User]:
    return User.objects.visible_to(user).select_related("team").order_by("username")


def teams_visible_to(user: User) -> QuerySet[Team]:
    """Own team plus, for managers, the managed tree; admins see all teams."""
    if user.is_admin:
        return Team.objects.order_by("name")
    return Team.objects.filter(Q(pk=user.team_id) | Q(pk__in=user.visible_team_ids)).order_by("name")

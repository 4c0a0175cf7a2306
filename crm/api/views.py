from rest_framework import viewsets

from crm import selectors

from .serializers import TeamSerializer, UserSerializer


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """Colleagues the caller may see: self (salesperson), the team tree (manager), all (admin)."""

    serializer_class = UserSerializer
    search_fields = ["username", "first_name", "last_name"]
    filterset_fields = ["role", "team", "is_active"]
    ordering_fields = ["username", "last_name", "hire_date"]

    def get_queryset(self):
        return selectors.users_visible_to(self.request.user)


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    """Teams the caller belongs to or manages (with sub-teams); admins see all."""

    serializer_class = TeamSerializer
    search_fields = ["name"]
    ordering_fields = ["name"]

    def get_queryset(self):
        return selectors.teams_visible_to(self.request.user)

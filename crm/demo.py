"""The demo organisation for development: two teams, their managers and salespeople."""
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction

from .models import Role, Team, User

DEMO_TEAMS = {"East": "mgr_east", "West": "mgr_west"}
DEMO_SALESPEOPLE = {
    "East": ["sales_east1", "sales_east2", "sales_east3"],
    "West": ["sales_west1", "sales_west2", "sales_west3"],
}
DEMO_NAMES = {
    "admin": ("Ada", "Admin"), "mgr_east": ("Wang", "Fang"), "mgr_west": ("Li", "Qiang"),
    "sales_east1": ("Zhang", "Wei"), "sales_east2": ("Liu", "Yang"), "sales_east3": ("Chen", "Jing"),
    "sales_west1": ("Zhao", "Lei"), "sales_west2": ("Huang", "Min"), "sales_west3": ("Zhou", "Tao"),
}


def demo_logins() -> list[tuple[str, str]]:
    """(username, role) of every demo login, in the order they are printed."""
    logins = [("admin", Role.ADMIN.label)]
    for team, manager in DEMO_TEAMS.items():
        logins.append((manager, f"{Role.MANAGER.label}, {team}"))
        logins.extend((name, f"{Role.SALESPERSON.label}, {team}") for name in DEMO_SALESPEOPLE[team])
    return logins


@transaction.atomic
def create_demo_organisation(today: date) -> dict[str, User]:
    """Create the demo users and teams (development only). Returns users by username."""
    if not settings.DEMO_USERS_ALLOWED:
        raise RuntimeError("Demo users are never created in production mode.")
    password = make_password(settings.DEMO_PASSWORD)

    def make_user(username: str, role: str, team: Team | None, hired_days_ago: int) -> User:
        first, last = DEMO_NAMES[username]
        return User.objects.create(
            username=username, first_name=first, last_name=last, email=f"{username}@demo.funnel.local",
            role=role, team=team, password=password, hire_date=today - timedelta(days=hired_days_ago),
            is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN,
        )

    users = {"admin": make_user("admin", Role.ADMIN, None, 2000)}
    for index, (team_name, manager_name) in enumerate(DEMO_TEAMS.items()):
        team = Team.objects.create(name=team_name)
        users[manager_name] = make_user(manager_name, Role.MANAGER, team, 1500 - index * 100)
        team.manager = users[manager_name]
        team.save(update_fields=["manager"])
        for position, username in enumerate(DEMO_SALESPEOPLE[team_name]):
            # The third salesperson of each team is a recent hire (< 90 days).
            hired_days_ago = 60 if position == 2 else 400 + position * 200
            users[username] = make_user(username, Role.SALESPERSON, team, hired_days_ago)
    return users

"""Plain predicates: who may set targets, write the weekly report, calibrate grades."""

from crm.models import Team, User


def can_set_target(user: User, *, owner: User | None = None, team: Team | None = None) -> bool:
    """Managers set targets inside their team tree (not their own), admins anywhere."""
    if user.is_admin:
        return True
    if team is not None:
        return team.pk in user.visible_team_ids
    return owner is not None and owner.pk != user.pk and user.oversees(owner)


def can_write_weekly_report(user: User, team: Team) -> bool:
    """The team's managers (of it or a team above it) and admins: their team tree holds it."""
    return team.pk in user.visible_team_ids


def can_calibrate(user: User) -> bool:
    """Apply a suggested win probability to a grade: admins, who configure the grades."""
    return user.is_admin


def can_run_meeting(user: User, team: Team) -> bool:
    """Hold the team's sales meetings: the same people who write its weekly report."""
    return can_write_weekly_report(user, team)


def can_adjust_forecast(user: User, *, owner: User | None = None, team: Team | None = None) -> bool:
    """Adjust a salesperson's or a team's forecast: the people who set their targets."""
    return can_set_target(user, owner=owner, team=team)

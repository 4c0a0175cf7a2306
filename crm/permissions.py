"""Plain predicates: who may do what with customer records (visibility comes first)."""

from .models import CrmSettings, User


def can_own(user: User, owner: User | None) -> bool:
    """May ``user`` put a customer in ``owner``'s name (None = the public pool)?"""
    if user.is_admin:
        return True
    if owner is None:
        return user.is_manager
    if user.is_manager:
        return owner.pk == user.pk or owner.team_id in user.visible_team_ids
    return owner.pk == user.pk


def can_manage_records(user: User) -> bool:
    """Restore archived customers and merge duplicates: managers and admins."""
    return user.is_manager or user.is_admin


def can_curate_tags(user: User) -> bool:
    """Add new tags, the vocabulary every team shares: admins (others pick existing ones)."""
    return user.is_admin


def can_export(user: User, crm_settings: CrmSettings) -> bool:
    if user.is_manager or user.is_admin:
        return True
    return crm_settings.salespeople_may_export

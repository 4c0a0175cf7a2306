"""Plain predicates: who may do what with customer records (visibility comes first)."""

from .models import CrmSettings, User


def can_own(user: User, owner: User | None) -> bool:
    """May ``user`` put a customer in ``owner``'s name (None = the public pool)?"""
    if owner is None:
        return user.is_manager_or_admin
    return owner.pk == user.pk or user.oversees(owner)


def can_curate_tags(user: User) -> bool:
    """Add new tags, the vocabulary every team shares: admins (others pick existing ones)."""
    return user.is_admin


def can_export(user: User, crm_settings: CrmSettings | None = None) -> bool:
    """Export lists and reports: managers and admins, salespeople when the company allows
    it (the settings row is read only for them, when not given)."""
    if user.is_manager_or_admin:
        return True
    return (crm_settings or CrmSettings.load()).salespeople_may_export

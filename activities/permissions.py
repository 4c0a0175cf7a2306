"""Plain predicates: who may do what with plans, reports and activities (visibility comes first)."""

from crm.models import User


def is_reviewer_of(user: User, owner: User) -> bool:
    """Approve, return or sign off ``owner``'s plans and reports: the manager of the
    owner's team or of a team above it, or an admin — never the owner themselves."""
    return user.pk != owner.pk and user.is_active and user.oversees(owner)


def is_owner(user: User, row) -> bool:
    """Only the owner fills in, edits and submits their plan or report."""
    return row.owner_id == user.pk


def can_correct_location(user: User, customer) -> bool:
    """Set or correct where a customer is (for check-ins): its owner, or a manager or an
    admin who can see it (visibility is checked first)."""
    return customer.owner_id == user.pk or user.is_manager_or_admin


def can_manage_companions(user: User, visit) -> bool:
    """Add or remove who went along on a visit: the visitor, their manager or an admin."""
    return visit.owner_id == user.pk or is_reviewer_of(user, visit.owner)


def can_read_coaching(user: User, visit, companion) -> bool:
    """A coaching note is for the salesperson: they read it, so do their managers and
    admins, and its author; another companion (a mentor) does not."""
    return user.pk in (visit.owner_id, companion.user_id) or is_reviewer_of(user, visit.owner)

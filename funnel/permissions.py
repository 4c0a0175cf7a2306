"""Plain predicates: who may manage the funnel's owners, pool, handovers and conflicts.

Visibility comes first (``visible_to``); these answer "may this user do that" for
rows they can see. Managers act within their team tree, admins anywhere.
"""

from crm.models import Customer, User

from .models import ConflictClaim, HandoverTask


def in_tree(user: User, person: User | None) -> bool:
    """Is ``person`` the user, or a member of a team the user manages (or any, for admins)?"""
    return person is not None and (person.pk == user.pk or user.oversees(person))


def can_reassign(user: User, current_owner: User | None, new_owner: User) -> bool:
    """Managers move customers between people of their tree (both ends in it); admins
    anywhere, the public pool included. Locks are checked by the service."""
    if user.is_admin:
        return True
    if not user.is_manager:
        return False
    return in_tree(user, current_owner) and in_tree(user, new_owner)


def can_force(user: User) -> bool:
    """Only an admin may move a customer at a locked grade (with a written reason)."""
    return user.is_admin


def can_claim(user: User) -> bool:
    """Salespeople and managers take customers from the pool for themselves."""
    return user.is_active and (user.is_salesperson or user.is_manager)


def can_release(user: User, customer: Customer) -> bool:
    """The owner, a manager over the owner, or an admin sends a customer to the pool."""
    return customer.owner_id is not None and in_tree(user, customer.owner)


def can_run_departure(user: User, leaver: User) -> bool:
    """A manager for a member of their tree (not themselves), an admin for anyone else."""
    return leaver.pk != user.pk and leaver.is_active and user.oversees(leaver)


def can_settle(user: User, conflict: ConflictClaim) -> bool:
    """A manager over both salespeople settles a conflict; across teams, an admin does."""
    if user.is_admin:
        return True
    return (
        user.is_manager
        and conflict.claimant_id != user.pk
        and conflict.holder_id != user.pk
        and in_tree(user, conflict.claimant)
        and in_tree(user, conflict.holder)
    )


def can_tick(user: User, task: HandoverTask) -> bool:
    """The new owner ticks their task; a manager over them or an admin may too."""
    return task.owner_id == user.pk or in_tree(user, task.owner)

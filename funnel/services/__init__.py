"""Writes of the funnel: grades (the only way grades move), owners (reassignment,
departure, the public pool), stagnation alerts, handover tasks and conflicts — one
module per section, their public names gathered here for ``services.x(...)`` callers.

Every public function is keyword-only, runs in one transaction and says who may call
it and what makes it safe to repeat.
"""

from ._common import StaleWrite
from .conflicts import raise_conflict, settle_conflict
from .departure import DepartureResult, apply_departure
from .grades import GradeConflict, change_grade, delete_grade, record_order, save_grade
from .handover import complete_handover_tasks, tick_handover_task
from .pool import (
    PoolSweep,
    claim_customer,
    idle_since_expression,
    open_customer_count,
    pool_return_candidates,
    release_customer,
    return_idle_customers,
)
from .reassignment import (
    ReassignConflict,
    ReassignResult,
    Refusal,
    customer_archived,
    reassign,
    reassign_customer,
)
from .stagnation import (
    MAX_SNOOZE_DAYS,
    StagnationScan,
    close_stagnation_alerts,
    refresh_stagnation_clock,
    save_funnel_settings,
    scan_stagnation,
    snooze_alert,
)

__all__ = [
    "MAX_SNOOZE_DAYS",
    "DepartureResult",
    "GradeConflict",
    "PoolSweep",
    "ReassignConflict",
    "ReassignResult",
    "Refusal",
    "StagnationScan",
    "StaleWrite",
    "apply_departure",
    "change_grade",
    "claim_customer",
    "close_stagnation_alerts",
    "complete_handover_tasks",
    "customer_archived",
    "delete_grade",
    "idle_since_expression",
    "open_customer_count",
    "pool_return_candidates",
    "raise_conflict",
    "reassign",
    "reassign_customer",
    "record_order",
    "refresh_stagnation_clock",
    "release_customer",
    "return_idle_customers",
    "save_funnel_settings",
    "save_grade",
    "scan_stagnation",
    "settle_conflict",
    "snooze_alert",
    "tick_handover_task",
]

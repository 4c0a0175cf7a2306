"""Reads of the reports app. Every function takes a ``Scope`` resolved from the viewer
(``resolve_scope``), so a number never includes what the viewer's lists would hide.

Each selector runs a fixed number of grouped queries, whatever the data size. The
modules, each along one seam: ``scope`` (whose numbers), ``flows`` (grade moves, the
base of every rate), ``conversion`` (rates, days in grade, calibration), ``targets``
(targets vs actual), ``dashboard`` (the funnel dashboard), ``backward_plan``,
``activity`` (what salespeople did), ``weekly`` (the weekly manager report) and
``figures`` (shared small figures). The public names are re-exported here, so callers
write ``from reports import selectors``.
"""

from .activity import (
    activity_by_grade,
    activity_funnel,
    activity_progress,
    activity_targets_visible_to,
    negotiation_report,
)
from .backward_plan import average_order, backward_plan_report
from .conversion import (
    CALIBRATION_MARGIN,
    CALIBRATION_MIN_SAMPLE,
    MIN_RATE_SAMPLE,
    RATE_WINDOW_DAYS,
    StageRate,
    calibration,
    conversion_rates,
    conversion_report,
    trailing_window,
)
from .dashboard import chart_data, funnel_dashboard
from .figures import LIST_LIMIT, ZERO
from .flows import (
    BY_DAY,
    BY_OWNER,
    NO_KEY,
    FlowKey,
    by_week_or_day,
    created_grade,
    customers_as_of,
    grade_flows,
    live_flows,
    move_direction,
    movement_q,
)
from .scope import Scope, ScopeKind, resolve_scope, scope_customers, scope_people, team_scope
from .targets import EXCEEDED_FROM, quota_report, quota_vs_target, target_status, targets_visible_to
from .weekly import rollups_visible_to, weekly_report

__all__ = [
    "BY_DAY",
    "BY_OWNER",
    "CALIBRATION_MARGIN",
    "CALIBRATION_MIN_SAMPLE",
    "EXCEEDED_FROM",
    "LIST_LIMIT",
    "MIN_RATE_SAMPLE",
    "NO_KEY",
    "RATE_WINDOW_DAYS",
    "ZERO",
    "FlowKey",
    "Scope",
    "ScopeKind",
    "StageRate",
    "activity_by_grade",
    "activity_funnel",
    "activity_progress",
    "activity_targets_visible_to",
    "average_order",
    "backward_plan_report",
    "by_week_or_day",
    "calibration",
    "chart_data",
    "conversion_rates",
    "conversion_report",
    "created_grade",
    "customers_as_of",
    "funnel_dashboard",
    "grade_flows",
    "live_flows",
    "move_direction",
    "movement_q",
    "negotiation_report",
    "quota_report",
    "quota_vs_target",
    "resolve_scope",
    "rollups_visible_to",
    "scope_customers",
    "scope_people",
    "target_status",
    "targets_visible_to",
    "team_scope",
    "trailing_window",
    "weekly_report",
]

"""Blocks that the funnel's data adds to "my day": open handover tasks and stagnation alerts.

Each block is ``{"key", "title", "template", "items", "more"}``; ``activities/my_day.html``
renders them after the cadence block. Each costs one query, whatever the data, and
shows at most ``MY_DAY_ROWS`` rows.
"""

from collections.abc import Callable
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import User
from funnel import selectors as funnel_selectors

from . import selectors
from .selectors import MY_DAY_ROWS


def _rows(queryset) -> tuple[list, bool]:
    rows = list(queryset[: MY_DAY_ROWS + 1])
    return rows[:MY_DAY_ROWS], len(rows) > MY_DAY_ROWS


def extra_blocks(user: User) -> list[dict]:
    today = timezone.localdate()
    tasks, more_tasks = _rows(funnel_selectors.open_handover_tasks_for(user))
    for task in tasks:
        task.row_id = f"handover-{task.pk}"
        task.days_overdue = (today - task.due_on).days
    alerts, more_alerts = _rows(funnel_selectors.open_alerts_for(user))
    for alert in alerts:
        alert.row_id = f"alert-{alert.pk}"
    joined = selectors.visits_joined(user, today)
    return [
        {
            "key": "handover",
            "title": _("Handover tasks"),
            "template": "activities/_my_day_handover.html",
            "items": tasks,
            "more": more_tasks,
        },
        {
            "key": "alerts",
            "title": _("Alerts"),
            "template": "activities/_my_day_alerts.html",
            "items": alerts,
            "more": more_alerts,
        },
        # Shown only on a day the user goes along on someone's visit (陪同拜访).
        *(
            [
                {
                    "key": "joined",
                    "title": _("Visits you join today"),
                    "template": "activities/_my_day_joined.html",
                    "items": joined,
                    "more": False,
                }
            ]
            if joined
            else []
        ),
        *(block for provider in _block_providers for block in provider(user)),
    ]


# --- Blocks of higher apps -----------------------------------------------------------------
# Apps above this one (reports: a meeting's action items) add blocks from their
# AppConfig.ready(), in the same shape, each rendered from its own template.

BlockProvider = Callable[[User], list[dict]]
_block_providers: list[BlockProvider] = []


def register_block_provider(provider: BlockProvider) -> None:
    """``provider(user)`` → blocks (``{"key", "title", "template", "items", "more"}``), constant queries."""
    if provider not in _block_providers:
        _block_providers.append(provider)


# --- Progress against targets --------------------------------------------------------------
# Activity targets live in the reports app, above this one: reports registers a provider
# from its AppConfig.ready(), so "my day" shows "12 / 20 calls" without importing reports.

ProgressProvider = Callable[[User, date], list[dict]]
_progress_providers: list[ProgressProvider] = []


def register_progress_provider(provider: ProgressProvider) -> None:
    """``provider(user, day)`` → ``[{"cadence", "metric", "done", "target"}]``, constant queries."""
    if provider not in _progress_providers:
        _progress_providers.append(provider)


def target_progress(user: User, day: date) -> list[dict]:
    return [row for provider in _progress_providers for row in provider(user, day)]

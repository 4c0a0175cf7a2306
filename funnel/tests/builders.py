"""Builders for the funnel-management tests (alerts, reassignment, pool, conflicts).

Customers are created through ``crm.services.create_customer`` (via the factory) at a
moment in the past, so ``created_at``, ``grade_entered_at`` and ``stagnant_from`` agree
as they would in production. Transactional tests truncate every table, so the default
handover templates are put back on demand like the default grades.
"""

import importlib
from datetime import datetime, timedelta
from decimal import Decimal

import time_machine
from django.utils import timezone

from crm.models import Customer, User
from crm.tests.factories import CustomerFactory
from funnel.models import FunnelSettings, HandoverStep
from funnel.tests.factories import apps_as_of, ensure_default_grades, grade

_default_steps = importlib.import_module("funnel.migrations.0005_default_handover_steps")
_won_step = importlib.import_module("funnel.migrations.0014_won_handover_step")


def ensure_default_handover_steps() -> None:
    ensure_default_grades()
    if not HandoverStep.objects.exists():
        _default_steps.create_default_steps(
            apps_as_of("funnel", "0005_default_handover_steps"), schema_editor=None
        )
        _won_step.create_won_step(apps_as_of("funnel", "0014_won_handover_step"), schema_editor=None)


def customer_at(
    code: str,
    owner: User | None,
    *,
    days_ago: float = 0,
    by: User | None = None,
    now: datetime | None = None,
    **fields,
) -> Customer:
    """A live customer that entered grade ``code`` (and was created) ``days_ago`` days before ``now``."""
    ensure_default_handover_steps()
    moment = (now or timezone.now()) - timedelta(days=days_ago)
    fields.setdefault("expected_value", Decimal(100_000))
    with time_machine.travel(moment, tick=False):
        return CustomerFactory(owner=owner, grade=grade(code), by=by or owner, **fields)


def funnel_settings(**values) -> FunnelSettings:
    """Update the funnel settings row (created with its defaults when missing)."""
    FunnelSettings.load()
    FunnelSettings.objects.filter(pk=1).update(**values)
    return FunnelSettings.load()

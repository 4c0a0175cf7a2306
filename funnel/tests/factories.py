"""Grade lookups by code for tests.

The default grades come from the data migration ``0002_default_grades``. Transactional
tests (the role matrix, the outbox) truncate every table when they finish, so a
lookup puts the defaults back first when the table was emptied.
"""

import importlib
from functools import cache

from django.db import connection
from django.db.migrations.loader import MigrationLoader

from core.models import Grade

_default_grades = importlib.import_module("funnel.migrations.0002_default_grades")
_default_forecast = importlib.import_module("core.migrations.0003_grade_forecast_category")


@cache
def apps_as_of(app_label: str, migration: str):
    """The models as a data migration knew them, to run it again after a flush: the grades
    were the funnel's then (they moved to core in the state only, same tables)."""
    return MigrationLoader(connection, ignore_no_migrations=True).project_state((app_label, migration)).apps


def ensure_default_grades() -> None:
    if not Grade.objects.exists():
        _default_grades.create_default_grades(apps_as_of("funnel", "0002_default_grades"), schema_editor=None)
        _default_forecast.set_default_forecast_categories(
            apps_as_of("core", "0003_grade_forecast_category"), schema_editor=None
        )


def grade(code: str) -> Grade:
    """The grade with this code (E, D, C, B, A, WON, LOST by default)."""
    ensure_default_grades()
    return Grade.objects.get(code=code)

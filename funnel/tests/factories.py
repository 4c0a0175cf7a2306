"""Grade lookups by code for tests.

The default grades come from the data migration ``0002_default_grades``. Transactional
tests (the role matrix, the outbox) truncate every table when they finish, so a
lookup puts the defaults back first when the table was emptied.
"""

import importlib

from django.apps import apps

from funnel.models import Grade

_default_grades = importlib.import_module("funnel.migrations.0002_default_grades")


def ensure_default_grades() -> None:
    if not Grade.objects.exists():
        _default_grades.create_default_grades(apps, schema_editor=None)


def grade(code: str) -> Grade:
    """The grade with this code (E, D, C, B, A, WON, LOST by default)."""
    ensure_default_grades()
    return Grade.objects.get(code=code)

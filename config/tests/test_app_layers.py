"""The apps stand on each other one way: core ← crm ← funnel ← activities ← reports, with
config on top. An app's code imports only its own layer and those below, its models
point only down, and no migration written since the core app came declares an upward
dependency (older ones keep their historical dependencies, listed below).

Tests are not walked: they exercise the assembled product (a crm test may build a
funnel at some grade). The user model is swappable (``settings.AUTH_USER_MODEL``), so a
reference to it from below, like ``django.contrib.admin``'s, is not an upward edge.
"""

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db.migrations.loader import MigrationLoader

LAYERS = ["core", "crm", "funnel", "activities", "reports", "config"]
RANK = {app: rank for rank, app in enumerate(LAYERS)}
ROOT = Path(settings.BASE_DIR)
# Written before the grades moved to core (crm needed funnel's Grade then).
HISTORICAL_UPWARD_MIGRATIONS = {
    ("crm", "0003_customer_owner_grade_and_indexes"),
    ("crm", "0004_customer_contact_dates_and_notifications"),
    ("crm", "0007_customer_stagnant_index"),
    ("crm", "0009_customer_weighted_value"),
    ("crm", "0010_customer_index_pruning"),
    ("crm", "0011_customer_tally"),
    ("crm", "0015_customer_live_phone_unique"),
}


def _app_modules():
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "tests" not in parts and "migrations" not in parts:
                yield app, path


def _imported_apps(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in RANK:
                yield node.lineno, top


def test_no_app_code_imports_a_higher_app():
    upward = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for app, path in _app_modules()
        for line, target in _imported_apps(path)
        if RANK[target] > RANK[app]
    ]
    assert upward == []


def test_no_model_points_up():
    upward = []
    for model in apps.get_models(include_auto_created=True):
        own = model._meta.app_label
        if own not in RANK:
            continue
        for field in model._meta.get_fields():
            related = field.related_model if field.is_relation and field.concrete else None
            if related is None or related._meta.swapped or related._meta.label == settings.AUTH_USER_MODEL:
                continue
            target = related._meta.app_label
            if target in RANK and RANK[target] > RANK[own]:
                upward.append(f"{model._meta.label}.{field.name} → {related._meta.label}")
    assert upward == []


def _on_the_user_model(dependency) -> bool:
    """``swappable_dependency(settings.AUTH_USER_MODEL)``: whichever app holds the user."""
    return getattr(dependency, "setting", None) == settings.AUTH_USER_MODEL


def test_no_new_migration_depends_on_a_higher_app():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    upward = sorted(
        f"{app}.{name} depends on {'.'.join(dependency)}"
        for (app, name), migration in loader.disk_migrations.items()
        if app in RANK and (app, name) not in HISTORICAL_UPWARD_MIGRATIONS
        for dependency in migration.dependencies
        if RANK.get(dependency[0], -1) > RANK[app] and not _on_the_user_model(dependency)
    )
    assert upward == []


def test_the_historical_exceptions_are_still_needed():
    """The list above only shrinks: a name in it that no longer depends upward goes."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for app, name in HISTORICAL_UPWARD_MIGRATIONS:
        dependencies = loader.disk_migrations[app, name].dependencies
        assert any(RANK.get(dep_app, -1) > RANK[app] for dep_app, _name in dependencies), (app, name)

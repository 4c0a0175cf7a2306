import pytest

from .factories import ensure_default_catalog


@pytest.fixture(autouse=True)
def default_catalog(db):
    """The seeded objections and cadence rules (a transactional test may have emptied them)."""
    ensure_default_catalog()

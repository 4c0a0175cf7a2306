"""How the app's database sessions are set up."""

import pytest
from django.db import connection

from conftest import skip_or_fail


@pytest.mark.django_db
def test_postgresql_sessions_cost_random_reads_as_on_ssds():
    """Without it the funnel dashboard's covering index loses to a table scan (README)."""
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://…")
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone() == ("1.1",)

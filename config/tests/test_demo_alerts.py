"""Right after ``make run`` (``seed_demo`` on an empty database), every page that says
"stuck" names the same customers: the funnel dashboard, the customer list's stagnant
filter and the alerts page (issue 16, item 3)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from crm.filters import CustomerFilter
from crm.models import User
from crm.selectors import customers_visible_to

pytestmark = pytest.mark.django_db


def _alerted_customers(client) -> tuple[list[int], dict]:
    """Every customer on the alerts page (all its pages, as first shown), and its counts."""
    ids, page, counts = [], 1, None
    while True:
        response = client.get(reverse("funnel:alert-list"), {"page": page})
        assert response.status_code == 200
        counts = counts or response.context["counts"]
        ids += [alert.customer_id for alert in response.context["alerts"]]
        if not response.context["page_obj"].has_next():
            return ids, counts
        page += 1


@pytest.fixture
def demo():
    call_command("seed_demo", "--if-empty", stdout=StringIO())


@pytest.mark.parametrize("username", ["mgr_east", "mgr_west", "admin", "sales_east2"])
def test_the_alerts_page_lists_exactly_the_customers_the_funnel_shows_as_stuck(demo, client, username):
    user = User.objects.get(username=username)
    client.force_login(user)

    funnel = client.get(reverse("reports:funnel")).context
    alerted, counts = _alerted_customers(client)
    stagnant_filter = CustomerFilter({"stagnant": "true"}, queryset=customers_visible_to(user))
    listed_stagnant = set(stagnant_filter.qs.values_list("pk", flat=True))

    assert funnel["stuck_count"] > 0
    assert (
        len(alerted) == len(set(alerted)) == funnel["stuck_count"] == counts["stuck"] == counts["to_act_on"]
    )
    assert set(alerted) == listed_stagnant
    # The funnel lists the longest-stuck first, as the alerts page does.
    assert [customer.pk for customer in funnel["stuck"]] == alerted[: len(funnel["stuck"])]

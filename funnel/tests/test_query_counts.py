"""The funnel's lists run the same number of SQL queries with 10 and with 1,000 customers
(asked once at 10, grown to 1,000, asked again; the pinned count names its queries).

A signed-in browser's session is written only when its last renewal is five minutes old
(``SESSION_RENEW_SECONDS``): the first request of each test renews it, so the counts
below hold no session write.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import Order
from crm.tests.factories import bulk_customers
from crm.tests.query_counts import same_queries_for_10_and_1000, signed_in
from funnel.models import GradeChange
from funnel.tests.factories import grade


@pytest.fixture
def grow(personas):
    """``grow(total)`` brings ``salesperson`` to ``total`` customers at D, each with an
    order and a grade change E → D, and another team to as many."""
    state = {"count": 0}

    def grow_to(total: int) -> None:
        start, count = state["count"], total - state["count"]
        now, e, d = timezone.now(), grade("E"), grade("D")
        for owner, prefix in ((personas.salesperson, "Mine"), (personas.other_salesperson, "Theirs")):
            customers = bulk_customers(owner=owner, count=count, start=start, grade=d, prefix=prefix)
            Order.objects.bulk_create(
                [
                    Order(customer=c, owner=owner, amount=Decimal(1000), signed_on=date(2025, 1, 1))
                    for c in customers
                ]
            )
            GradeChange.objects.bulk_create(
                [
                    GradeChange(
                        customer=c, from_grade=e, to_grade=d, changed_at=now, changed_by=owner, owner=owner
                    )
                    for c in customers
                ]
            )
        state["count"] = total

    return grow_to


def test_the_order_api_list(grow, client_as, django_assert_num_queries):
    client = signed_in(client_as, "salesperson")

    # 1 session, 2 user, 3 count, 4 the page of orders.
    responses = same_queries_for_10_and_1000(
        grow, django_assert_num_queries, 4, lambda: client.get(reverse("order-list"))
    )

    assert [r.json()["count"] for r in responses] == [10, 1000]


def test_the_grade_change_api_list(grow, client_as, django_assert_num_queries):
    client = signed_in(client_as, "manager")

    # 1 session, 2 user, 3 the team tree, 4 count, 5 the page of grade changes (grades,
    # customer and people joined).
    responses = same_queries_for_10_and_1000(
        grow, django_assert_num_queries, 5, lambda: client.get(reverse("gradechange-list"))
    )

    assert [r.json()["count"] for r in responses] == [10, 1000]


def test_the_funnel_summary_page(grow, client_as, django_assert_num_queries):
    client = signed_in(client_as, "manager")

    # 1 session, 2 user, 3 the team tree, 4 count, expected and weighted value per grade
    # (one grouped query), 5 the grades, 6 the notification bell's unread count (base
    # template), 7 the salesperson choices.
    responses = same_queries_for_10_and_1000(
        grow, django_assert_num_queries, 7, lambda: client.get(reverse("funnel:summary"))
    )

    assert [r.context["total_count"] for r in responses] == [10, 1000]

"""Helpers of the query-count tests (crm, funnel): a page asked at 10 and at 1,000
customers must run the same pinned number of SQL queries."""

from django.urls import reverse


def signed_in(client_as, role):
    client = client_as(role)
    client.get(reverse("home"))  # a fresh session records its start once; not the page's cost
    return client


def same_queries_for_10_and_1000(grow, django_assert_num_queries, expected: int, request):
    """``request()`` at 10 customers, then grown to 1,000: ``expected`` queries both times."""
    responses = []
    for total in (10, 1000):
        grow(total)
        with django_assert_num_queries(expected):
            responses.append(request())
    return responses

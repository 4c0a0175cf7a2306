""" "My day"'s rows link to the customer and to logging an activity, from URLs the view
reverses once per page (activities.views._label_rows), not twice per row."""

from django.urls import reverse
from django.utils import timezone

from crm.models import Customer
from crm.tests.factories import bulk_customers
from funnel.tests.factories import grade


def _due_customers(owner, count: int, prefix: str) -> list[Customer]:
    customers = bulk_customers(owner=owner, count=count, grade=grade("D"), prefix=prefix)
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(next_follow_up_on=timezone.localdate())
    return customers


def test_a_row_links_to_its_customer_and_to_logging_a_call_or_visit_that_returns_here(client_as, personas):
    [customer] = _due_customers(personas.salesperson, 1, "Linked")

    html = client_as("salesperson").get(reverse("home")).content.decode()

    log_url = reverse("activities:log-activity", args=[customer.pk])
    assert f'<a class="fw-semibold" href="{reverse("crm:customer-detail", args=[customer.pk])}">' in html
    assert f'href="{log_url}?kind=call&amp;next=/"' in html
    assert f'hx-get="{log_url}?kind=visit&amp;row=follow-{customer.pk}&amp;next=/"' in html


def test_the_rows_reverse_no_url_each(client_as, personas, url_reversals):
    client = client_as("salesperson")
    counts = []
    for count in (1, 10):
        _due_customers(personas.salesperson, count, f"Rows{count}")
        url_reversals.clear()
        assert client.get(reverse("home")).status_code == 200
        counts.append(len(url_reversals))

    assert counts[0] == counts[1]

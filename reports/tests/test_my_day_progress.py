"""Today's progress against activity targets on "my day" (the method's volume discipline)."""

from django.urls import reverse
from django.utils import timezone

from activities.tests.factories import log_call
from crm.tests.factories import CustomerFactory
from reports.models import ActivityCadence, ActivityTarget


def test_my_day_shows_calls_done_against_the_daily_target(personas, client_as):
    # given: a target of 20 calls a day and 3 calls logged today
    salesperson = personas.salesperson
    ActivityTarget.objects.create(owner=salesperson, cadence=ActivityCadence.DAY, calls=20)
    customer = CustomerFactory(owner=salesperson)
    for _ in range(3):
        log_call(customer, by=salesperson, started_at=timezone.now())

    # when
    response = client_as("salesperson").get(reverse("home"))

    # then
    assert response.status_code == 200
    assert 'data-testid="target-progress"' in response.content.decode()
    assert "3 / 20 calls" in response.content.decode()


def test_my_day_without_targets_shows_no_progress_block(personas, client_as):
    response = client_as("salesperson").get(reverse("home"))
    assert 'data-testid="target-progress"' not in response.content.decode()

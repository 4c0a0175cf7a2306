"""The balance view: per salesperson, count and weighted value per grade and won customers,
with the method's warnings."""

from datetime import timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from crm.models import User
from funnel import selectors
from funnel.tests.builders import customer_at


def _row(data, user):
    return next(row for row in data["rows"] if row["person"] == user)


def test_counts_and_weighted_value_per_grade(personas):
    customer_at("D", personas.salesperson, expected_value=Decimal(1_000_000))
    customer_at("D", personas.salesperson, expected_value=Decimal(500_000))
    customer_at("C", personas.teammate, expected_value=Decimal(1_000_000))
    customer_at("D", personas.other_salesperson)

    data = selectors.balance(personas.manager, team=None, today=timezone.localdate())

    codes = [grade.code for grade in data["grades"]]
    mine = _row(data, personas.salesperson)
    cell = mine["cells"][codes.index("D")]
    assert (cell["count"], cell["weighted"]) == (2, Decimal("300000.00"))
    assert (mine["open_count"], mine["open_weighted"]) == (2, Decimal("300000.00"))
    assert _row(data, personas.teammate)["open_weighted"] == Decimal("400000.00")
    assert personas.other_salesperson not in [row["person"] for row in data["rows"]]


def test_warns_when_one_person_holds_80_percent_or_more_of_the_won_customers(personas):
    for _ in range(5):
        customer_at("WON", personas.salesperson)
    customer_at("WON", personas.teammate)

    warnings = selectors.balance(personas.manager, team=None, today=timezone.localdate())["warnings"]

    assert [(w["kind"], w["person"]) for w in warnings] == [("won_share", personas.salesperson)]
    assert "5 of 6" in warnings[0]["text"]


def test_exactly_80_percent_warns(personas):
    for _ in range(4):
        customer_at("WON", personas.salesperson)
    customer_at("WON", personas.teammate)

    warnings = selectors.balance(personas.manager, team=None, today=timezone.localdate())["warnings"]

    assert [(w["kind"], w["person"]) for w in warnings] == [("won_share", personas.salesperson)]
    assert "80.0 %" in warnings[0]["text"] and "4 of 5" in warnings[0]["text"]


def test_warns_about_priority_customers_of_recent_hires(personas):
    today = timezone.localdate()
    User.objects.filter(pk=personas.teammate.pk).update(hire_date=today - timedelta(days=30))
    User.objects.filter(pk=personas.salesperson.pk).update(hire_date=today - timedelta(days=400))
    customer_at("D", personas.teammate, tier="priority", name="Key Account")
    customer_at("D", personas.teammate, tier="normal")
    customer_at("D", personas.salesperson, tier="priority")

    warnings = selectors.balance(personas.manager, team=None, today=today)["warnings"]

    assert [(w["kind"], w["customer"].name) for w in warnings] == [("new_hire", "Key Account")]
    assert "hired 30 days ago" in warnings[0]["text"]


def test_the_page_and_the_api_for_a_sub_team(personas, client_as):
    customer_at("D", personas.sub_salesperson)
    sub_team = personas.sub_salesperson.team

    page = client_as("manager").get(reverse("funnel:balance"), {"team": sub_team.pk})
    api = client_as("manager").get(reverse("report-balance"), {"team": sub_team.pk})

    assert page.status_code == 200 and personas.sub_salesperson.display_name in page.content.decode()
    assert personas.teammate.display_name not in page.content.decode()
    assert [row["user"] for row in api.json()["rows"]] == [personas.sub_salesperson.pk]
    assert api.json()["rows"][0]["per_grade"]["D"]["count"] == 1
    assert client_as("other_manager").get(reverse("report-balance"), {"team": sub_team.pk}).status_code == 404
    assert client_as("salesperson").get(reverse("funnel:balance")).status_code == 403

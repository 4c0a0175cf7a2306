"""The backward plan says which conversion rates are measured and which are assumed, on
the page, in the export and in the API; the period summary averages only the weeks'
measured rates and names the weeks that had no data instead of averaging in stand-ins."""

import csv
import io
from datetime import date, datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from crm.tests.factories import CustomerFactory
from funnel.models import GradeChange
from funnel.tests.factories import grade

pytestmark = pytest.mark.django_db

# Wednesday of the fifth week of March 2026: the month's weeks so far begin on 23 Feb (the
# week holding 1 March), 2, 9, 16 and 23 March.
NOW = datetime(2026, 3, 25, 12, 0)
WEEKS = ["2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"]


def _at(year, month, day):
    return timezone.make_aware(datetime(year, month, day, 12, 0), timezone.get_default_timezone())


@pytest.fixture
def c_measured_from_the_third_week(personas):
    """Six customers leave C on 10 March — three up to B, three lost — so C's rate is measured
    (50 %) from the week of 9 March on; no other grade is ever left by five customers."""
    seller = personas.salesperson
    customer = CustomerFactory(owner=seller, grade=grade("E"))
    GradeChange.objects.bulk_create(
        [
            GradeChange(
                customer=customer,
                from_grade=grade("C"),
                to_grade=grade("B" if n < 3 else "LOST"),
                changed_at=_at(2026, 3, 10),
                owner=seller,
                days_in_previous=n,
            )
            for n in range(6)
        ]
    )
    with time_machine.travel(timezone.make_aware(NOW, timezone.get_default_timezone()), tick=False):
        yield personas


def test_the_api_flags_measured_and_assumed_rates_and_averages_only_the_measured(
    c_measured_from_the_third_week, client_as
):
    body = (
        client_as("salesperson")
        .get(reverse("report-backward-plan"), {"target_orders": 10, "period": "month"})
        .json()
    )

    assert [(row["code"], row["measured"]) for row in body["plan"]] == [
        ("E", False),
        ("D", False),
        ("C", True),
        ("B", False),
        ("A", False),
    ]
    assert [week["week_start"] for week in body["weeks"]] == WEEKS
    c_by_week = [next(r for r in week["rates"] if r["code"] == "C") for week in body["weeks"]]
    assert [rate["measured"] for rate in c_by_week] == [False, False, True, True, True]
    averages = {average["code"]: average for average in body["average_rates"]}
    # the mean of the three measured weeks (50 % each), not of five weeks with two stand-ins
    assert averages["C"] == {
        "code": "C",
        "average": "0.500",
        "measured_weeks": 3,
        "weeks_without_data": ["2026-02-23", "2026-03-02"],
    }
    assert (averages["E"]["average"], averages["E"]["measured_weeks"]) == (None, 0)
    assert averages["E"]["weeks_without_data"] == WEEKS


def test_the_page_labels_each_rate_and_says_which_weeks_had_no_data(
    c_measured_from_the_third_week, client_as
):
    response = client_as("salesperson").get(
        reverse("reports:backward-plan"), {"period": "month", "target_kind": "orders", "target": "10"}
    )

    page = response.content.decode()
    assert page.count('data-testid="assumed"') == 4  # E, D, B and A in the plan
    assert "No data in the period" in page  # E, D, B and A in the summary
    averages = {average.code: average for average in response.context["report"].average_rates}
    assert averages["C"].weeks_without_data == (date(2026, 2, 23), date(2026, 3, 2))
    assert "3 / 5" in page
    assert "not averaged in" in page


def test_the_export_says_measured_or_assumed(c_measured_from_the_third_week, client_as):
    response = client_as("manager").get(
        reverse("reports:backward-plan-export"),
        {"period": "month", "target_kind": "orders", "target": "10", "file_format": "csv", "owner": ""},
    )

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][-1] == "Rate measured or assumed"
    assert {row[0]: row[-1] for row in rows[1:6]} == {
        "E": "assumed",
        "D": "assumed",
        "C": "measured",
        "B": "assumed",
        "A": "assumed",
    }
    # the summary: C averaged over its measured weeks, its two weeks without data named
    (c_summary,) = [row for row in rows if row[0] == "C →"]
    assert c_summary[2:] == ["50.0", "Weeks measured", "3", "Weeks without data", "2026-02-23, 2026-03-02"]

"""The forecast: categories from the grade or the owner, the worked example of the issue,
adjustments beside the commit, the drill-down, the page, the export and the API."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.models import ForecastCategory
from crm.models import Customer, effective_forecast_category
from crm.services import update_customer
from crm.tests.factories import CustomerFactory, OrderFactory
from funnel.tests.factories import grade
from reports import services
from reports.models import ForecastAdjustment
from reports.periods import PeriodKind, period_for, today
from reports.selectors import resolve_scope
from reports.selectors.forecast import forecast_lines, forecast_periods, forecast_report

pytestmark = pytest.mark.django_db


def signing_day():
    """A day inside this month (today, or the month's last day: never next month)."""
    return today()


def customer(owner, code: str, value: int, **fields) -> Customer:
    return CustomerFactory(
        owner=owner,
        grade=grade(code),
        expected_value=Decimal(value),
        expected_signing_on=fields.pop("expected_signing_on", signing_day()),
        **fields,
    )


@pytest.fixture
def worked_example(personas):
    """The issue's example: commit ¥1,000,000 (2 customers at A, 80 %), best case
    ¥600,000 (B, 60 %), pipeline ¥2,000,000 (D, 20 %), all signing this month."""
    salesperson = personas.salesperson
    customer(salesperson, "A", 700_000)
    customer(salesperson, "A", 300_000)
    customer(salesperson, "B", 600_000)
    customer(salesperson, "D", 2_000_000)
    return salesperson


# --- The category rule ------------------------------------------------------------------------


def effective(customer_: Customer) -> str:
    return Customer.objects.annotate(category=effective_forecast_category()).get(pk=customer_.pk).category


def test_category_defaults_from_the_grade_and_the_owner_overrides_it(personas):
    a_customer = customer(personas.salesperson, "A", 100_000)
    b_customer = customer(personas.salesperson, "B", 100_000)
    c_customer = customer(personas.salesperson, "C", 100_000)
    assert effective(a_customer) == ForecastCategory.COMMIT
    assert effective(b_customer) == ForecastCategory.BEST_CASE
    assert effective(c_customer) == ForecastCategory.PIPELINE
    # when
    update_customer(customer=a_customer, by=personas.salesperson, forecast_category=ForecastCategory.OMITTED)
    # then
    assert effective(a_customer) == ForecastCategory.OMITTED


def test_a_commit_needs_a_signing_date_and_a_value(personas):
    undated = customer(personas.salesperson, "C", 100_000, expected_signing_on=None)
    with pytest.raises(ValidationError) as error:
        update_customer(customer=undated, by=personas.salesperson, forecast_category=ForecastCategory.COMMIT)
    assert "expected_signing_on" in error.value.message_dict
    valueless = customer(personas.salesperson, "C", 0)
    with pytest.raises(ValidationError) as error:
        update_customer(
            customer=valueless, by=personas.salesperson, forecast_category=ForecastCategory.COMMIT
        )
    assert "expected_value" in error.value.message_dict


def test_a_commit_from_the_api_is_validated_too(personas, client_as):
    undated = customer(personas.salesperson, "C", 100_000, expected_signing_on=None)
    response = client_as("salesperson").patch(
        f"/api/customers/{undated.pk}/",
        {"forecast_category": "commit"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "expected_signing_on" in response.json()


def test_the_customer_form_offers_the_category(personas, client_as):
    undated = customer(personas.salesperson, "C", 100_000, expected_signing_on=None)
    page = client_as("salesperson").get(reverse("crm:customer-update", args=[undated.pk]))
    assert "— from the grade —" in page.content.decode()
    assert page.context["form"].fields["forecast_category"].choices[-1][0] == ForecastCategory.OMITTED


# --- The worked example ------------------------------------------------------------------------


def test_worked_example_sums_and_weighted_value(worked_example, personas):
    # given: the sums by hand
    commit = Decimal(700_000) + Decimal(300_000)
    best_case = Decimal(600_000)
    pipeline = Decimal(2_000_000)
    weighted = commit * Decimal("0.80") + best_case * Decimal("0.60") + pipeline * Decimal("0.20")
    assert weighted == Decimal(1_560_000)
    # when
    report = forecast_report(resolve_scope(personas.manager, owner=worked_example.pk))
    # then
    month = report.totals[0].figures
    assert (month.commit, month.best_case, month.pipeline, month.weighted) == (
        commit,
        best_case,
        pipeline,
        weighted,
    )
    assert month.commit_customers == 2
    # The quarter holds the month.
    assert report.totals[2].figures.weighted == weighted
    # Next month has nothing yet.
    assert report.totals[1].figures.commit == 0


def test_omitted_and_other_periods_do_not_count(personas):
    customer(personas.salesperson, "A", 500_000)
    customer(personas.salesperson, "A", 900_000, forecast_category=ForecastCategory.OMITTED)
    next_month = forecast_periods(today())[1]
    customer(personas.salesperson, "A", 400_000, expected_signing_on=next_month.start)
    report = forecast_report(resolve_scope(personas.salesperson))
    assert report.totals[0].figures.commit == Decimal(500_000)
    assert report.totals[1].figures.commit == Decimal(400_000)


def test_closed_orders_and_target(worked_example, personas):
    OrderFactory(customer=customer(personas.salesperson, "C", 1), amount=Decimal(250_000), signed_on=today())
    services.save_target(
        by=personas.manager,
        owner=worked_example,
        team=None,
        period_kind=PeriodKind.MONTH,
        period_start=period_for(PeriodKind.MONTH, today()).start,
        sales_amount=Decimal(2_500_000),
    )
    report = forecast_report(resolve_scope(personas.manager, owner=worked_example.pk))
    month = report.totals[0]
    assert month.figures.closed == Decimal(250_000)
    assert month.target == Decimal(2_500_000)
    assert month.forecast == Decimal(1_250_000)  # closed + commit
    assert month.percentage == Decimal("50.0")


def test_adjustment_shows_beside_the_commit(worked_example, personas):
    month = forecast_periods(today())[0]
    services.adjust_forecast(
        by=personas.manager, owner=worked_example, period=month, amount=Decimal(800_000), note="Big one slips"
    )
    report = forecast_report(resolve_scope(personas.manager, owner=worked_example.pk))
    total = report.totals[0]
    assert total.figures.commit == Decimal(1_000_000)  # the original stays
    assert (total.adjusted, total.adjustment_note) == (Decimal(800_000), "Big one slips")
    person = next(row for row in report.people if row.subject_id == worked_example.pk)
    assert person.adjusted == Decimal(800_000)
    # A second adjustment is added, the first kept.
    services.adjust_forecast(
        by=personas.manager, owner=worked_example, period=month, amount=Decimal(900_000), note="Back on"
    )
    assert ForecastAdjustment.objects.filter(owner=worked_example).count() == 2
    assert forecast_report(resolve_scope(personas.salesperson)).totals[0].adjusted == Decimal(900_000)


def test_team_adjustment_and_who_may_adjust(worked_example, personas):
    month = forecast_periods(today())[0]
    team = worked_example.team
    services.adjust_forecast(
        by=personas.manager, team=team, period=month, amount=Decimal(1), note="Team view"
    )
    report = forecast_report(resolve_scope(personas.manager, team=team.pk))
    assert report.totals[0].adjusted == Decimal(1)
    assert next(row for row in report.teams if row.subject_id == team.pk).adjusted == Decimal(1)
    for by in (personas.salesperson, personas.other_manager):
        with pytest.raises(PermissionDenied):
            services.adjust_forecast(by=by, owner=worked_example, period=month, amount=Decimal(1), note="x")
    with pytest.raises(ValidationError):
        services.adjust_forecast(
            by=personas.manager, owner=worked_example, period=month, amount=Decimal(1), note=" "
        )


def test_drill_down_lists_the_customers_behind_a_number(worked_example, personas):
    month = forecast_periods(today())[0]
    scope = resolve_scope(personas.manager, owner=worked_example.pk)
    commits = forecast_lines(scope, month, ForecastCategory.COMMIT)
    assert [line.value for line in commits] == [Decimal(700_000), Decimal(300_000)]
    assert [line.value for line in forecast_lines(scope, month, ForecastCategory.PIPELINE)] == [
        Decimal(2_000_000)
    ]


def test_salesperson_sees_only_their_own(worked_example, personas):
    customer(personas.teammate, "A", 5_000_000)
    customer(personas.other_salesperson, "A", 7_000_000)
    mine = forecast_report(resolve_scope(personas.salesperson))
    assert mine.totals[0].figures.commit == Decimal(1_000_000)
    assert [row.subject_id for row in mine.people] == [personas.salesperson.pk]
    managers = forecast_report(resolve_scope(personas.manager))
    assert managers.totals[0].figures.commit == Decimal(6_000_000)
    company = forecast_report(resolve_scope(personas.admin))
    assert company.totals[0].figures.commit == Decimal(13_000_000)


# --- Page, export, API ---------------------------------------------------------------------------


def test_page_shows_the_worked_example(worked_example, client_as):
    response = client_as("manager").get(reverse("reports:forecast"))
    assert response.status_code == 200
    total = response.context["report"].totals[0]
    assert total.figures.weighted == Decimal(1_560_000)
    drill = client_as("manager").get(reverse("reports:forecast"), {"period": "0", "category": "commit"})
    assert len(drill.context["lines_table"]["rows"]) == 2
    assert 'data-testid="forecast-lines"' in drill.content.decode()


def test_page_adjusts(worked_example, personas, client_as):
    response = client_as("manager").post(
        reverse("reports:forecast-adjust"),
        {"owner": worked_example.pk, "period": "0", "amount": "750000", "note": "Tender delayed"},
    )
    assert response.status_code == 302
    assert ForecastAdjustment.objects.get().amount == Decimal(750_000)
    refused = client_as("salesperson").post(
        reverse("reports:forecast-adjust"),
        {"owner": worked_example.pk, "period": "0", "amount": "1", "note": "Mine"},
    )
    assert refused.status_code == 403


def test_export_and_api(worked_example, personas, client_as):
    export = client_as("manager").get(reverse("reports:forecast-export"), {"file_format": "csv"})
    assert export.status_code == 200
    assert "1560000" in export.content.decode().replace(".00", "").replace(",", "")
    answer = client_as("manager").get("/api/reports/forecast/").json()
    assert Decimal(str(answer["totals"][0]["weighted"])) == Decimal(1_560_000)
    assert answer["totals"][0]["commit_customers"] == 2


@pytest.mark.parametrize("period_index", [0, 2])
def test_a_person_with_orders_only(personas, period_index):
    """Closed orders and no open customer: a row of its own, for any period."""
    won = customer(personas.teammate, "C", 1, expected_signing_on=None)
    OrderFactory(customer=won, amount=Decimal(90_000), signed_on=today())
    report = forecast_report(resolve_scope(personas.manager), period_index=period_index)
    row = next(row for row in report.people if row.subject_id == personas.teammate.pk)
    assert (row.figures.closed, row.figures.commit) == (Decimal(90_000), 0)


def test_adjust_form_only_for_one_person_or_team(worked_example, client_as):
    assert not client_as("manager").get(reverse("reports:forecast")).context["may_adjust"]
    page = client_as("manager").get(reverse("reports:forecast"), {"owner": worked_example.pk})
    assert page.context["may_adjust"] and 'data-testid="forecast-adjust"' in page.content.decode()
    assert not client_as("salesperson").get(reverse("reports:forecast")).context["may_adjust"]

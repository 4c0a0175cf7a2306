"""Team targets on the funnel dashboard: a team's own target when it has one for the
period, else the sum of its members' targets; sub-teams under the same rule; never both."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from crm.tests.factories import CustomerFactory, OrderFactory
from funnel.tests.factories import grade
from reports import selectors
from reports.models import Target
from reports.periods import PeriodKind, period_for, today
from reports.selectors.targets import _targets_for

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def targets(personas):
    """This month: East ¥400,000 as a team (split: salesperson and teammate ¥200,000
    each, inside it), East North none as a team (sub_salesperson ¥100,000), West ¥300,000
    as a team (other_salesperson ¥50,000, inside it). This quarter: members only —
    salesperson and teammate ¥250,000 each, sub_salesperson ¥100,000, other_salesperson
    ¥50,000. This year: no target at all. Orders this month: East ¥450,000."""
    day = today()
    month = period_for(PeriodKind.MONTH, day)
    quarter = period_for(PeriodKind.QUARTER, day)
    east, west = personas.salesperson.team, personas.other_salesperson.team

    def target(period, amount, **whose):
        Target.objects.create(
            period_kind=period.kind,
            period_start=period.start,
            sales_amount=D(amount),
            gross_profit=D(amount) / 4,
            collections=D(amount) / 2,
            new_customers=amount // 100_000,
            **whose,
        )

    team_month = Target.objects.create(
        team=east,
        period_kind="month",
        period_start=month.start,
        sales_amount=D(400_000),
        gross_profit=D(100_000),
        collections=D(200_000),
        new_customers=4,
    )
    for person in (personas.salesperson, personas.teammate):
        Target.objects.create(
            owner=person,
            period_kind="month",
            period_start=month.start,
            sales_amount=D(200_000),
            gross_profit=D(50_000),
            collections=D(100_000),
            new_customers=2,
            split_from=team_month,
        )
    target(month, 100_000, owner=personas.sub_salesperson)
    target(month, 300_000, team=west)
    target(month, 50_000, owner=personas.other_salesperson)
    for person, amount in (
        (personas.salesperson, 250_000),
        (personas.teammate, 250_000),
        (personas.sub_salesperson, 100_000),
        (personas.other_salesperson, 50_000),
    ):
        target(quarter, amount, owner=person)
    for code in ("E", "D", "C", "B", "A"):
        grade(code)
    customer = CustomerFactory(owner=personas.teammate, grade=grade("A"))
    OrderFactory(customer=customer, amount=D(450_000), signed_on=day)
    return personas


def _figures(periods: list) -> list[tuple]:
    return [(row.period.kind, row.target, row.status) for row in periods]


def test_a_managers_default_view_shows_the_teams_targets(targets, client_as):
    page = client_as("manager").get(reverse("reports:funnel"))
    assert page.status_code == 200
    assert page.context["scope"].kind == "mine"
    # month: East's own ¥400,000 (not its members' ¥400,000 again) + East North's member
    # ¥100,000; quarter: the members' ¥250,000 + ¥250,000 + ¥100,000; year: none.
    assert _figures(page.context["periods"]) == [
        ("month", D(500_000), "short"),
        ("quarter", D(600_000), "short"),
        ("year", None, "none"),
    ]
    month = page.context["periods"][0]
    assert (month.gross_profit_target, month.collections_target, month.new_customers_target) == (
        D(125_000),
        D(250_000),
        5,
    )
    assert month.percentage == D("90.0")
    body = page.content.decode()
    assert "¥500,000" in body and "¥600,000" in body
    assert 'data-testid="target-rule"' in body  # the rule, said under the table


def test_a_salesperson_sees_their_own_share(targets, client_as):
    page = client_as("salesperson").get(reverse("reports:funnel"))
    assert _figures(page.context["periods"]) == [
        ("month", D(200_000), "short"),
        ("quarter", D(250_000), "short"),
        ("year", None, "none"),
    ]
    assert 'data-testid="target-rule"' not in page.content.decode()


def test_a_team_and_its_sub_team_follow_the_same_rule(targets):
    east = targets.salesperson.team
    east_north = targets.sub_salesperson.team
    day = today()
    periods = [period_for(kind, day) for kind in (PeriodKind.MONTH, PeriodKind.QUARTER)]
    east_scope = selectors.team_scope(targets.manager, east)
    sub_scope = selectors.team_scope(targets.manager, east_north)
    own = selectors.resolve_scope(targets.salesperson)

    def sales(scope):
        found = _targets_for(scope, periods)
        return [found.get((p.kind, p.start), {}).get("sales_amount") for p in periods]

    assert sales(east_scope) == [D(500_000), D(600_000)]
    assert sales(sub_scope) == [D(100_000), D(100_000)]
    # One salesperson: their own share, even where the team has a target.
    assert sales(own) == [D(200_000), D(250_000)]


def test_the_company_view_sums_the_teams_by_the_same_rule(targets, client_as):
    page = client_as("admin").get(reverse("reports:funnel"))
    assert page.context["scope"].kind == "company"
    # month: East ¥400,000 + East North ¥100,000 + West ¥300,000; quarter: the members'.
    assert _figures(page.context["periods"]) == [
        ("month", D(800_000), "short"),
        ("quarter", D(650_000), "short"),
        ("year", None, "none"),
    ]


def test_the_api_and_chinese_page_agree(targets, client_as):
    client = client_as("manager")
    body = client.get(reverse("report-funnel")).json()
    assert [D(row["target"]) if row["target"] is not None else None for row in body["periods"]] == [
        D(500_000),
        D(600_000),
        None,
    ]
    with translation.override("zh-hans"):
        page = client.get(reverse("reports:funnel"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    # Two periods short of their team target, one (the year) without one.
    assert text.count("未达标") == 2 and text.count("无目标") == 1
    assert any(amount in text for amount in ("¥500,000", "¥50万"))

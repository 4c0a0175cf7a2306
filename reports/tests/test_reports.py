"""The report pages and endpoints with data: numbers, statuses, targets, calibration."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from activities.models import ActivityKind, CallStage, DailyReport, MarketReport
from core.models import Grade
from crm.models import Customer
from crm.tests.factories import CustomerFactory, OrderFactory
from funnel.models import GradeChange
from funnel.tests.factories import grade
from reports import selectors, services
from reports.models import ActivityTarget, Target, WeeklyManagerReport, WeeklyRollup
from reports.periods import PeriodKind, last_complete_week, period_for, today, week_start

from .helpers import activity

pytestmark = pytest.mark.django_db
D = Decimal


def test_activity_funnel_gives_revenue_and_commission_per_dial(personas, client_as):
    # given 100 dials (40 connected, 10 appointments, 5 presentations) and ¥20,000 of orders
    seller = personas.salesperson
    customer = CustomerFactory(owner=seller, grade=grade("C"))
    stages = (
        [CallStage.DIALLED] * 60
        + [CallStage.CONNECTED] * 30
        + [CallStage.APPOINTMENT] * 5
        + [CallStage.PRESENTATION] * 5
    )
    for stage in stages:
        activity(owner=seller, customer=customer, stage=stage, minutes=6)
    activity(owner=seller, customer=customer, kind=ActivityKind.VISIT, minutes=600, expense=D(400))
    OrderFactory(customer=customer, amount=D(20_000), signed_on=today())
    # when
    body = client_as("salesperson").get(reverse("report-activity-funnel"), {"commission": "5"}).json()
    (row,) = body["people"]
    # then
    assert (row["dials"], row["connected"], row["appointments"], row["presentations"]) == (100, 40, 10, 5)
    assert (row["orders"], D(row["amount"])) == (1, D(20_000))
    assert (D(row["revenue_per_dial"]), D(row["commission_per_dial"])) == (D(200), D(10))
    # 20 hours of activity, ¥400 of expense
    assert (D(row["per_hour"]), D(row["per_yuan"])) == (D(1000), D(50))
    page = client_as("manager").get(reverse("reports:activity"))
    assert page.status_code == 200
    assert b'data-testid="activity-by-grade"' in page.content


def test_close_rate_by_negotiations_repeat_rate_and_80_20(personas):
    seller = personas.salesperson
    once, twice, thrice, never = (CustomerFactory(owner=seller, grade=grade("B")) for _ in range(4))
    for customer, visits in ((once, 1), (twice, 2), (thrice, 3)):
        for _ in range(visits):
            activity(owner=seller, customer=customer, kind=ActivityKind.VISIT)
    OrderFactory(customer=once, amount=D(8000), signed_on=today())
    OrderFactory(customer=once, amount=D(1000), signed_on=today())
    OrderFactory(customer=thrice, amount=D(500), signed_on=today())
    OrderFactory(customer=never, amount=D(500), signed_on=today())
    OrderFactory(customer=never, amount=D(0), signed_on=today())
    scope = selectors.resolve_scope(seller)
    report = selectors.negotiation_report(scope, period_for(PeriodKind.MONTH, today()))
    assert [(r["bucket"], r["customers"], r["won"]) for r in report["close_rates"]] == [
        ("first", 1, 1),
        ("second", 1, 0),
        ("several", 1, 1),
    ]
    assert (report["buyers"], report["repeaters"], report["repeat_rate"]) == (3, 2, D("66.7"))
    # ¥9,000 of ¥10,000 from the top customer (top 20 % of 3 → 1)
    assert report["pareto_share"] == D("90.0")


def test_quota_report_marks_met_exceeded_and_short(personas, client_as):
    month = period_for(PeriodKind.MONTH, today())
    for person, amount, target in (
        (personas.salesperson, 100_000, 100_000),
        (personas.teammate, 150_000, 100_000),
        (personas.sub_salesperson, 50_000, 100_000),
    ):
        customer = CustomerFactory(owner=person, grade=grade("A"), expected_value=D(10_000))
        OrderFactory(customer=customer, amount=D(amount), signed_on=today())
        Target.objects.create(
            owner=person, period_kind="month", period_start=month.start, sales_amount=D(target)
        )
    Target.objects.create(
        team=personas.salesperson.team, period_kind="month", period_start=month.start, sales_amount=D(400_000)
    )
    body = client_as("manager").get(reverse("report-quota")).json()
    people = {row["username"]: row for row in body["people"]}
    assert (people["salesperson"]["status"], D(people["salesperson"]["percentage"])) == ("met", D(100))
    assert (people["teammate"]["status"], D(people["teammate"]["percentage"])) == ("exceeded", D(150))
    assert (people["sub_salesperson"]["status"], D(people["sub_salesperson"]["percentage"])) == (
        "short",
        D(50),
    )
    assert D(people["salesperson"]["quota"]) == D(8000)  # A: 80 % of ¥10,000
    teams = {row["name"]: row for row in body["teams"]}
    # East's own target (¥400,000) against East's members (the sub-team is its own row)
    assert (D(teams["East"]["actual"]), teams["East"]["status"]) == (D(250_000), "short")
    assert client_as("manager").get(reverse("reports:quota")).status_code == 200
    export = client_as("manager").get(reverse("reports:quota-export"), {"file_format": "csv"})
    assert export.status_code == 200


def test_backward_plan_with_measured_rates_matches_the_method(personas, client_as):
    # Moves out of each grade in the last weeks at the method's rates: 10 per grade,
    # E 5 up, D 5 up, C 4 up, B 5 up, A 5 won.
    seller = personas.salesperson
    grades = {code: grade(code) for code in ("E", "D", "C", "B", "A", "WON", "LOST")}
    nxt = {"E": "D", "D": "C", "C": "B", "B": "A", "A": "WON"}
    ups = {"E": 5, "D": 5, "C": 4, "B": 5, "A": 5}
    customer = CustomerFactory(owner=seller, grade=grades["E"])
    moves = []
    when = timezone.now() - timedelta(minutes=5)
    for code, up in ups.items():
        for n in range(10):
            to = grades[nxt[code]] if n < up else grades["LOST"]
            moves.append(
                GradeChange(
                    customer=customer,
                    from_grade=grades[code],
                    to_grade=to,
                    changed_at=when,
                    owner=seller,
                    days_in_previous=n,
                )
            )
    GradeChange.objects.bulk_create(moves)
    body = (
        client_as("salesperson")
        .get(reverse("report-backward-plan"), {"target_orders": 10, "period": "quarter"})
        .json()
    )
    needed = {row["code"]: row["needed"] for row in body["plan"]}
    assert needed == {"A": 20, "B": 40, "C": 100, "D": 200, "E": 400}
    assert all(row["measured"] for row in body["plan"])
    page = client_as("salesperson").get(
        reverse("reports:backward-plan"),
        {"target_kind": "amount", "target": "1000000", "average_order": "100000"},
    )
    assert page.status_code == 200 and page.context["report"].target_orders == 10
    conversion = client_as("salesperson").get(reverse("report-conversion")).json()
    rates = {row["code"]: row["rate"] for row in conversion["stages"]}
    assert D(str(rates["C"])) == D("0.4") and conversion["bottleneck"] == "C"
    assert client_as("salesperson").get(reverse("reports:conversion")).status_code == 200


def test_calibration_suggests_and_an_admin_applies_it(personas, client_as):
    seller = personas.salesperson
    d_grade, won, lost = grade("D"), grade("WON"), grade("LOST")
    customers = Customer.objects.bulk_create(
        [
            Customer(
                name=f"Cal {n}",
                name_normalized=f"cal{n}",
                owner=seller,
                grade=won if n < 20 else lost,
                expected_value=D(1000),
            )
            for n in range(40)
        ]
    )
    GradeChange.objects.bulk_create(
        [GradeChange(customer=c, from_grade=grade("E"), to_grade=d_grade, owner=seller) for c in customers]
    )
    rows = {
        row.grade.code: row
        for row in selectors.calibration(selectors.resolve_scope(personas.admin), list(Grade.objects.all()))
    }
    assert (rows["D"].sample, rows["D"].observed, rows["D"].suggested) == (40, D("50.0"), D(50))
    # 50 % at D would break the strictly rising probabilities (C is 40 %): a clear error, nothing saved
    client = client_as("admin")
    response = client.post(
        reverse("reports:calibrate", args=[d_grade.pk]), {"probability": "50"}, follow=True
    )
    assert "must rise strictly" in response.content.decode()
    assert grade("D").probability == D(20)
    client.post(reverse("reports:calibrate", args=[d_grade.pk]), {"probability": "25"})
    assert grade("D").probability == D(25)
    assert grade("D").history.first().history_user == personas.admin
    assert (
        client_as("manager")
        .post(reverse("reports:calibrate", args=[d_grade.pk]), {"probability": "30"})
        .status_code
        == 403
    )


def test_a_team_target_splits_evenly_or_by_hand_and_must_add_up(personas, client_as):
    team = personas.salesperson.team  # East: salesperson, teammate, deactivated (active until told)
    target = services.save_target(
        by=personas.manager,
        team=team,
        period_kind="quarter",
        period_start=period_for(PeriodKind.QUARTER, today()).start,
        sales_amount=D("100000.00"),
        new_customers=10,
    )
    members = services.split_team_target(target=target, by=personas.manager)
    assert sum(t.sales_amount for t in members) == D("100000.00")
    assert sum(t.new_customers for t in members) == 10
    ids = [t.owner_id for t in members]
    shares = {pk: {"sales_amount": D(30000), "new_customers": 3} for pk in ids}
    with pytest.raises(ValidationError) as error:
        services.split_team_target(target=target, by=personas.manager, shares=shares)
    assert "difference" in str(error.value)
    client = client_as("manager")
    bad = client.post(
        reverse("reports:target-split", args=[target.pk]),
        {"mode": "manual", **{f"sales_amount_{pk}": "1" for pk in ids}},
    )
    assert bad.status_code == 400 and "add up to" in bad.content.decode()
    with pytest.raises(Exception):  # noqa: B017,PT011 - PermissionDenied for a salesperson
        services.split_team_target(target=target, by=personas.salesperson)


def test_targets_page_saves_a_target_and_an_activity_target(personas, client_as):
    client = client_as("manager")
    start = period_for(PeriodKind.MONTH, today()).start
    response = client.post(
        reverse("reports:targets"),
        {
            "form": "target",
            "owner": personas.salesperson.pk,
            "period_kind": "month",
            "period_start": start.isoformat(),
            "sales_amount": "50000",
            "gross_profit": "10000",
            "new_customers": "5",
            "collections": "40000",
        },
    )
    assert response.status_code == 302
    assert Target.objects.get(owner=personas.salesperson).sales_amount == D(50000)
    wrong = client.post(
        reverse("reports:targets"),
        {
            "form": "target",
            "owner": personas.salesperson.pk,
            "period_kind": "month",
            "period_start": (start + timedelta(days=1)).isoformat(),
            "sales_amount": "1",
            "gross_profit": "0",
            "new_customers": "0",
            "collections": "0",
        },
    )
    assert wrong.status_code == 400
    client.post(
        reverse("reports:targets"),
        {
            "form": "activity",
            "owner": personas.salesperson.pk,
            "cadence": "day",
            "calls": "20",
            "visits": "2",
            "new_customers": "1",
        },
    )
    assert ActivityTarget.objects.get(owner=personas.salesperson).calls == 20
    other = client_as("other_manager").post(
        reverse("reports:targets"),
        {
            "form": "target",
            "owner": personas.salesperson.pk,
            "period_kind": "month",
            "period_start": start.isoformat(),
            "sales_amount": "1",
            "gross_profit": "0",
            "new_customers": "0",
            "collections": "0",
        },
    )
    assert other.status_code == 400  # not a person they may pick
    assert client_as("salesperson").post(reverse("reports:targets"), {"form": "target"}).status_code == 403


def test_activity_progress_for_my_day(personas):
    seller = personas.salesperson
    ActivityTarget.objects.create(owner=seller, cadence="day", calls=20, visits=2)
    ActivityTarget.objects.create(owner=seller, cadence="week", new_customers=5)
    customer = CustomerFactory(owner=seller, grade=grade("E"))
    for _ in range(12):
        activity(owner=seller, customer=customer)
    activity(owner=seller, customer=customer, at=timezone.now() - timedelta(days=30))
    progress = selectors.activity_progress(seller, today())
    assert [(p["cadence"], p["metric"], p["done"], p["target"]) for p in progress] == [
        ("day", "calls", 12, 20),
        ("day", "visits", 0, 2),
        ("week", "new_customers", 1, 5),
    ]
    assert selectors.activity_progress(personas.teammate, today()) == []


def test_weekly_manager_report_reads_rollups_and_saves_next_weeks_plan(personas, client_as):
    week = last_complete_week(today())
    start = timezone.now() - timedelta(days=7)
    stuck = CustomerFactory(owner=personas.salesperson, grade=grade("C"))
    Customer.objects.filter(pk=stuck.pk).update(stagnant_from=start - timedelta(days=1))
    activity(
        owner=personas.salesperson,
        customer=stuck,
        kind=ActivityKind.VISIT,
        effective=True,
        at=timezone.make_aware(timezone.datetime.combine(week, timezone.datetime.min.time()))
        + timedelta(hours=10),
        competitor_news="Rival cut prices by 10 %",
    )
    MarketReport.objects.create(
        owner=personas.salesperson,
        kind="complaint",
        customer=stuck,
        title="Late delivery",
        body="Two weeks late",
        created_at=timezone.make_aware(timezone.datetime.combine(week, timezone.datetime.min.time()))
        + timedelta(hours=9),
    )
    DailyReport.objects.create(owner=personas.teammate, date=week, is_late=True)
    services.compute_weekly_rollups(week=week)
    client = client_as("manager")
    page = client.get(reverse("reports:weekly"), {"week": week.isoformat()})
    assert page.status_code == 200
    report = page.context["report"]
    assert report.totals.visits == 1 and report.effective_visit_rate == D(100)
    assert [c.pk for c in report.stuck] == [stuck.pk]
    assert [m.title for m in report.complaints] == ["Late delivery"]
    assert [a.competitor_news for a in report.competitor_news] == ["Rival cut prices by 10 %"]
    assert [r.owner for r in report.late_reports] == [personas.teammate]
    saved = client.post(
        reverse("reports:weekly"),
        {
            "team": personas.manager.team_id,
            "week": week.isoformat(),
            "next_week_plan": "Visit every C customer",
        },
    )
    assert saved.status_code == 302
    assert WeeklyManagerReport.objects.get(week_start=week).next_week_plan == "Visit every C customer"
    assert (
        client_as("other_manager")
        .get(reverse("reports:weekly"), {"team": personas.manager.team_id})
        .status_code
        == 404
    )
    assert client.get(
        reverse("report-weekly"), {"team": personas.manager.team_id, "week": week.isoformat()}
    ).json()["next_week_plan"]
    assert WeeklyRollup.objects.filter(week_start=week_start(week)).exists()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_report_page_renders_in_both_languages(personas, client_as, language):
    CustomerFactory(owner=personas.salesperson, grade=grade("C"), expected_value=D(5_000_000))
    client = client_as("manager")
    client.cookies["django_language"] = language
    for name, query in [
        ("reports:index", {}),
        ("reports:funnel", {}),
        ("reports:funnel", {"owner": personas.salesperson.pk}),
        ("reports:funnel", {"team": personas.salesperson.team_id}),
        ("reports:backward-plan", {"target_kind": "orders", "target": "10"}),
        ("reports:conversion", {"period": "quarter"}),
        ("reports:quota", {"period": "year"}),
        ("reports:activity", {"span": "day"}),
        ("reports:weekly", {}),
        ("reports:targets", {}),
    ]:
        response = client.get(reverse(name), query)
        assert response.status_code == 200, (name, query)
        assert f'lang="{language}"' in response.content.decode()


def test_targets_api_writes_through_the_service_and_its_rules(personas, client_as):
    start = period_for(PeriodKind.QUARTER, today()).start.isoformat()
    data = {
        "owner": personas.salesperson.pk,
        "period_kind": "quarter",
        "period_start": start,
        "sales_amount": "300000.00",
    }
    assert (
        client_as("salesperson")
        .post(reverse("target-list"), data, content_type="application/json")
        .status_code
        == 403
    )
    created = client_as("manager").post(reverse("target-list"), data, content_type="application/json")
    assert created.status_code == 201, created.content
    again = client_as("manager").post(
        reverse("target-list"), {**data, "sales_amount": "350000.00"}, content_type="application/json"
    )
    assert again.status_code == 201 and Target.objects.get().sales_amount == D(350000)
    wrong_day = client_as("manager").post(
        reverse("target-list"), {**data, "period_start": "2026-02-03"}, content_type="application/json"
    )
    assert wrong_day.status_code == 400 and "period_start" in wrong_day.json()


@pytest.mark.parametrize(
    ("url_name", "query"),
    [
        ("weeklyrollup-list", {"owner": 10**20}),
        ("weeklyrollup-list", {"team": 10**20}),
        ("report-activity-funnel", {"commission": "1e400"}),
        ("report-activity-funnel", {"commission": "NaN"}),
        ("report-activity-funnel", {"commission": "101"}),
    ],
)
def test_out_of_range_report_parameters_are_a_400_not_a_crash(personas, client_as, url_name, query):
    """Found by the API fuzz test: a huge id overflowed SQLite's driver, an infinite or NaN
    commission could not be rendered as JSON (both a 500)."""
    response = client_as("manager").get(reverse(url_name), query)

    assert response.status_code == 400
    assert set(response.json()) == set(query)

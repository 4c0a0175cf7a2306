"""A report never shows what the viewer's lists would hide: pages, exports and API."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from crm.models import CrmSettings, ExportRecord
from crm.tests.factories import CustomerFactory, UserFactory
from funnel.tests.factories import grade

pytestmark = pytest.mark.django_db


@pytest.fixture
def funnel_world(personas):
    """salesperson 1 at C, teammate 2 at E, sub-team 4 at D, another team 8 at B."""
    for person, count, code in [
        (personas.salesperson, 1, "C"),
        (personas.teammate, 2, "E"),
        (personas.sub_salesperson, 4, "D"),
        (personas.other_salesperson, 8, "B"),
    ]:
        for _ in range(count):
            CustomerFactory(owner=person, grade=grade(code), expected_value=Decimal(100_000))
    return personas


def _counts(response):
    return {row["code"]: row["count"] for row in response.json()["grades"]}


def test_a_salesperson_sees_only_their_own_funnel(funnel_world, client_as):
    client = client_as("salesperson")
    counts = _counts(client.get(reverse("report-funnel")))
    assert counts == {"E": 0, "D": 0, "C": 1, "B": 0, "A": 0, "WON": 0, "LOST": 0}
    page = client.get(reverse("reports:funnel"))
    assert page.status_code == 200 and page.context["open_count"] == 1


def test_a_salesperson_naming_another_owner_gets_404(funnel_world, client_as):
    client = client_as("salesperson")
    other = funnel_world.teammate.pk
    assert client.get(reverse("report-funnel"), {"owner": other}).status_code == 404
    assert client.get(reverse("reports:funnel"), {"owner": other}).status_code == 404
    assert (
        client.get(reverse("reports:funnel"), {"team": funnel_world.salesperson.team_id}).status_code == 404
    )
    assert client.get(reverse("report-quota"), {"owner": other}).status_code == 404
    assert (
        client.get(reverse("report-backward-plan"), {"owner": other, "target_orders": 5}).status_code == 404
    )


def test_a_manager_sees_their_team_tree_and_can_pick_a_salesperson(funnel_world, client_as):
    client = client_as("manager")
    counts = _counts(client.get(reverse("report-funnel")))
    assert (counts["C"], counts["E"], counts["D"], counts["B"]) == (1, 2, 4, 0)
    mine = _counts(client.get(reverse("report-funnel"), {"owner": funnel_world.sub_salesperson.pk}))
    assert (mine["D"], mine["E"]) == (4, 0)
    assert (
        client.get(reverse("report-funnel"), {"owner": funnel_world.other_salesperson.pk}).status_code == 404
    )
    page = client.get(reverse("reports:funnel"))
    people = {entry.person.username for entry in page.context["people"]}
    assert "other_salesperson" not in people and {"salesperson", "teammate", "sub_salesperson"} <= people


def test_the_admin_sees_the_company(funnel_world, client_as):
    counts = _counts(client_as("admin").get(reverse("report-funnel")))
    assert (counts["C"], counts["E"], counts["D"], counts["B"]) == (1, 2, 4, 8)


def test_the_company_dashboard_lists_teams_that_link_to_their_people(funnel_world, client_as):
    """The whole company is summed per team (each person's own team); a team's page
    then lists its people."""
    CustomerFactory(owner=UserFactory(username="solo", team=None), grade=grade("E"))
    client = client_as("admin")
    page = client.get(reverse("reports:funnel"))
    rows = {row.team.name if row.team else None: row for row in page.context["teams"]}
    assert list(rows) == ["East", "East North", "West", None]  # by name, no team last
    # East: the manager, salesperson, teammate and deactivated (still active here).
    assert (rows["East"].people, rows["East"].open) == (4, 3)
    assert (rows["East North"].open, rows["West"].open, rows[None].open) == (4, 8, 1)
    codes = [g.code for g in page.context["grades"]]
    assert rows["West"].counts[codes.index("B")] == 8
    west = funnel_world.other_salesperson.team_id
    assert (
        rows["West"].weighted
        == sum(entry.weighted for entry in page.context["people"] if entry.person.team_id == west)
        > 0
    )
    html = page.content.decode()
    assert 'data-testid="teams"' in html and 'data-testid="people"' not in html
    assert f'href="?team={west}"' in html
    team_page = client.get(reverse("reports:funnel"), {"team": west})
    assert team_page.context["teams"] == [] and 'data-testid="people"' in team_page.content.decode()

    api = {row["name"]: row for row in client.get(reverse("report-funnel")).json()["teams"]}
    assert (api["West"]["id"], api["West"]["open"], api[None]["people"]) == (west, 8, 1)
    assert client_as("manager").get(reverse("report-funnel")).json()["teams"] == []


def test_a_managers_export_holds_only_the_team_numbers_and_is_recorded(funnel_world, client_as):
    response = client_as("manager").get(reverse("reports:funnel-export"))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    counts = {row[0]: row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert (counts["C"], counts["E"], counts["D"], counts["B"]) == (1, 2, 4, 0)
    record = ExportRecord.objects.get()
    assert (record.user, record.kind) == (funnel_world.manager, "report:funnel")


def test_salespeople_export_only_when_allowed_and_only_their_own(funnel_world, client_as):
    client = client_as("salesperson")
    assert client.get(reverse("reports:funnel-export")).status_code == 403
    settings_row = CrmSettings.load()
    settings_row.salespeople_may_export = True
    settings_row.save()
    response = client.get(reverse("reports:funnel-export"), {"file_format": "csv"})
    assert response.status_code == 200
    body = response.content.decode("utf-8-sig")
    assert "\nC,40.0,1," in body.replace("\r\n", "\n") and "\nB,60.0,0," in body.replace("\r\n", "\n")


def test_rollups_and_targets_lists_hold_only_visible_rows(funnel_world, client_as):
    from reports.models import Target, WeeklyRollup
    from reports.periods import last_complete_week, today

    for person in (funnel_world.salesperson, funnel_world.teammate, funnel_world.other_salesperson):
        WeeklyRollup.objects.create(salesperson=person, week_start=last_complete_week(today()))
        Target.objects.create(owner=person, period_kind="month", period_start=today().replace(day=1))
    rows = (
        client_as("salesperson")
        .get(reverse("weeklyrollup-list"), {"owner": funnel_world.teammate.pk})
        .json()["results"]
    )
    assert rows == []
    rows = client_as("salesperson").get(reverse("weeklyrollup-list")).json()["results"]
    assert [row["salesperson"] for row in rows] == [funnel_world.salesperson.pk]
    owners = {row["owner"] for row in client_as("manager").get(reverse("target-list")).json()["results"]}
    assert owners == {funnel_world.salesperson.pk, funnel_world.teammate.pk}

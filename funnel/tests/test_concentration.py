"""The concentration guard (SPEC "Balance view"): no one salesperson or a few should hold
80 % or more (80%以上) of the team's won customers. The rule is one pure function; the
team balance page, its API and the manager's funnel dashboard show its warning."""

import itertools

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from crm.models import User
from crm.tests.factories import UserFactory
from funnel import selectors, services
from funnel.models import FunnelSettings
from funnel.selectors import won_concentration
from funnel.tests.builders import customer_at, funnel_settings


def _team(*won: int, size: int = 10) -> dict[str, int]:
    """Won customers per person of a team of ``size``: the given counts, then zeros."""
    return {f"p{n}": count for n, count in enumerate([*won, *[0] * (size - len(won))])}


DEFAULTS = FunnelSettings()  # 80 %; a few = at most 2 people or at most 20 % of the team


@pytest.mark.parametrize(
    ("won", "group"),
    [
        ((9, 1), ("p0",)),  # one person with 9 of 10
        ((5, 4, 1), ("p0", "p1")),  # two people with 5 + 4 of 10
        ((8, 2), ("p0",)),  # exactly 80 % warns
        ((8, 1, 1), ("p0",)),
    ],
)
def test_warns_when_one_person_or_a_few_hold_80_percent_or_more(won, group):
    concentration = won_concentration(_team(*won), DEFAULTS)

    assert concentration.warns
    assert (concentration.people, concentration.team_won, concentration.team_size) == (group, 10, 10)
    assert concentration.won == sum(won[: len(group)])


def test_does_not_warn_when_four_of_a_team_of_ten_hold_the_80_percent():
    concentration = won_concentration(_team(3, 2, 2, 2, 1), DEFAULTS)

    assert not concentration.warns
    assert concentration.people == ("p0", "p1", "p2", "p3") and concentration.won == 9


def test_a_few_is_also_at_most_20_percent_of_the_team():
    # Three people hold 8 of 10: a few in a team of 15 (20 % = 3), not in a team of 14.
    assert won_concentration(_team(3, 3, 2, 1, 1, size=15), DEFAULTS).warns
    assert not won_concentration(_team(3, 3, 2, 1, 1, size=14), DEFAULTS).warns


def test_no_warning_for_the_whole_team_or_without_won_customers():
    assert not won_concentration(_team(5, 5, size=2), DEFAULTS).warns  # the group is the whole team
    assert not won_concentration(_team(3, size=1), DEFAULTS).warns
    assert won_concentration(_team(size=10), DEFAULTS) is None


def test_the_settings_change_the_rule():
    strict_few = FunnelSettings(concentration_few_people=1, concentration_few_share_of_team=10)
    higher_share = FunnelSettings(concentration_share=95)

    assert not won_concentration(_team(5, 4, 1), strict_few).warns
    assert won_concentration(_team(9, 1), strict_few).warns
    assert not won_concentration(_team(8, 1, 1), higher_share).warns  # 95 % needs three people


@pytest.mark.django_db
def test_bad_settings_are_refused_on_the_field(personas):
    row = FunnelSettings.load()
    row.concentration_share = 0
    row.concentration_few_share_of_team = 101

    with pytest.raises(ValidationError) as error:
        services.save_funnel_settings(settings_row=row, by=personas.admin)

    assert {"concentration_share", "concentration_few_share_of_team"} <= set(error.value.message_dict)
    assert FunnelSettings.load().concentration_share == 80


# --- Pages and API ---------------------------------------------------------------------------


@pytest.fixture
def east_of_ten(personas):
    """The manager's tree as a team of ten active people: the manager, three salespeople
    of the personas and six more (the "deactivated" persona has left)."""
    User.objects.filter(pk=personas.deactivated.pk).update(is_active=False)
    extra = [UserFactory(username=f"east{n}", team=personas.salesperson.team) for n in range(6)]
    return [personas.salesperson, personas.teammate, personas.sub_salesperson, *extra]


_names = itertools.count()


def _win(people, *counts):
    for person, count in zip(people, counts, strict=False):
        for _n in range(count):
            customer_at("WON", person, name=f"Won customer {next(_names)}")


ACCEPTANCE = [((9, 1), True), ((5, 4, 1), True), ((8, 2), True), ((3, 2, 2, 2, 1), False)]


@pytest.mark.parametrize(("counts", "warns"), ACCEPTANCE)
def test_the_balance_page_and_api_show_the_warning(personas, client_as, east_of_ten, counts, warns):
    _win(east_of_ten, *counts)
    client = client_as("manager")

    page = client.get(reverse("funnel:balance")).content.decode()
    api = client.get(reverse("report-balance")).json()

    assert ('data-kind="won_share"' in page) is warns
    concentration = api["concentration"]
    assert (concentration["team_won"], concentration["team_size"], concentration["warns"]) == (10, 10, warns)
    group = concentration["people"]
    assert set(group) == {person.pk for person in east_of_ten[: len(group)]} and group[0] == east_of_ten[0].pk
    assert [w["kind"] for w in api["warnings"]] == (["won_share"] if warns else [])
    assert bool(concentration["text"]) is warns


def test_the_warning_names_the_few_people_in_both_languages(personas, east_of_ten):
    _win(east_of_ten, 5, 4, 1)
    data = selectors.balance(personas.manager, team=None, today=timezone.localdate())
    concentration = data["concentration"]

    english = concentration.text
    with translation.override("zh-hans"):
        chinese = concentration.text

    names = f"{personas.salesperson.display_name}, {personas.teammate.display_name}"
    assert f"{names} (2 of the team's 10 people) hold 90.0 %" in english
    assert "(9 of 10)" in english and "a few people" in english
    assert data["warnings"][0]["people"] == (personas.salesperson, personas.teammate)
    assert names in chinese and "90.0 %" in chinese


@pytest.mark.parametrize(("counts", "warns"), ACCEPTANCE)
def test_the_managers_funnel_dashboard_shows_the_warning(personas, client_as, east_of_ten, counts, warns):
    _win(east_of_ten, *counts)

    page = client_as("manager").get(reverse("reports:funnel")).content.decode()

    assert ('data-testid="concentration-warning"' in page) is warns


def test_a_setting_changed_by_the_admin_is_respected_on_the_page(personas, client_as, east_of_ten):
    _win(east_of_ten, 5, 4, 1)
    funnel_settings(concentration_few_people=1, concentration_few_share_of_team=10)
    client = client_as("manager")

    assert 'data-kind="won_share"' not in client.get(reverse("funnel:balance")).content.decode()
    assert not client.get(reverse("report-balance")).json()["concentration"]["warns"]
    assert 'data-testid="concentration-warning"' not in client.get(reverse("reports:funnel")).content.decode()


def test_a_salesperson_sees_no_team_concentration(personas, client_as, east_of_ten):
    _win(east_of_ten, 9, 1)
    client = client_as("salesperson")

    assert client.get(reverse("funnel:balance")).status_code == 403
    assert client.get(reverse("report-balance")).status_code == 403
    funnel_page = client.get(reverse("reports:funnel"))
    assert funnel_page.status_code == 200
    assert 'data-testid="concentration-warning"' not in funnel_page.content.decode()


def test_another_teams_manager_does_not_see_it(personas, client_as, east_of_ten):
    _win(east_of_ten, 9, 1)

    api = client_as("other_manager").get(reverse("report-balance")).json()

    assert api["concentration"] is None and api["warnings"] == []


def test_the_guard_costs_the_same_queries_at_two_sizes(personas, client_as, east_of_ten):
    client = client_as("manager")
    client.get(reverse("home"))  # a fresh session records its start once; not the page's cost
    FunnelSettings.load()  # the settings row exists in production (created once, not per page)
    counts = []
    for won in ((2, 1), (9, 5, 4, 1)):
        _win(east_of_ten, *won)
        row = []
        for name in ("funnel:balance", "report-balance", "reports:funnel"):
            with CaptureQueriesContext(connection) as captured:
                assert client.get(reverse(name)).status_code == 200
            row.append(len(captured))
        counts.append(row)

    assert counts[0] == counts[1]


def test_the_admin_edits_the_rule_on_the_funnel_settings_page(personas, client_as):
    row = FunnelSettings.load()
    url = reverse("admin:funnel_funnelsettings_change", args=[row.pk])
    client = client_as("admin")
    form = {
        "day_count": row.day_count,
        "max_customers_per_salesperson": row.max_customers_per_salesperson,
        "claims_per_day": row.claims_per_day,
        "reclaim_wait_days": row.reclaim_wait_days,
        "pool_warning_days": row.pool_warning_days,
        "conflict_recent_days": row.conflict_recent_days,
        "grade_skip_rule": "on",
        "concentration_share": 70,
        "concentration_few_people": 3,
        "concentration_few_share_of_team": 101,
    }

    refused = client.post(url, form)
    saved = client.post(url, {**form, "concentration_few_share_of_team": 25})

    assert refused.context["adminform"].form.errors["concentration_few_share_of_team"] == [
        "Ensure this value is less than or equal to 100."
    ]
    assert saved.status_code == 302
    row.refresh_from_db()
    assert (row.concentration_share, row.concentration_few_people, row.concentration_few_share_of_team) == (
        70,
        3,
        25,
    )

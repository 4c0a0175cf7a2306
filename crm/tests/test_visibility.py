"""The one visibility rule: ``User.objects.visible_to``, ``owner_scope`` and ``OwnedQuerySet``.

Owned rows are stood in for by API tokens (one per owner, ``user`` as the owner field),
so the rule is proved on a real table before any customer model builds on it.
"""

import pytest
from django.contrib.auth.models import AnonymousUser

from config.models import ApiToken
from crm.models import OwnedQuerySet, Role, Team, User, owner_scope
from crm.tests.factories import TeamFactory, UserFactory

EAST_TREE = {"manager", "salesperson", "teammate", "sub_salesperson", "deactivated"}
WEST = {"other_manager", "other_salesperson"}
EVERYONE = EAST_TREE | WEST | {"admin"}

EXPECTED = {
    "salesperson": {"salesperson"},
    "teammate": {"teammate"},
    "sub_salesperson": {"sub_salesperson"},
    "manager": EAST_TREE,
    "other_salesperson": {"other_salesperson"},
    "other_manager": WEST,
    "admin": EVERYONE,
}


class TokenQuerySet(OwnedQuerySet):
    owner_field = "user"


def _owned_rows() -> TokenQuerySet:
    return TokenQuerySet(model=ApiToken)


@pytest.fixture
def owned_rows(personas):
    """One row owned by each persona."""
    for role in EVERYONE:
        ApiToken.objects.create(user=getattr(personas, role))
    return _owned_rows()


def _deactivate(user: User) -> User:
    user.is_active = False
    user.save(update_fields=["is_active"])
    return user


# --- Users ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_users_visible_to_each_role(personas, role):
    visible = User.objects.visible_to(personas.user(role))

    assert set(visible.values_list("username", flat=True)) == EXPECTED[role]


@pytest.mark.django_db
def test_a_deactivated_user_sees_no_one(personas):
    assert not User.objects.visible_to(_deactivate(personas.deactivated)).exists()


@pytest.mark.django_db
def test_an_anonymous_visitor_sees_no_one(personas):
    assert not User.objects.visible_to(AnonymousUser()).exists()


@pytest.mark.django_db
def test_a_deactivated_manager_sees_no_one(personas):
    assert not User.objects.visible_to(_deactivate(personas.manager)).exists()


@pytest.mark.django_db
def test_a_manager_still_sees_a_deactivated_team_member(personas):
    # Their customers need a handover, so the departed colleague stays visible.
    _deactivate(personas.deactivated)

    assert User.objects.visible_to(personas.manager).filter(pk=personas.deactivated.pk).exists()


@pytest.mark.django_db
def test_a_manager_sees_every_level_of_the_team_tree(personas):
    east_north = personas.sub_salesperson.team
    deeper = TeamFactory(name="East North Harbour", parent=east_north)
    UserFactory(username="harbour_salesperson", team=deeper)
    UserFactory(
        username="west_sub_salesperson",
        team=TeamFactory(name="West South", parent=personas.other_manager.team),
    )

    visible = set(User.objects.visible_to(personas.manager).values_list("username", flat=True))

    assert visible == EAST_TREE | {"harbour_salesperson"}


@pytest.mark.django_db
def test_a_manager_of_a_sub_team_does_not_see_the_parent_team(personas):
    east_north = personas.sub_salesperson.team
    sub_manager = UserFactory(username="sub_manager", role=Role.MANAGER, team=east_north)
    Team.objects.filter(pk=east_north.pk).update(manager=sub_manager)

    visible = set(User.objects.visible_to(sub_manager).values_list("username", flat=True))

    assert visible == {"sub_manager", "sub_salesperson"}


# --- Owned rows ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_owned_rows_visible_to_each_role(personas, owned_rows, role):
    visible = owned_rows.visible_to(personas.user(role))

    assert set(visible.values_list("user__username", flat=True)) == EXPECTED[role]


@pytest.mark.django_db
def test_owned_rows_are_invisible_to_deactivated_and_anonymous_users(personas, owned_rows):
    assert not owned_rows.visible_to(AnonymousUser()).exists()
    assert not owned_rows.visible_to(_deactivate(personas.deactivated)).exists()


@pytest.mark.django_db
def test_owner_scope_is_no_filter_for_an_admin_and_the_owner_for_a_salesperson(personas):
    assert owner_scope(personas.admin) is None
    assert dict(owner_scope(personas.salesperson, "assigned_to").children) == {
        "assigned_to": personas.salesperson.pk,
    }


@pytest.mark.django_db
def test_owner_scope_follows_the_owner_field_through_a_relation(personas, owned_rows):
    # Related rows (e.g. a contact through its customer) reuse the rule with a longer path.
    scope = owner_scope(personas.manager, "auth_token_set__user")

    visible = User.objects.filter(scope)

    assert set(visible.values_list("username", flat=True)) == EAST_TREE


# --- The team tree ---------------------------------------------------------------------


@pytest.mark.django_db
def test_visible_team_ids_cost_one_query_and_are_cached(personas, django_assert_num_queries):
    manager = User.objects.get(pk=personas.manager.pk)
    east, east_north = personas.salesperson.team_id, personas.sub_salesperson.team_id

    with django_assert_num_queries(1):
        assert manager.visible_team_ids == {east, east_north}
    with django_assert_num_queries(0):
        assert manager.visible_team_ids == {east, east_north}
        User.objects.visible_to(manager)  # builds the filter from the cached ids


@pytest.mark.django_db
def test_visible_team_ids_stay_one_query_for_a_deep_tree(personas, django_assert_num_queries):
    parent = personas.sub_salesperson.team
    for level in range(10):
        parent = TeamFactory(name=f"Level {level}", parent=parent)
    manager = User.objects.get(pk=personas.manager.pk)

    with django_assert_num_queries(1):
        assert parent.pk in manager.visible_team_ids


@pytest.mark.django_db
def test_visible_team_ids_are_all_teams_for_an_admin_and_none_for_a_salesperson(
    personas,
    django_assert_num_queries,
):
    admin = User.objects.get(pk=personas.admin.pk)
    salesperson = User.objects.get(pk=personas.salesperson.pk)
    all_teams = set(Team.objects.values_list("pk", flat=True))

    with django_assert_num_queries(1):
        assert admin.visible_team_ids == all_teams
    with django_assert_num_queries(0):
        assert salesperson.visible_team_ids == frozenset()


@pytest.mark.django_db
def test_a_cycle_in_the_team_tree_does_not_hang(personas):
    east = personas.salesperson.team
    east_north = personas.sub_salesperson.team
    Team.objects.filter(pk=east.pk).update(parent=east_north)  # bad data, not a crash

    manager = User.objects.get(pk=personas.manager.pk)

    assert manager.visible_team_ids == {east.pk, east_north.pk}

"""The demo company of ``make run`` (``seed_demo``) and the benchmark generator (``generate_data``)."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Count, Q
from django.test import RequestFactory, override_settings
from django.utils import timezone

from activities.models import Activity
from core.models import Grade, GradeKind
from crm.demo import DEMO_SALESPEOPLE, DEMO_TEAM_NAMES_ZH, INDUSTRIES_ZH, PROVINCES_ZH
from crm.lifecycle import LifecycleRule, lifecycle_stage
from crm.models import Contact, Customer, KeyPersonRole, Order, Role, Team, User
from crm.normalize import normalize_company_name
from funnel.models import GradeChange

DEMO_USERNAMES = [
    "admin",
    "mgr_east",
    "mgr_west",
    "sales_east1",
    "sales_east2",
    "sales_east3",
    "sales_west1",
    "sales_west2",
    "sales_west3",
]

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo():
    output = run("seed_demo", "--if-empty")
    assert "Demo organisation created" in output
    return output


def histories_by_customer() -> dict[int, list[GradeChange]]:
    chains: dict[int, list[GradeChange]] = {}
    for change in GradeChange.objects.order_by("customer_id", "changed_at", "pk"):
        chains.setdefault(change.customer_id, []).append(change)
    return chains


def assert_consistent_grade_history(now) -> None:
    """What the services keep: the chain of moves ends at the customer's grade, at the
    time it entered it, and the stagnation clock follows from that time."""
    chains = histories_by_customer()
    assert chains, "there is grade history"
    customers = Customer.objects.select_related("grade")
    for customer in customers:
        chain = chains.get(customer.pk, [])
        assert customer.created_at <= customer.grade_entered_at <= now
        if chain:
            assert chain[-1].to_grade_id == customer.grade_id, customer.name
            assert chain[-1].changed_at == customer.grade_entered_at
            assert chain[0].changed_at > customer.created_at
            for previous, change in zip(chain, chain[1:], strict=False):
                assert change.from_grade_id == previous.to_grade_id
                assert change.changed_at > previous.changed_at
                assert change.days_in_previous == (change.changed_at - previous.changed_at).days
        else:
            assert customer.grade_entered_at == customer.created_at
        days = customer.grade.stagnation_days
        expected = customer.grade_entered_at + timedelta(days=days) if days else None
        assert customer.stagnant_from == expected


def test_seed_demo_creates_the_demo_logins_with_the_demo_password(demo, settings):
    users = {user.username: user for user in User.objects.select_related("team")}

    assert set(users) == set(DEMO_USERNAMES)
    assert users["admin"].role == Role.ADMIN and users["admin"].is_superuser
    assert {users["mgr_east"].role, users["mgr_west"].role} == {Role.MANAGER}
    assert Team.objects.get(name="East").manager == users["mgr_east"]
    for team, usernames in DEMO_SALESPEOPLE.items():
        for username in usernames:
            assert users[username].role == Role.SALESPERSON
            assert users[username].team.name == team
    request = RequestFactory().post("/accounts/login/")
    for username in DEMO_USERNAMES:
        assert authenticate(request, username=username, password=settings.DEMO_PASSWORD) == users[username]
    assert settings.DEMO_PASSWORD == "funnel-demo"


def test_seed_demo_creates_a_believable_company_in_a_funnel_shape(demo):
    customers = Customer.objects.select_related("grade", "owner")
    by_grade = dict(customers.values_list("grade__code").annotate(n=Count("pk")))

    assert 280 <= customers.count() <= 320
    assert 8 <= customers.filter(owner=None).count() <= 15
    owners = set(customers.exclude(owner=None).values_list("owner__username", flat=True))
    assert owners == {name for names in DEMO_SALESPEOPLE.values() for name in names}
    # More at the top of the funnel than at the bottom, some won and some lost.
    assert by_grade["E"] > by_grade["C"] > by_grade["A"] > 0
    assert by_grade["D"] > by_grade["B"]
    assert by_grade["WON"] >= 20 and by_grade["LOST"] >= 10
    assert set(customers.values_list("tier", flat=True)) == {"priority", "normal", "low"}
    assert len(set(customers.values_list("source", flat=True))) >= 6
    assert len(set(customers.values_list("industry", flat=True))) >= 8
    assert len(set(customers.values_list("region", flat=True))) >= 8
    values = list(customers.values_list("expected_value", flat=True))
    assert min(values) >= Decimal(50_000) and max(values) <= Decimal(5_000_000)

    names = list(customers.values_list("name", "name_normalized"))
    assert all(normalized == normalize_company_name(name) for name, normalized in names)
    assert len({normalized for _name, normalized in names}) == len(names)
    chinese = [name for name, _n in names if any("\u4e00" <= ch <= "\u9fff" for ch in name)]
    assert 0.4 * len(names) < len(chinese) < 0.9 * len(names), "a mix of Chinese and English names"

    # Customers of a team's salespeople are in that team's territory.
    east_regions = set(customers.filter(owner__team__name="East").values_list("region", flat=True))
    west_regions = set(customers.filter(owner__team__name="West").values_list("region", flat=True))
    assert not east_regions & west_regions


def test_seed_demo_contacts_have_key_person_roles_and_most_c_plus_a_decision_maker(demo):
    per_customer = Customer.objects.annotate(
        contacts_n=Count("contacts"),
        deciders=Count("contacts", filter=Q(contacts__role=KeyPersonRole.DECISION_MAKER)),
    )
    assert all(1 <= customer.contacts_n <= 3 for customer in per_customer)
    assert len(set(Contact.objects.values_list("role", flat=True))) == len(KeyPersonRole.values)

    c_plus = per_customer.filter(grade__kind=GradeKind.OPEN, grade__requires_decision_maker=True)
    with_decider = c_plus.filter(deciders__gt=0).count()
    assert c_plus.count() >= 50
    assert with_decider >= 0.8 * c_plus.count(), "most C+ customers know their decision maker"
    assert with_decider < c_plus.count(), "a few do not, so the warning shows"

    phones = list(Contact.objects.values_list("phone_digits", flat=True))
    assert len(set(phones)) == len(phones), "no accidental duplicate phones across customers"


def test_seed_demo_grade_history_orders_and_stagnation_are_consistent(demo):
    now = timezone.now()
    assert_consistent_grade_history(now)

    changes = GradeChange.objects.all()
    oldest = changes.order_by("changed_at").first().changed_at
    assert now - timedelta(days=185) <= oldest <= now - timedelta(days=120), "spread over six months"
    assert changes.filter(from_grade__isnull=True).count() == 0
    open_customers = Customer.objects.filter(grade__kind=GradeKind.OPEN)
    stagnant = open_customers.filter(stagnant_from__lte=now).count()
    assert 0.1 * open_customers.count() <= stagnant <= 0.6 * open_customers.count()

    won = Customer.objects.filter(grade__kind=GradeKind.WON)
    assert won.exists()
    for customer in won.annotate(n=Count("orders")):
        assert customer.n == customer.order_count >= 1
        signed = customer.orders.values_list("signed_on", flat=True)
        assert customer.lifecycle == lifecycle_stage(signed, on=timezone.localdate(now), rule=LifecycleRule())
    assert not Order.objects.exclude(customer__grade__kind=GradeKind.WON).exists()
    for order in Order.objects.select_related("customer"):
        assert order.owner_id == order.customer.owner_id
        assert 0 < order.gross_profit < order.amount
        assert order.collected_amount <= order.amount
        assert (order.collected_amount > 0) == (order.collected_on is not None)
        assert order.signed_on <= timezone.localdate(now)
    assert Order.objects.filter(collected_amount=0).exists()
    assert Order.objects.filter(collected_amount__gt=0).exists()
    lost = Customer.objects.filter(grade__kind=GradeKind.LOST)
    assert lost.exists() and not lost.filter(lost_reason="").exists()
    # Every customer starts with its "created" audit record, so the first edit shows a diff.
    assert Customer.history.filter(history_type="+").count() == Customer.objects.count()


def test_seed_demo_if_empty_is_a_no_op_the_second_time(demo):
    def counts():
        return [model.objects.count() for model in (User, Customer, Contact, GradeChange, Order)]

    before = counts()
    output = run("seed_demo", "--if-empty")

    assert "left as it is" in output
    assert counts() == before


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@override_settings(DEMO_LANGUAGE="zh-hans")
def test_seed_demo_in_chinese_uses_chinese_names_regions_and_industries():
    """``DEMO_LANGUAGE=zh-hans make run``: a Chinese team sees a Chinese company."""
    run("seed_demo", "--if-empty")

    people = [user.display_name for user in User.objects.all()]
    assert all(_chinese(name) and " " not in name for name in people), people
    assert "王芳" in people
    assert sorted(Team.objects.values_list("name", flat=True)) == sorted(DEMO_TEAM_NAMES_ZH.values())
    customers = Customer.objects.all()
    assert customers.count() > 250
    assert all(_chinese(customer.name) for customer in customers)
    assert set(customers.values_list("region", flat=True)) <= set(PROVINCES_ZH.values())
    assert set(customers.values_list("industry", flat=True)) <= set(INDUSTRIES_ZH.values())
    assert all(_chinese(name) for name in Contact.objects.values_list("name", flat=True))
    assert all(_chinese(outcome) for outcome in Activity.objects.values_list("outcome", flat=True))


def test_seed_demo_in_english_keeps_english_regions_and_industries():
    run("seed_demo", "--language", "en")

    assert set(Customer.objects.values_list("region", flat=True)) & {"Jiangsu", "Sichuan"}
    assert not set(Customer.objects.values_list("industry", flat=True)) & set(INDUSTRIES_ZH.values())
    assert User.objects.get(username="mgr_east").display_name == "Wang Fang"


@override_settings(DEMO_USERS_ALLOWED=False)
def test_production_mode_refuses_demo_and_generated_data():
    with pytest.raises(CommandError, match="never created in production"):
        run("seed_demo", "--if-empty")
    with pytest.raises(CommandError, match="production"):
        run("generate_data", "--customers", "10", "--users", "5", "--teams", "1")
    assert not User.objects.exists() and not Customer.objects.exists()


def test_generate_data_produces_the_counts_asked():
    now = timezone.now()
    output = run(
        "generate_data",
        "--customers",
        "500",
        "--users",
        "20",
        "--teams",
        "4",
        "--grade-changes",
        "1500",
        "--orders",
        "120",
        "--seed",
        "7",
    )

    assert "Generated" in output
    assert Team.objects.count() == 4
    assert not Team.objects.filter(manager=None).exists()
    assert User.objects.count() == 20
    assert User.objects.filter(role=Role.MANAGER).count() == 4
    assert Customer.objects.count() == 500
    assert Contact.objects.count() == 500
    assert GradeChange.objects.count() == 1500
    assert Order.objects.count() == 120
    normalized = list(Customer.objects.values_list("name_normalized", flat=True))
    assert len(set(normalized)) == 500
    assert Customer.objects.filter(owner=None).exists()
    assert not Customer.objects.filter(owner__role=Role.MANAGER).exists()
    assert_consistent_grade_history(now)
    grades = dict(Customer.objects.values_list("grade__code").annotate(n=Count("pk")))
    assert grades["E"] > grades["A"] and grades["WON"] > 0
    assert not Order.objects.exclude(customer__grade__kind=GradeKind.WON).exists()
    assert Grade.objects.count() == 7  # the configured grades are used, not added to


def test_generate_data_runs_again_on_the_same_database_and_in_production_with_force(settings):
    run("generate_data", "--customers", "50", "--users", "6", "--teams", "2", "--seed", "1")
    settings.DEMO_USERS_ALLOWED = False
    run("generate_data", "--customers", "50", "--users", "6", "--teams", "2", "--seed", "1", "--force")

    assert Customer.objects.count() == 100
    assert User.objects.count() == 12
    assert GradeChange.objects.count() == 300  # default: three per customer
    assert Order.objects.count() == 20  # default: one per five customers
    # Users generated in production mode cannot sign in with the demo password.
    forced = User.objects.order_by("-pk").first()
    assert not forced.has_usable_password()


def test_table_writer_round_trips_awkward_values_and_returns_ids_in_order():
    from crm.bulk import TableWriter
    from crm.normalize import phone_digits

    grade = Grade.objects.get(code="E")
    writer = TableWriter(Customer, batch_size=2)
    moment = timezone.make_aware(timezone.datetime(2024, 3, 1, 9, 30), timezone.get_fixed_timezone(480))
    rows = [
        {
            "name": name,
            "name_normalized": normalize_company_name(name),
            "grade_id": grade.pk,
            "grade_entered_at": moment,
            "created_at": moment,
            "updated_at": moment,
            "notes": notes,
            "phone": phone,
            "phone_digits": phone_digits(phone),  # live customers' phones are unique
            "expected_value": Decimal("1234567.89"),
            "expected_signing_on": None,
        }
        for (name, notes), phone in zip(
            [
                ('上海\t引号"有限公司', 'line one\nline two, "quoted"\\N and a \\ backslash'),
                ("O'Brien, Smith & Co.", ""),
                ("Plain Ltd.", "\\N"),
            ],
            ["021-5555 0101", "021-5555 0102", "021-5555 0103"],
            strict=True,
        )
    ]

    ids = writer.insert(rows, returning=True)

    saved = Customer.objects.in_bulk(ids)
    assert [saved[pk].name for pk in ids] == [row["name"] for row in rows]
    assert [saved[pk].notes for pk in ids] == [row["notes"] for row in rows]
    assert all(saved[pk].grade_entered_at == moment for pk in ids)
    assert all(saved[pk].expected_value == Decimal("1234567.89") for pk in ids)
    assert all(saved[pk].expected_signing_on is None and saved[pk].probability_override is None for pk in ids)
    assert Customer.objects.filter(notes="").count() == 1  # an empty string stays one, not NULL


def test_prefetch_hands_over_items_in_order_and_raises_the_producers_error():
    from funnel.demo import prefetch

    def items():
        yield from range(5)
        raise ValueError("generator failed")

    seen = []
    with pytest.raises(ValueError, match="generator failed"):
        for item in prefetch(items(), depth=1):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]
    assert list(prefetch(iter(range(100)), depth=2)) == list(range(100))

"""Quick daily planning (issue 16: 9): customers onto tomorrow's plan in one click (my day,
the customer page, the customer list's selection, the API), the plan's searchable
customer picker with the due customers first, and the purpose taken from the grade."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from activities import selectors, services
from activities.models import DailyPlan, PlanItem, PlanItemKind, Purpose
from crm.models import Customer, Tier
from crm.tests.factories import ContactFactory, CustomerFactory, OrderFactory, bulk_customers
from funnel.clock import next_working_day
from funnel.tests.factories import grade

from .factories import submitted_plan

TOMORROW = lambda: timezone.localdate() + timedelta(days=1)  # noqa: E731
HTMX = {"HTTP_HX_REQUEST": "true"}


def _contacted(customer: Customer) -> Customer:
    """Called and visited just now: within every cadence, no follow-up due."""
    now = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(
        last_call_at=now, last_visit_at=now, next_follow_up_on=None
    )
    return customer


def _follow_up_on(customer: Customer, day) -> Customer:
    Customer.objects.filter(pk=customer.pk).update(next_follow_up_on=day)
    return customer


# --- The purpose a customer's grade suggests -------------------------------------------------


@pytest.mark.parametrize(
    "code, ordered, purpose",
    [
        ("E", False, Purpose.NEW_DEVELOPMENT),
        ("C", False, Purpose.NEW_DEVELOPMENT),
        ("C", True, Purpose.SERVICE),
        ("B", False, Purpose.ORDER),
        ("A", False, Purpose.ORDER),
        ("WON", False, Purpose.SERVICE),
        ("LOST", False, Purpose.NEW_DEVELOPMENT),
    ],
)
def test_the_purpose_follows_the_grade(personas, code, ordered, purpose):
    customer = CustomerFactory(owner=personas.salesperson, grade=grade(code))
    if ordered:
        OrderFactory(customer=customer, by=personas.salesperson)
        customer.refresh_from_db()

    assert selectors.default_purpose(customer) == purpose


# --- The service -------------------------------------------------------------------------------


def test_adding_customers_opens_tomorrows_plan_with_area_and_purpose_from_the_customer(personas):
    quoting = CustomerFactory(owner=personas.salesperson, grade=grade("B"), region="Pudong", name="Quote Co")
    prospect = CustomerFactory(owner=personas.salesperson, grade=grade("E"), name="Prospect Co")

    result = services.add_customers_to_plan(
        by=personas.salesperson, customer_ids=[quoting.pk, prospect.pk], day=TOMORROW()
    )

    plan = DailyPlan.objects.get(owner=personas.salesperson, date=TOMORROW())
    assert result.plan == plan and plan.state == "draft"
    items = {item.customer_id: item for item in plan.items.all()}
    assert (items[quoting.pk].purpose, items[quoting.pk].area, items[quoting.pk].kind) == (
        Purpose.ORDER,
        "Pudong",
        PlanItemKind.VISIT,
    )
    assert items[prospect.pk].purpose == Purpose.NEW_DEVELOPMENT
    assert (len(result.added), result.already_planned, result.unknown) == (2, 0, 0)


def test_adding_again_adds_nothing(personas):
    customers = [CustomerFactory(owner=personas.salesperson) for _ in range(2)]
    ids = [customer.pk for customer in customers]
    services.add_customers_to_plan(by=personas.salesperson, customer_ids=ids[:1], day=TOMORROW())

    again = services.add_customers_to_plan(by=personas.salesperson, customer_ids=ids + ids, day=TOMORROW())

    assert [item.customer_id for item in again.added] == ids[1:]
    assert again.already_planned == 1
    assert PlanItem.objects.filter(plan__owner=personas.salesperson).count() == 2
    assert (
        services.add_customers_to_plan(by=personas.salesperson, customer_ids=ids, day=TOMORROW()).added == []
    )


def test_customers_the_user_may_not_see_are_never_added(personas):
    mine = CustomerFactory(owner=personas.salesperson)
    teammates = CustomerFactory(owner=personas.teammate)
    archived = CustomerFactory(owner=personas.salesperson)
    Customer.objects.filter(pk=archived.pk).update(archived_at=timezone.now())

    result = services.add_customers_to_plan(
        by=personas.salesperson, customer_ids=[mine.pk, teammates.pk, archived.pk, 999999], day=TOMORROW()
    )

    assert [item.customer_id for item in result.added] == [mine.pk]
    assert result.unknown == 3
    with pytest.raises(ValidationError) as refused:
        services.add_customers_to_plan(by=personas.salesperson, customer_ids=[teammates.pk], day=TOMORROW())
    assert refused.value.message_dict == {"customer": ["Unknown customer."]}
    # A manager sees the team's customers and may plan to visit them (accompanied visit).
    assert services.add_customers_to_plan(
        by=personas.manager, customer_ids=[teammates.pk], day=TOMORROW()
    ).added


@pytest.mark.parametrize("approve", [False, True])
def test_a_submitted_or_approved_plan_is_refused_and_nothing_is_added(personas, approve):
    first, second = (CustomerFactory(owner=personas.salesperson) for _ in range(2))
    plan = submitted_plan(personas.salesperson, first, day=TOMORROW())
    if approve:
        services.approve_plan(plan=plan, by=personas.manager)

    with pytest.raises(ValidationError, match="only a draft or a returned plan can be changed"):
        services.add_customers_to_plan(by=personas.salesperson, customer_ids=[second.pk], day=TOMORROW())
    assert list(plan.items.values_list("customer_id", flat=True)) == [first.pk]


def test_bad_input_is_refused(personas):
    customer = CustomerFactory(owner=personas.salesperson)
    yesterday = timezone.localdate() - timedelta(days=1)
    cases = [
        ({"customer_ids": [], "day": TOMORROW()}, "customer"),
        ({"customer_ids": list(range(1, services.PLAN_ADD_LIMIT + 2)), "day": TOMORROW()}, "customer"),
        ({"customer_ids": [customer.pk], "day": yesterday}, "date"),
        ({"customer_ids": [customer.pk], "day": TOMORROW(), "kind": "fax"}, "kind"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as refused:
            services.add_customers_to_plan(by=personas.salesperson, **kwargs)
        assert field in refused.value.message_dict
    assert not PlanItem.objects.exists()


# --- The one-click endpoint --------------------------------------------------------------------


def test_one_click_from_my_day_answers_htmx_with_a_status_in_place(client_as, personas):
    customer = CustomerFactory(owner=personas.salesperson, name="Harbor Point", grade=grade("A"))
    client = client_as("salesperson")

    home = client.get(reverse("home")).content.decode()
    response = client.post(reverse("activities:plan-add-customers"), {"customer": customer.pk}, **HTMX)
    again = client.post(reverse("activities:plan-add-customers"), {"customer": customer.pk}, **HTMX)

    assert 'data-testid="plan-add"' in home
    assert response.status_code == 200
    assert "Harbor Point added to your plan for" in response.content.decode()
    assert again.status_code == 200 and "Already on your plan for" in again.content.decode()
    item = PlanItem.objects.get()
    assert (item.plan.date, item.purpose) == (next_working_day(timezone.localdate()), Purpose.ORDER)


def test_on_a_friday_tomorrows_plan_is_mondays():
    friday = date(2026, 12, 4)
    assert selectors.next_plan_day(friday) == date(2026, 12, 7)
    assert selectors.next_plan_day(date(2026, 12, 7)) == date(2026, 12, 8)


def test_a_plain_post_goes_back_to_next_with_a_message(client_as, personas):
    customers = [CustomerFactory(owner=personas.salesperson) for _ in range(3)]
    client = client_as("salesperson")
    day = (timezone.localdate() + timedelta(days=3)).isoformat()

    response = client.post(
        reverse("activities:plan-add-customers"),
        {"customer": [c.pk for c in customers], "day": day, "next": "/customers/?tier=low"},
        follow=True,
    )

    assert response.redirect_chain[0] == ("/customers/?tier=low", 302)
    assert "3 customers added to your plan for" in response.content.decode()
    assert PlanItem.objects.filter(plan__date=day).count() == 3
    evil = client.post(
        reverse("activities:plan-add-customers"),
        {"customer": customers[0].pk, "next": "https://evil.example/"},
    )
    tomorrows = DailyPlan.objects.get(owner=personas.salesperson, date=TOMORROW())
    assert evil.url == reverse("activities:plan-detail", args=[tomorrows.pk])


def test_a_refusal_says_why(client_as, personas):
    customer = CustomerFactory(owner=personas.salesperson)
    submitted_plan(personas.salesperson, customer, day=TOMORROW())
    other = CustomerFactory(owner=personas.salesperson)
    client = client_as("salesperson")

    htmx = client.post(reverse("activities:plan-add-customers"), {"customer": other.pk}, **HTMX)
    plain = client.post(reverse("activities:plan-add-customers"), {"customer": "abc"}, follow=True)

    assert htmx.status_code == 422
    assert "only a draft or a returned plan can be changed" in htmx.content.decode()
    assert 'role="alert"' in htmx.content.decode()
    assert "Unknown customer." in plain.content.decode()
    assert PlanItem.objects.count() == 1


@pytest.mark.parametrize(
    "role, added",
    [
        ("salesperson", True),
        ("manager", True),
        ("admin", True),
        ("teammate", False),
        ("other_salesperson", False),
        ("other_manager", False),
    ],
)
def test_only_visible_customers_are_added_by_each_role(client_as, personas, role, added):
    customer = CustomerFactory(owner=personas.salesperson)

    response = client_as(role).post(
        reverse("activities:plan-add-customers"), {"customer": customer.pk}, **HTMX
    )

    assert response.status_code == (200 if added else 422)
    assert PlanItem.objects.filter(customer=customer, plan__owner=personas.user(role)).exists() is added


def test_the_customer_page_has_the_button(client_as, personas):
    customer = CustomerFactory(owner=personas.salesperson)

    html = client_as("salesperson").get(reverse("crm:customer-detail", args=[customer.pk])).content.decode()

    assert f'action="{reverse("activities:plan-add-customers")}"' in html
    assert "Add to tomorrow&#x27;s plan" in html or "Add to tomorrow's plan" in html


def test_the_api_adds_and_answers_200_when_nothing_was_new(client_as, personas):
    customer = CustomerFactory(owner=personas.salesperson, grade=grade("WON"))
    client = client_as("salesperson")
    url = reverse("dailyplan-add-customers")

    first = client.post(url, {"customers": [customer.pk]}, content_type="application/json")
    second = client.post(url, {"customers": [customer.pk]}, content_type="application/json")
    services.submit_plan(plan=DailyPlan.objects.get(), by=personas.salesperson)
    refused = client.post(
        url, {"customers": [CustomerFactory(owner=personas.salesperson).pk]}, content_type="application/json"
    )

    assert first.status_code == 201
    assert first.json()["date"] == TOMORROW().isoformat()
    assert [item["purpose"] for item in first.json()["added"]] == [Purpose.SERVICE]
    assert second.status_code == 200 and second.json()["already_planned"] == 1
    assert refused.status_code == 400


# --- The picker ----------------------------------------------------------------------------------


def test_the_picker_suggests_follow_ups_due_then_cadence_due_and_nothing_already_planned(personas):
    owner = personas.salesperson
    plan = services.open_plan(by=owner, day=TOMORROW())
    later = _follow_up_on(_contacted(CustomerFactory(owner=owner, name="Due Tomorrow")), TOMORROW())
    first = _follow_up_on(
        _contacted(CustomerFactory(owner=owner, name="Overdue")), timezone.localdate() - timedelta(days=2)
    )
    cadence = CustomerFactory(owner=owner, name="Never Called", tier=Tier.PRIORITY)
    _contacted(CustomerFactory(owner=owner, name="Fine"))
    _follow_up_on(
        _contacted(CustomerFactory(owner=owner, name="Next Week")), timezone.localdate() + timedelta(days=7)
    )
    planned = CustomerFactory(owner=owner, name="Planned")
    services.add_plan_item(plan=plan, by=owner, customer=planned, purpose=Purpose.SERVICE)
    CustomerFactory(owner=personas.teammate, name="Teammate's")

    picked = selectors.plan_picker(owner, plan)

    assert [(c.name, c.pick_rank) for c in picked] == [
        ("Overdue", 0),
        ("Due Tomorrow", 0),
        ("Never Called", 1),
    ]
    assert picked[2] == cadence and picked[1] == later and picked[0] == first


def test_the_picker_searches_name_contact_phone_and_area_due_ones_first(personas):
    owner = personas.salesperson
    plan = services.open_plan(by=owner, day=TOMORROW())
    by_name = _contacted(CustomerFactory(owner=owner, name="Harbor Point", region="Minhang"))
    by_area = CustomerFactory(owner=owner, name="Pudong Ltd", region="Harbor District")
    by_contact = _contacted(CustomerFactory(owner=owner, name="Blue Sky"))
    ContactFactory(customer=by_contact, name="Harbor Zhou")
    by_phone = _contacted(CustomerFactory(owner=owner, name="Phone Co", phone="021-5555 0101"))

    picked = selectors.plan_picker(owner, plan, q="harbor")

    # The cadence-due one first, then by name.
    assert [c.pk for c in picked] == [by_area.pk, by_contact.pk, by_name.pk]
    assert [c.pk for c in selectors.plan_picker(owner, plan, q="55550101")] == [by_phone.pk]
    assert [c.pk for c in selectors.plan_picker(owner, plan, q="Minhang")] == [by_name.pk]


@pytest.mark.parametrize(
    "role, sees",
    [
        ("salesperson", {"Mine"}),
        ("teammate", {"Teammate's"}),
        ("manager", {"Mine", "Teammate's"}),
        ("other_salesperson", {"Other team's"}),
        ("other_manager", {"Other team's"}),
        ("admin", {"Mine", "Teammate's", "Other team's"}),
    ],
)
def test_the_picker_never_offers_a_customer_the_user_may_not_see(personas, role, sees):
    for owner, name in (
        (personas.salesperson, "Mine"),
        (personas.teammate, "Teammate's"),
        (personas.other_salesperson, "Other team's"),
    ):
        _follow_up_on(CustomerFactory(owner=owner, name=f"Acme {name}"), timezone.localdate())
    user = personas.user(role)
    plan = services.open_plan(by=user, day=TOMORROW())

    found = {c.name.removeprefix("Acme ") for c in selectors.plan_picker(user, plan, q="acme")}
    suggested = {c.name.removeprefix("Acme ") for c in selectors.plan_picker(user, plan)}

    assert found == sees
    # Without a search: only the user's own due customers, as on "my day".
    own = {"salesperson": {"Mine"}, "teammate": {"Teammate's"}, "other_salesperson": {"Other team's"}}
    assert suggested == own.get(role, set())


def test_the_picker_page_is_the_owners(client_as, personas):
    plan = services.open_plan(by=personas.salesperson, day=TOMORROW())
    _follow_up_on(CustomerFactory(owner=personas.salesperson, name="Acme Mine"), timezone.localdate())
    url = reverse("activities:plan-picker", args=[plan.pk])

    owner = client_as("salesperson").get(url, {"q": "acm"})

    assert owner.status_code == 200 and "Acme Mine" in owner.content.decode()
    assert client_as("manager").get(url).status_code == 403
    assert client_as("teammate").get(url).status_code == 404
    nothing = client_as("salesperson").get(url, {"q": "zzz"}).content.decode()
    assert "No customer matches" in nothing


@pytest.mark.parametrize("size", [3, 30])
def test_the_picker_keeps_its_queries_at_two_sizes(personas, size, django_assert_num_queries):
    owner = personas.salesperson
    plan = services.open_plan(by=owner, day=TOMORROW())
    for customer in bulk_customers(owner=owner, count=size, grade=grade("C"), prefix="Acme"):
        ContactFactory(customer=customer, name=f"Acme buyer {customer.pk}")
    services.add_plan_item(
        plan=plan, by=owner, customer=Customer.objects.filter(owner=owner).first(), purpose=Purpose.SERVICE
    )

    # The cadence rules; the customers (grade joined, the plan's customers a subquery).
    with django_assert_num_queries(2):
        searched = selectors.plan_picker(owner, plan, q="acme")
    with django_assert_num_queries(2):
        suggested = selectors.plan_picker(owner, plan)
    assert len(searched) == len(suggested) == min(size - 1, selectors.PICKER_ROWS)


@pytest.mark.parametrize("size", [3, 30])
def test_the_plan_page_keeps_its_queries_at_two_sizes(
    client_as, personas, size, django_assert_max_num_queries
):
    owner = personas.salesperson
    plan = services.open_plan(by=owner, day=TOMORROW())
    customers = bulk_customers(owner=owner, count=size, grade=grade("C"), prefix="Acme")
    for customer in customers[: size // 3 + 1]:
        services.add_plan_item(plan=plan, by=owner, customer=customer, purpose=Purpose.SERVICE)
    client = client_as("salesperson")
    url = reverse("activities:plan-detail", args=[plan.pk])

    with django_assert_max_num_queries(20) as small:
        assert client.get(url, {"q": "acme"}).status_code == 200
    # Same count with ten times the customers (nothing per item or per customer).
    bulk_customers(owner=owner, count=size * 10, grade=grade("C"), prefix="More Acme", start=1000)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url, {"q": "acme"}).status_code == 200


# --- Adding an item on the plan page (htmx: no reload) -----------------------------------------


def test_adding_an_item_with_htmx_answers_the_items_and_a_fresh_form(client_as, personas):
    owner = personas.salesperson
    plan = services.open_plan(by=owner, day=TOMORROW())
    customer = CustomerFactory(owner=owner, name="Quote Co", grade=grade("B"), region="Pudong")
    client = client_as("salesperson")

    page = client.get(reverse("activities:plan-detail", args=[plan.pk])).content.decode()
    response = client.post(
        reverse("activities:plan-item-add", args=[plan.pk]),
        {"customer": customer.pk, "kind": "call", "purpose": ""},
        **HTMX,
    )

    assert 'data-testid="picker-option"' in page and "Quote Co" in page
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="plan-items"' in html and "Quote Co added to the plan." in html
    assert 'id="plan-add" hx-swap-oob="true"' in html and 'id="plan-submit" hx-swap-oob="true"' in html
    item = PlanItem.objects.get()
    assert (item.purpose, item.kind, item.area) == (Purpose.ORDER, "call", "Pudong")


def test_a_refused_item_comes_back_in_the_form_with_the_choice_kept(client_as, personas):
    plan = services.open_plan(by=personas.salesperson, day=TOMORROW())
    customer = CustomerFactory(owner=personas.salesperson, name="Slot Co")

    response = client_as("salesperson").post(
        reverse("activities:plan-item-add", args=[plan.pk]),
        {"customer": customer.pk, "kind": "visit", "starts_at": "10:00", "ends_at": "09:00"},
        **HTMX,
    )

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#plan-add"
    html = response.content.decode()
    assert "The time slot must end after it starts." in html
    assert f'value="{customer.pk}" id="pick-{customer.pk}" data-purpose="new_development" checked' in html
    assert not PlanItem.objects.exists()

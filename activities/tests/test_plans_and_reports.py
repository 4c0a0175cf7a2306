"""The daily plan and the daily report: who may move them, which moves are legal, and
what the pages and the API answer when a move is refused (400 / 403, never 500)."""

import zoneinfo
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import (
    ActivitySettings,
    DailyPlan,
    DailyReport,
    PlanState,
    Purpose,
    ReportState,
    ReviewEvent,
)
from core.models import SecurityAction, SecurityEvent
from crm.models import Notification, Role
from crm.tests.factories import CustomerFactory, OrderFactory, TeamFactory, UserFactory

from .factories import log_call, log_visit, submitted_plan

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def customer(personas):
    return CustomerFactory(owner=personas.salesperson)


@pytest.fixture
def plan(personas, customer):
    return submitted_plan(personas.salesperson, customer)


def _report(user, day=None):
    return services.open_report(by=user, day=day or timezone.localdate())


# --- Plans: the state machine -----------------------------------------------------------


def test_a_plan_goes_draft_submitted_approved_with_its_history(personas, customer):
    draft = services.open_plan(by=personas.salesperson, day=timezone.localdate())
    services.add_plan_item(plan=draft, by=personas.salesperson, customer=customer, purpose=Purpose.ORDER)
    assert draft.state == PlanState.DRAFT

    services.submit_plan(plan=draft, by=personas.salesperson)
    services.approve_plan(plan=draft, by=personas.manager, comment="Good")

    draft.refresh_from_db()
    assert (draft.state, draft.reviewed_by, draft.review_comment) == (
        PlanState.APPROVED,
        personas.manager,
        "Good",
    )
    assert [(e.from_state, e.to_state, e.by) for e in draft.events.all()] == [
        ("draft", "submitted", personas.salesperson),
        ("submitted", "approved", personas.manager),
    ]


def test_a_returned_plan_can_be_edited_and_resubmitted(personas, customer, plan):
    services.return_plan(plan=plan, by=personas.manager, comment="Visit the A customers first")

    services.add_plan_item(
        plan=plan,
        by=personas.salesperson,
        customer=CustomerFactory(owner=personas.salesperson),
        purpose=Purpose.SERVICE,
    )
    services.submit_plan(plan=plan, by=personas.salesperson)

    plan.refresh_from_db()
    assert plan.state == PlanState.SUBMITTED
    assert plan.items.count() == 2
    assert [e.to_state for e in plan.events.all()] == ["submitted", "returned", "submitted"]


def test_returning_tells_the_owner_in_the_app(personas, plan):
    services.return_plan(plan=plan, by=personas.manager, comment="Too few visits")

    notification = Notification.objects.get(recipient=personas.salesperson)
    assert notification.kind == "plan_returned"
    assert notification.body == "Too few visits"
    assert notification.url == reverse("activities:plan-detail", args=[plan.pk])


def test_returning_needs_a_comment(personas, plan):
    with pytest.raises(ValidationError) as error:
        services.return_plan(plan=plan, by=personas.manager, comment="  ")

    assert "comment" in error.value.message_dict
    plan.refresh_from_db()
    assert plan.state == PlanState.SUBMITTED


def test_approving_twice_leaves_one_approval(personas, plan):
    stale = DailyPlan.objects.get(pk=plan.pk)  # a second browser tab, loaded before the first click
    services.approve_plan(plan=plan, by=personas.manager)

    with pytest.raises(ValidationError):
        services.approve_plan(plan=stale, by=personas.admin)

    assert ReviewEvent.objects.filter(plan=plan, to_state=PlanState.APPROVED).count() == 1
    plan.refresh_from_db()
    assert plan.reviewed_by == personas.manager


def test_approvals_and_sign_offs_go_to_the_security_audit_log(personas, plan):
    services.approve_plan(plan=plan, by=personas.manager, comment="Good")
    report = services.submit_report(report=_report(personas.salesperson), by=personas.salesperson)
    services.sign_off_report(report=report, by=personas.manager)

    events = SecurityEvent.objects.filter(action=SecurityAction.APPROVAL).order_by("pk")
    assert [(e.actor, e.object_type, e.object_id, e.detail["decision"]) for e in events] == [
        (personas.manager, "activities.dailyplan", str(plan.pk), PlanState.APPROVED),
        (personas.manager, "activities.dailyreport", str(report.pk), ReportState.SIGNED_OFF),
    ]


@pytest.mark.parametrize("move", ["approve", "return"])
def test_a_plan_that_is_not_submitted_cannot_be_reviewed(personas, customer, move):
    draft = services.open_plan(by=personas.salesperson, day=timezone.localdate())

    with pytest.raises(ValidationError):
        if move == "approve":
            services.approve_plan(plan=draft, by=personas.manager)
        else:
            services.return_plan(plan=draft, by=personas.manager, comment="No")


def test_an_approved_plan_cannot_be_changed_or_resubmitted(personas, customer, plan):
    services.approve_plan(plan=plan, by=personas.manager)

    with pytest.raises(ValidationError):
        services.add_plan_item(plan=plan, by=personas.salesperson, customer=customer, purpose=Purpose.SERVICE)
    with pytest.raises(ValidationError):
        services.submit_plan(plan=plan, by=personas.salesperson)


def test_an_empty_plan_cannot_be_submitted(personas):
    draft = services.open_plan(by=personas.salesperson, day=timezone.localdate())

    with pytest.raises(ValidationError):
        services.submit_plan(plan=draft, by=personas.salesperson)


def test_plans_are_for_today_or_later(personas):
    with pytest.raises(ValidationError):
        services.open_plan(by=personas.salesperson, day=timezone.localdate() - timedelta(days=1))


def test_one_plan_per_person_and_day(personas):
    first = services.open_plan(by=personas.salesperson, day=timezone.localdate())
    again = services.open_plan(by=personas.salesperson, day=timezone.localdate())

    assert first == again
    with pytest.raises(IntegrityError), transaction.atomic():
        DailyPlan.objects.create(owner=personas.salesperson, date=timezone.localdate())


def test_only_visible_customers_go_on_a_plan(personas):
    draft = services.open_plan(by=personas.salesperson, day=timezone.localdate())
    someone_elses = CustomerFactory(owner=personas.teammate)

    with pytest.raises(ValidationError):
        services.add_plan_item(
            plan=draft, by=personas.salesperson, customer=someone_elses, purpose=Purpose.SERVICE
        )
    assert not draft.items.exists()


# --- Plans: who may move them ------------------------------------------------------------


@pytest.mark.parametrize("role", ["manager", "admin", "teammate"])
def test_only_the_owner_submits_or_edits(personas, customer, role):
    draft = services.open_plan(by=personas.salesperson, day=timezone.localdate())
    services.add_plan_item(plan=draft, by=personas.salesperson, customer=customer, purpose=Purpose.SERVICE)

    with pytest.raises(PermissionDenied):
        services.submit_plan(plan=draft, by=personas.user(role))
    with pytest.raises(PermissionDenied):
        services.add_plan_item(plan=draft, by=personas.user(role), customer=customer, purpose=Purpose.SERVICE)


@pytest.mark.parametrize(
    "role", ["salesperson", "teammate", "sub_salesperson", "other_manager", "other_salesperson"]
)
def test_only_the_owners_manager_or_an_admin_reviews(personas, plan, role):
    with pytest.raises(PermissionDenied):
        services.approve_plan(plan=plan, by=personas.user(role))
    with pytest.raises(PermissionDenied):
        services.return_plan(plan=plan, by=personas.user(role), comment="No")
    plan.refresh_from_db()
    assert plan.state == PlanState.SUBMITTED


def test_the_manager_of_a_parent_team_reviews_a_sub_teams_plan(personas):
    plan = submitted_plan(personas.sub_salesperson, CustomerFactory(owner=personas.sub_salesperson))

    services.approve_plan(plan=plan, by=personas.manager)

    assert plan.state == PlanState.APPROVED


def test_a_manager_does_not_approve_their_own_plan(personas):
    plan = submitted_plan(personas.manager, CustomerFactory(owner=personas.manager))

    with pytest.raises(PermissionDenied):
        services.approve_plan(plan=plan, by=personas.manager)
    services.approve_plan(plan=plan, by=personas.admin)


def test_a_sub_team_manager_reviews_their_team_but_not_the_parent(personas):
    east_north = personas.sub_salesperson.team
    sub_manager = UserFactory(username="sub_manager", role=Role.MANAGER, team=east_north)
    east_north.manager = sub_manager
    east_north.save()
    parent_plan = submitted_plan(personas.salesperson, CustomerFactory(owner=personas.salesperson))
    sub_plan = submitted_plan(personas.sub_salesperson, CustomerFactory(owner=personas.sub_salesperson))

    services.approve_plan(plan=sub_plan, by=sub_manager)
    with pytest.raises(PermissionDenied):
        services.approve_plan(plan=parent_plan, by=sub_manager)


# --- Plans: pages and API answer 400 / 403 / 404, never 500 -----------------------------------


@pytest.mark.parametrize(
    "role, status",
    [
        ("salesperson", 403),
        ("teammate", 404),
        ("other_manager", 404),
        ("manager", 302),
        ("admin", 302),
    ],
)
def test_the_approve_page_action_per_role(client_as, plan, role, status):
    response = client_as(role).post(reverse("activities:plan-approve", args=[plan.pk]))

    assert response.status_code == status


def test_approving_twice_in_the_browser_answers_400_with_the_reason(client_as, plan):
    manager = client_as("manager")
    manager.post(reverse("activities:plan-approve", args=[plan.pk]))

    response = manager.post(reverse("activities:plan-approve", args=[plan.pk]))

    assert response.status_code == 400
    assert "Only a submitted plan can be approved." in response.content.decode()


def test_returning_without_a_comment_in_the_browser_answers_400(client_as, plan):
    response = client_as("manager").post(reverse("activities:plan-return", args=[plan.pk]), {"comment": ""})

    assert response.status_code == 400
    plan.refresh_from_db()
    assert plan.state == PlanState.SUBMITTED


def test_htmx_review_answers_the_persons_approvals_row(client_as, personas, plan):
    response = client_as("manager").post(
        reverse("activities:plan-approve", args=[plan.pk]), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="approval-{personas.salesperson.pk}"' in html
    assert "Approved" in html


def test_htmx_return_without_comment_answers_422_with_the_error_in_the_row(client_as, personas, plan):
    response = client_as("manager").post(
        reverse("activities:plan-return", args=[plan.pk]), {"comment": ""}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    assert "Say why the plan is returned." in response.content.decode()


@pytest.mark.parametrize(
    "action, role, status",
    [
        ("dailyplan-approve", "manager", 200),
        ("dailyplan-approve", "salesperson", 403),
        ("dailyplan-approve", "other_manager", 404),
        ("dailyplan-return", "manager", 400),
        ("dailyplan-submit", "salesperson", 400),
        ("dailyplan-submit", "manager", 403),
    ],
)
def test_api_moves_answer_200_400_403_404(client_as, plan, action, role, status):
    response = client_as(role).post(reverse(action, args=[plan.pk]), {}, content_type="application/json")

    assert response.status_code == status, response.content


def test_api_creates_a_plan_with_items_in_one_go(client_as, personas, customer):
    day = (timezone.localdate() + timedelta(days=1)).isoformat()

    response = client_as("salesperson").post(
        reverse("dailyplan-list"),
        {
            "date": day,
            "items": [
                {
                    "customer": customer.pk,
                    "kind": "visit",
                    "purpose": "order",
                    "starts_at": "09:00",
                    "ends_at": "10:30",
                }
            ],
        },
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["items"][0]["customer_name"] == customer.name
    assert response.json()["state"] == "draft"


def test_api_refuses_a_plan_item_for_an_invisible_customer_and_writes_nothing(client_as, personas):
    hidden = CustomerFactory(owner=personas.other_salesperson)

    response = client_as("salesperson").post(
        reverse("dailyplan-list"),
        {
            "date": timezone.localdate().isoformat(),
            "items": [{"customer": hidden.pk, "purpose": "order"}],
        },
        content_type="application/json",
    )

    assert response.status_code == 400
    assert not DailyPlan.objects.exists()


# --- Reports ----------------------------------------------------------------------------------


def test_a_report_is_filled_in_from_the_days_records(personas, customer):
    owner = personas.salesperson
    plan = services.open_plan(by=owner, day=timezone.localdate())
    services.add_plan_item(plan=plan, by=owner, customer=customer, purpose=Purpose.SERVICE)
    services.add_plan_item(
        plan=plan, by=owner, customer=CustomerFactory(owner=owner), purpose=Purpose.SERVICE
    )
    log_call(customer, call_stage=1, expense=Decimal("12.50"))
    log_call(customer, competitor_news="Rival cut prices 5 %")
    log_visit(customer, effective=True, expense=Decimal("80"))
    log_visit(CustomerFactory(owner=personas.teammate), by=personas.teammate)  # someone else's day
    OrderFactory(
        customer=customer,
        amount=Decimal("50000"),
        signed_on=timezone.localdate(),
        collected_amount=Decimal("20000"),
        collected_on=timezone.localdate(),
    )

    report = _report(owner)

    assert (report.calls, report.connected_calls, report.visits, report.effective_activities) == (2, 1, 1, 1)
    assert report.expenses == Decimal("92.50")
    assert (report.plan_items_planned, report.plan_items_done) == (2, 1)
    assert (report.orders_count, report.orders_amount, report.money_collected) == (
        1,
        Decimal("50000"),
        Decimal("20000"),
    )
    assert "Rival cut prices 5 %" in report.competitor_info


def test_the_figures_stay_fresh_until_submitted_then_freeze(personas, customer):
    report = _report(personas.salesperson)
    log_visit(customer)

    report = services.update_report(report=report, by=personas.salesperson, lessons="Call earlier")
    assert report.visits == 1
    services.submit_report(report=report, by=personas.salesperson)
    log_visit(customer)

    report.refresh_from_db()
    assert report.visits == 1


def test_report_state_machine_with_sign_off_and_return(personas):
    report = _report(personas.salesperson)
    services.submit_report(report=report, by=personas.salesperson)
    services.return_report(report=report, by=personas.manager, comment="Add the complaint from Jinqiao")
    services.update_report(report=report, by=personas.salesperson, complaints_handled=1)
    services.submit_report(report=report, by=personas.salesperson)
    services.sign_off_report(report=report, by=personas.manager, comment="Well handled")

    report.refresh_from_db()
    assert (report.state, report.review_comment) == (ReportState.SIGNED_OFF, "Well handled")
    assert [e.to_state for e in report.events.all()] == ["submitted", "returned", "submitted", "signed_off"]
    with pytest.raises(ValidationError):
        services.sign_off_report(report=report, by=personas.admin)
    with pytest.raises(ValidationError):
        services.update_report(report=report, by=personas.salesperson, lessons="Too late")


@pytest.mark.parametrize("role", ["salesperson", "teammate", "other_manager"])
def test_only_the_manager_or_an_admin_signs_off(personas, role):
    report = services.submit_report(report=_report(personas.salesperson), by=personas.salesperson)

    with pytest.raises(PermissionDenied):
        services.sign_off_report(report=report, by=personas.user(role))


@pytest.mark.parametrize("role", ["manager", "admin", "teammate"])
def test_only_the_owner_fills_in_and_submits_a_report(personas, role):
    report = _report(personas.salesperson)

    with pytest.raises(PermissionDenied):
        services.update_report(report=report, by=personas.user(role), lessons="Mine now")
    with pytest.raises(PermissionDenied):
        services.submit_report(report=report, by=personas.user(role))


def test_reports_are_for_today_or_earlier(personas):
    with pytest.raises(ValidationError):
        services.open_report(by=personas.salesperson, day=timezone.localdate() + timedelta(days=1))


def test_one_report_per_person_and_day(personas):
    assert _report(personas.salesperson) == _report(personas.salesperson)
    with pytest.raises(IntegrityError), transaction.atomic():
        DailyReport.objects.create(owner=personas.salesperson, date=timezone.localdate())


# --- Late reports (cut-off 21:00 company time by default) -----------------------------------------

DAY = date(2026, 3, 10)


def _at(hour, minute=0, day=DAY):
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "submitted_at, late",
    [
        (_at(20, 59), False),
        (_at(21, 0), False),
        (_at(21, 1), True),
        (_at(9, 0, DAY + timedelta(days=1)), True),
    ],
)
def test_a_report_submitted_after_the_cut_off_is_late(personas, submitted_at, late):
    with time_machine.travel(_at(18), tick=False) as traveller:
        report = _report(personas.salesperson, DAY)
        traveller.move_to(submitted_at)
        services.submit_report(report=report, by=personas.salesperson)

    report.refresh_from_db()
    assert report.is_late is late


def test_the_cut_off_is_the_admins_setting(personas):
    ActivitySettings.objects.update_or_create(pk=1, defaults={"report_cutoff": time(18, 0)})
    with time_machine.travel(_at(18, 30), tick=False):
        report = services.submit_report(report=_report(personas.salesperson, DAY), by=personas.salesperson)

    assert report.is_late is True


def test_timeliness_is_judged_on_the_first_submission(personas):
    with time_machine.travel(_at(20), tick=False) as traveller:
        report = services.submit_report(report=_report(personas.salesperson, DAY), by=personas.salesperson)
        services.return_report(report=report, by=personas.manager, comment="Add the lessons")
        traveller.move_to(_at(9, 0, DAY + timedelta(days=1)))
        services.submit_report(report=report, by=personas.salesperson)

    report.refresh_from_db()
    assert report.is_late is False
    assert report.first_submitted_at == _at(20)


def test_the_report_page_saves_the_owners_fields_and_keeps_them_on_error(client_as, personas):
    report = _report(personas.salesperson)
    url = reverse("activities:report-detail", args=[report.pk])
    client = client_as("salesperson")

    bad = client.post(
        url,
        {
            "attendance": "present",
            "complaints_handled": "-1",
            "money_collected": "0",
            "order_target": "0",
            "lessons": "Typed lesson",
        },
    )
    good = client.post(
        url,
        {
            "attendance": "field",
            "complaints_handled": "2",
            "money_collected": "1500",
            "order_target": "30000",
            "lessons": "Call before noon",
        },
    )

    assert bad.status_code == 400 and "Typed lesson" in bad.content.decode()
    assert good.status_code == 302
    report.refresh_from_db()
    assert (report.attendance, report.complaints_handled, report.lessons) == ("field", 2, "Call before noon")


def test_the_manager_may_not_edit_the_report_page(client_as, personas):
    report = _report(personas.salesperson)

    response = client_as("manager").post(
        reverse("activities:report-detail", args=[report.pk]), {"lessons": "x"}
    )

    assert response.status_code == 403


def test_api_report_patch_and_sign_off(client_as, personas):
    owner, manager = client_as("salesperson"), client_as("manager")
    created = owner.post(
        reverse("dailyreport-list"),
        {"date": timezone.localdate().isoformat(), "lessons": "A"},
        content_type="application/json",
    )
    pk = created.json()["id"]

    patched = owner.patch(
        reverse("dailyreport-detail", args=[pk]), {"complaints_handled": 3}, content_type="application/json"
    )
    owner.post(reverse("dailyreport-submit", args=[pk]), content_type="application/json")
    refused = manager.post(reverse("dailyreport-return", args=[pk]), {}, content_type="application/json")
    signed = manager.post(
        reverse("dailyreport-sign-off", args=[pk]), {"comment": "OK"}, content_type="application/json"
    )

    assert created.status_code == 201
    assert patched.status_code == 200
    assert (patched.json()["complaints_handled"], patched.json()["lessons"]) == (3, "A")
    assert refused.status_code == 400 and "comment" in refused.json()
    assert (signed.status_code, signed.json()["state"]) == (200, "signed_off")


# --- Approvals page ------------------------------------------------------------------------------


def test_approvals_list_the_teams_submissions_and_who_has_not_submitted(client_as, personas, plan):
    services.submit_report(report=_report(personas.teammate), by=personas.teammate)

    response = client_as("manager").get(reverse("activities:approvals"))

    html = response.content.decode()
    assert response.status_code == 200
    rows = response.context["rows"]
    east = {"salesperson", "teammate", "sub_salesperson", "deactivated"}
    assert {row.person.username for row in rows} == east
    assert {p.username for p in response.context["missing_plans"]} == east - {"salesperson"}
    assert {p.username for p in response.context["missing_reports"]} == east - {"teammate"}
    assert 'data-testid="approve-plan"' in html and 'data-testid="sign-off-report"' in html


def test_approvals_of_another_team_show_nothing_of_east(client_as, personas, plan):
    response = client_as("other_manager").get(reverse("activities:approvals"))

    assert {row.person.username for row in response.context["rows"]} == {"other_salesperson"}


def test_approvals_page_is_for_reviewers(client_as):
    assert client_as("salesperson").get(reverse("activities:approvals")).status_code == 403


def test_approvals_with_a_bad_date_is_not_found(client_as):
    assert client_as("manager").get(reverse("activities:approvals"), {"date": "yesterday"}).status_code == 404


def test_approvals_keep_a_constant_number_of_queries(client_as, personas, django_assert_max_num_queries):
    team = personas.salesperson.team
    manager = client_as("manager")

    def add_people(count):
        for _ in range(count):
            person = UserFactory(team=team)
            submitted_plan(person, CustomerFactory(owner=person))
            services.submit_report(report=_report(person), by=person)

    add_people(2)
    # session, user, team tree, people, plans, their items, reports, the bell; saving
    # the session (savepoint, update, release)
    with django_assert_max_num_queries(11):
        assert manager.get(reverse("activities:approvals")).status_code == 200
    add_people(10)
    with django_assert_max_num_queries(11):
        response = manager.get(reverse("activities:approvals"))
    assert len(response.context["rows"]) == 4 + 12


def test_an_admin_reviews_anyone_even_without_a_manager(personas):
    lonely = UserFactory(team=TeamFactory(name="Lonely"))
    plan = submitted_plan(lonely, CustomerFactory(owner=lonely))

    services.approve_plan(plan=plan, by=personas.admin)

    assert plan.state == PlanState.APPROVED


# --- The plan page (no JavaScript needed) -----------------------------------------------------------


def test_the_owner_builds_and_submits_a_plan_in_the_browser(client_as, personas, customer):
    client = client_as("salesperson")
    opened = client.post(reverse("activities:plan-open"), {"date": timezone.localdate().isoformat()})
    plan = DailyPlan.objects.get(owner=personas.salesperson)

    added = client.post(
        reverse("activities:plan-item-add", args=[plan.pk]),
        {
            "customer": customer.pk,
            "kind": "visit",
            "purpose": "order",
            "starts_at": "09:00",
            "ends_at": "10:00",
        },
    )
    bad_slot = client.post(
        reverse("activities:plan-item-add", args=[plan.pk]),
        {
            "customer": customer.pk,
            "kind": "call",
            "purpose": "order",
            "starts_at": "11:00",
            "ends_at": "10:00",
            "note": "Typed note",
        },
    )
    submitted = client.post(reverse("activities:plan-submit", args=[plan.pk]))

    assert opened.url == reverse("activities:plan-detail", args=[plan.pk])
    assert added.status_code == 302
    assert bad_slot.status_code == 400
    assert "The time slot must end after it starts." in bad_slot.content.decode()
    assert "Typed note" in bad_slot.content.decode()
    assert submitted.status_code == 302
    plan.refresh_from_db()
    assert plan.state == PlanState.SUBMITTED
    assert plan.items.get().area == customer.region


def test_the_plan_page_offers_only_visible_customers(client_as, personas, customer):
    hidden = CustomerFactory(owner=personas.teammate, name="Teammate Only Co")
    plan = services.open_plan(by=personas.salesperson, day=timezone.localdate())
    client = client_as("salesperson")

    page = client.get(reverse("activities:plan-detail", args=[plan.pk])).content.decode()
    refused = client.post(
        reverse("activities:plan-item-add", args=[plan.pk]),
        {"customer": hidden.pk, "kind": "visit", "purpose": "order"},
    )

    assert customer.name in page and hidden.name not in page
    assert refused.status_code == 400
    assert not plan.items.exists()


def test_the_reviewer_sees_the_review_actions_and_the_owner_does_not(client_as, plan):
    url = reverse("activities:plan-detail", args=[plan.pk])

    assert 'data-testid="approve"' in client_as("manager").get(url).content.decode()
    assert 'data-testid="approve"' not in client_as("salesperson").get(url).content.decode()


def test_ticking_and_removing_items(client_as, personas, customer):
    plan = services.open_plan(by=personas.salesperson, day=timezone.localdate())
    item = services.add_plan_item(
        plan=plan, by=personas.salesperson, customer=customer, purpose=Purpose.SERVICE
    )
    client = client_as("salesperson")

    client.post(reverse("activities:plan-item-done", args=[item.pk]), {"done": "1"})
    item.refresh_from_db()
    assert item.done is True
    client.post(reverse("activities:plan-item-delete", args=[item.pk]))
    assert not plan.items.exists()


def test_the_history_reads_in_words(client_as, personas, plan):
    services.return_plan(plan=plan, by=personas.manager, comment="More visits")

    html = client_as("salesperson").get(reverse("activities:plan-detail", args=[plan.pk])).content.decode()

    assert "Submitted → <strong>Returned</strong>" in html
    assert "More visits" in html

"""Write scoping: nobody writes past what they may see or decide.

Three promises, each over every write path:

* a reference (foreign key) in a request names only what the caller may see: another
  team's customer, contact, salesperson or team is refused and nothing is written. The
  API part is complete by construction: every writable reference field of every API
  request body must be declared below, so a new one cannot slip in unchecked;
* owner, state, approval and other fields the services set are ignored when a
  salesperson sends them;
* setting owners, teams, roles, targets, the grade configuration and approvals is
  refused to a salesperson, and the refusal writes nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.db.models import Model
from django.forms import BaseForm
from django.test.utils import ContextList
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import spectacular_settings
from rest_framework import serializers

from activities import services as activity_services
from activities import visits
from activities.models import (
    Activity,
    CustomerLocation,
    DailyPlan,
    DailyReport,
    MarketReport,
    PlanItem,
    Purpose,
    Visit,
)
from activities.tests.factories import ensure_default_catalog
from core.models import Grade
from crm.models import Contact, Customer, Order, Team, User
from crm.tests.factories import ContactFactory, CustomerFactory
from funnel.models import Reassignment
from funnel.tests.factories import grade
from reports.models import ActivityTarget, Target
from reports.services import save_activity_target, save_target

pytestmark = pytest.mark.django_db

WATCHED: tuple[type[Model], ...] = (
    Activity,
    ActivityTarget,
    Contact,
    Customer,
    CustomerLocation,
    DailyPlan,
    DailyReport,
    Grade,
    MarketReport,
    Order,
    PlanItem,
    Reassignment,
    Target,
    Team,
    User,
    Visit,
)


def _everything() -> dict[str, list[dict]]:
    """Every row a refused write could have touched (``last_login`` moves on sign-in)."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        if model is not User
        else list(User.objects.order_by("pk").values("pk", "role", "team_id", "is_staff", "is_active"))
        for model in WATCHED
    }


@pytest.fixture
def world(personas):
    ensure_default_catalog()
    east, west = personas.salesperson.team, personas.other_salesperson.team
    mine = CustomerFactory(owner=personas.salesperson, name="Mine Ltd")
    theirs = CustomerFactory(owner=personas.other_salesperson, name="Theirs Ltd")
    today = timezone.localdate()
    month = today.replace(day=1)
    plan = activity_services.open_plan(by=personas.salesperson, day=today)
    activity_services.add_plan_item(
        plan=plan, by=personas.salesperson, customer=mine, purpose=Purpose.SERVICE
    )
    their_plan = activity_services.open_plan(by=personas.other_salesperson, day=today)
    their_item = activity_services.add_plan_item(
        plan=their_plan, by=personas.other_salesperson, customer=theirs, purpose=Purpose.SERVICE
    )
    return SimpleNamespace(
        p=personas,
        their_item=their_item,
        east=east,
        west=west,
        mine=mine,
        mine_too=CustomerFactory(owner=personas.salesperson, name="Mine Too Ltd"),
        theirs=theirs,
        my_contact=ContactFactory(customer=mine, name="Mine Person"),
        their_contact=ContactFactory(customer=theirs, name="Their Person"),
        plan=plan,
        report=activity_services.open_report(by=personas.salesperson, day=today),
        visit=visits.check_in(by=personas.salesperson, customer=mine, fix=None, status="denied")[0],
        month=month,
        target=save_target(
            by=personas.manager,
            owner=personas.salesperson,
            period_kind="month",
            period_start=month,
            sales_amount=100_000,
        ),
        activity_target=save_activity_target(
            by=personas.manager, owner=personas.salesperson, cadence="day", calls=10
        ),
    )


@dataclass(frozen=True)
class Attempt:
    """One write ``role`` may not make; ``status`` is the refusal it gets."""

    role: str
    method: str
    url: Callable[[SimpleNamespace], str]
    data: Callable[[SimpleNamespace], dict]
    status: int
    api: bool = True


def _url(name: str, *args: str) -> Callable[[SimpleNamespace], str]:
    """``reverse(name)`` with arguments read from the world (``"mine.pk"``)."""

    def url(w):
        values = []
        for path in args:
            value = w
            for part in path.split("."):
                value = getattr(value, part)
            values.append(value)
        return reverse(name, args=values)

    return url


def _activity(w, **fields) -> dict:
    return {"customer": w.mine.pk, "kind": "visit", "purpose": Purpose.SERVICE, **fields}


def _target(w, **fields) -> dict:
    return {"period_kind": "month", "period_start": w.month.isoformat(), "sales_amount": "1.00", **fields}


# Every writable reference of the API (``METHOD path field``, as the schema names them),
# and the attempt that proves it is scoped.
API_REFERENCES: dict[str, Attempt] = {
    "POST /api/activities/ customer": Attempt(
        "salesperson", "post", _url("activity-list"), lambda w: _activity(w, customer=w.theirs.pk), 400
    ),
    "POST /api/activities/ contact": Attempt(
        "salesperson", "post", _url("activity-list"), lambda w: _activity(w, contact=w.their_contact.pk), 400
    ),
    "POST /api/activity-targets/ owner": Attempt(
        "manager",
        "post",
        _url("activitytarget-list"),
        lambda w: {"owner": w.p.other_salesperson.pk, "cadence": "day", "calls": 5},
        400,
    ),
    "PUT /api/activity-targets/{id}/ owner": Attempt(
        "manager",
        "put",
        _url("activitytarget-detail", "activity_target.pk"),
        lambda w: {"owner": w.p.other_salesperson.pk, "cadence": "day", "calls": 5},
        400,
    ),
    "PATCH /api/activity-targets/{id}/ owner": Attempt(
        "manager",
        "patch",
        _url("activitytarget-detail", "activity_target.pk"),
        lambda w: {"owner": w.p.other_salesperson.pk},
        400,
    ),
    "POST /api/contacts/ customer": Attempt(
        "salesperson", "post", _url("contact-list"), lambda w: {"customer": w.theirs.pk, "name": "Spy"}, 400
    ),
    "POST /api/customers/ owner": Attempt(
        "salesperson",
        "post",
        _url("customer-list"),
        lambda w: {"name": "Planted Ltd", "grade": grade("E").pk, "owner": w.p.other_salesperson.pk},
        400,
    ),
    "POST /api/customers/{id}/reassign/ owner": Attempt(
        "manager",
        "post",
        _url("customer-reassign", "mine.pk"),
        lambda w: {"owner": w.p.other_salesperson.pk, "reason": "out of the tree"},
        400,
    ),
    "POST /api/customers/bulk-reassign/ owner": Attempt(
        "manager",
        "post",
        _url("customer-bulk-reassign"),
        lambda w: {"customers": [w.mine.pk], "owner": w.p.other_salesperson.pk, "reason": "out of the tree"},
        400,
    ),
    "POST /api/daily-plans/ items.customer": Attempt(
        "salesperson",
        "post",
        _url("dailyplan-list"),
        lambda w: {
            "date": w.plan.date.isoformat(),
            "items": [{"customer": w.theirs.pk, "purpose": "service"}],
        },
        400,
    ),
    "POST /api/daily-plans/{id}/items/ customer": Attempt(
        "salesperson",
        "post",
        _url("dailyplan-add-item", "plan.pk"),
        lambda w: {"customer": w.theirs.pk, "purpose": "service"},
        400,
    ),
    "POST /api/market-reports/ customer": Attempt(
        "salesperson",
        "post",
        _url("marketreport-list"),
        lambda w: {"kind": "complaint", "customer": w.theirs.pk, "title": "About them", "body": "..."},
        400,
    ),
    "POST /api/orders/ customer": Attempt(
        "salesperson",
        "post",
        _url("order-list"),
        lambda w: {"customer": w.theirs.pk, "amount": "1000.00", "signed_on": date.today().isoformat()},
        400,
    ),
    "POST /api/visits/check-in/ customer": Attempt(
        "salesperson", "post", _url("visit-check-in"), lambda w: {"customer": w.theirs.pk}, 400
    ),
    "POST /api/visits/check-in/ plan_item": Attempt(
        "salesperson",
        "post",
        _url("visit-check-in"),
        lambda w: {"customer": w.mine.pk, "plan_item": w.their_item.pk},
        400,
    ),
    "POST /api/visits/check-in/ companions": Attempt(
        "salesperson",
        "post",
        _url("visit-check-in"),
        lambda w: {"customer": w.mine.pk, "companions": [w.p.other_salesperson.pk]},
        400,
    ),
    "POST /api/visits/{id}/companions/ user": Attempt(
        "salesperson",
        "post",
        _url("visit-companions", "visit.pk"),
        lambda w: {"user": w.p.other_salesperson.pk},
        400,
    ),
    "POST /api/meetings/ team": Attempt(
        "manager",
        "post",
        _url("meeting-list"),
        lambda w: {"team": w.west.pk, "kind": "morning", "date": date.today().isoformat()},
        400,
    ),
    "POST /api/visits/customer-location/ customer": Attempt(
        "salesperson",
        "post",
        _url("visit-customer-location"),
        lambda w: {"customer": w.theirs.pk, "latitude": "31.23", "longitude": "121.47"},
        400,
    ),
    "POST /api/targets/ owner": Attempt(
        "manager", "post", _url("target-list"), lambda w: _target(w, owner=w.p.other_salesperson.pk), 400
    ),
    "POST /api/targets/ team": Attempt(
        "manager", "post", _url("target-list"), lambda w: _target(w, team=w.west.pk), 400
    ),
    "PUT /api/targets/{id}/ owner": Attempt(
        "manager",
        "put",
        _url("target-detail", "target.pk"),
        lambda w: _target(w, owner=w.p.other_salesperson.pk),
        400,
    ),
    "PUT /api/targets/{id}/ team": Attempt(
        "manager",
        "put",
        _url("target-detail", "target.pk"),
        lambda w: _target(w, owner=None, team=w.west.pk),
        400,
    ),
    "PATCH /api/targets/{id}/ owner": Attempt(
        "manager",
        "patch",
        _url("target-detail", "target.pk"),
        lambda w: {"owner": w.p.other_salesperson.pk},
        400,
    ),
    "PATCH /api/targets/{id}/ team": Attempt(
        "manager",
        "patch",
        _url("target-detail", "target.pk"),
        lambda w: {"owner": None, "team": w.west.pk},
        400,
    ),
}

# References that may name any row: shared catalogs everyone reads (a customer's
# starting grade must still be an open one: crm/tests/test_customer_create.py).
CATALOG_REFERENCES = {
    "POST /api/activities/ objection",
    "POST /api/customers/ grade",
    "POST /api/customers/{id}/change-grade/ grade",
}

# References the schema shows for create and update alike, but which are read-only on
# an existing row (proved in ``test_fields_the_services_set_are_ignored_when_a_salesperson_sends_them``).
READ_ONLY_ON_UPDATE = {
    f"{method} {path} {field}"
    for method in ("PUT", "PATCH")
    for path, fields in (
        ("/api/customers/{id}/", ("owner", "grade")),
        ("/api/contacts/{id}/", ("customer",)),
        ("/api/meetings/{id}/", ("team",)),
    )
    for field in fields
    if (method, path) != ("PUT", "/api/meetings/{id}/")  # meetings take PATCH only
}


def _writable_references(serializer: serializers.BaseSerializer, prefix: str = "") -> set[str]:
    if isinstance(serializer, serializers.ListSerializer):
        serializer = serializer.child
    found = set()
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if isinstance(field, serializers.RelatedField | serializers.ManyRelatedField):
            found.add(f"{prefix}{name}")
        elif isinstance(field, serializers.BaseSerializer):
            found |= _writable_references(field, f"{prefix}{name}.")
    return found


def _api_request_references() -> set[str]:
    """``METHOD path field`` for every writable reference in the API's request bodies, found
    the way drf-spectacular builds ``/api/schema/`` (its endpoint list is not public API)."""
    generator = SchemaGenerator()
    generator._initialise_endpoints()
    found = set()
    for path, path_regex, method, view in generator._get_paths_and_endpoints():
        if method not in {"POST", "PUT", "PATCH"}:
            continue
        view.request = spectacular_settings.GET_MOCK_REQUEST(method, path, view, None)
        view.schema.method, view.schema.path, view.schema.path_regex = method, path, path_regex
        request_body = view.schema.get_request_serializer()  # or {media type: serializer}
        for serializer in request_body.values() if isinstance(request_body, dict) else [request_body]:
            if isinstance(serializer, type):
                serializer = serializer(context={"request": view.request})
            if isinstance(serializer, serializers.BaseSerializer):
                found |= {f"{method} {path} {field}" for field in _writable_references(serializer)}
    return found


def test_every_writable_reference_of_the_api_is_declared_and_scoped():
    declared = set(API_REFERENCES) | CATALOG_REFERENCES | READ_ONLY_ON_UPDATE
    assert _api_request_references() == declared


def _send(client, attempt: Attempt, w):
    url, data = attempt.url(w), attempt.data(w)
    if attempt.api:
        return getattr(client, attempt.method)(url, data, content_type="application/json")
    return client.post(url, data)


def _fields_in_error(response) -> set[str]:
    if response.get("Content-Type", "").startswith("application/json"):
        return set(response.json())
    contexts = response.context if isinstance(response.context, ContextList) else [response.context]
    forms = [
        value for context in contexts for value in context.flatten().values() if isinstance(value, BaseForm)
    ]
    return {field for form in forms for field in form.errors}


def _assert_refused_and_nothing_written(client_as, world, key: str, attempt: Attempt):
    client = client_as(attempt.role)
    before = _everything()

    response = _send(client, attempt, world)

    assert response.status_code == attempt.status, response.content[:500]
    if attempt.status == 400:  # refused for that reference, not for something else
        assert key.rsplit(" ", 1)[-1].split(".")[0] in _fields_in_error(response)
    assert _everything() == before


@pytest.mark.parametrize("key", sorted(API_REFERENCES))
def test_an_api_reference_out_of_sight_is_refused_and_nothing_is_written(client_as, world, key):
    _assert_refused_and_nothing_written(client_as, world, key, API_REFERENCES[key])


PAGE_REFERENCES = {
    "customer create: owner": Attempt(
        "salesperson",
        "post",
        _url("crm:customer-create"),
        lambda w: {"name": "Planted Ltd", "grade": grade("E").pk, "owner": w.p.other_salesperson.pk},
        400,
        api=False,
    ),
    "log activity: contact": Attempt(
        "salesperson",
        "post",
        _url("activities:log-activity", "mine.pk"),
        lambda w: _activity(w, contact=w.their_contact.pk),
        400,
        api=False,
    ),
    "plan item: customer": Attempt(
        "salesperson",
        "post",
        _url("activities:plan-item-add", "plan.pk"),
        lambda w: {"customer": w.theirs.pk, "kind": "visit", "purpose": "service"},
        400,
        api=False,
    ),
    "market report: customer": Attempt(
        "salesperson",
        "post",
        _url("activities:market-report-create"),
        lambda w: {"kind": "complaint", "customer": w.theirs.pk, "title": "About them", "body": "..."},
        400,
        api=False,
    ),
    "reassign: owner": Attempt(
        "manager",
        "post",
        _url("funnel:customer-reassign", "mine.pk"),
        lambda w: {"owner": w.p.other_salesperson.pk, "reason": "out of the tree"},
        400,
        api=False,
    ),
    "merge: other": Attempt(
        "manager",
        "post",
        _url("crm:customer-merge", "mine.pk"),
        lambda w: {"other": w.theirs.pk, "confirm": "on"},
        400,
        api=False,
    ),
    "target: owner": Attempt(
        "manager",
        "post",
        _url("reports:targets"),
        lambda w: {"form": "target", **_target(w, owner=w.p.other_salesperson.pk)},
        400,
        api=False,
    ),
    "target: team": Attempt(
        "manager",
        "post",
        _url("reports:targets"),
        lambda w: {"form": "target", **_target(w, team=w.west.pk)},
        400,
        api=False,
    ),
    "activity target: owner": Attempt(
        "manager",
        "post",
        _url("reports:targets"),
        lambda w: {"form": "activity", "owner": w.p.other_salesperson.pk, "cadence": "day", "calls": 5},
        400,
        api=False,
    ),
}


@pytest.mark.parametrize("key", sorted(PAGE_REFERENCES))
def test_a_page_form_reference_out_of_sight_is_refused_and_nothing_is_written(client_as, world, key):
    _assert_refused_and_nothing_written(client_as, world, key, PAGE_REFERENCES[key])


# --- Fields the services set: a salesperson sending them changes nothing ------------------


@dataclass(frozen=True)
class Sent:
    """A salesperson's accepted write carrying fields they may not set: ``row`` reads the
    row back, ``kept`` is what those fields must still (or already) hold."""

    method: str
    url: Callable[[SimpleNamespace], str]
    data: Callable[[SimpleNamespace], dict]
    status: int
    row: Callable[[SimpleNamespace], Model]
    kept: Callable[[SimpleNamespace], dict]
    api: bool = True


EARLIER = "2024-01-01T09:00:00Z"  # any time the client claims
APPROVAL = {
    "state": "approved",
    "submitted_at": EARLIER,
    "reviewed_at": EARLIER,
    "review_comment": "ok",
}
DRAFT = {
    "state": "draft",
    "submitted_at": None,
    "reviewed_at": None,
    "reviewed_by_id": None,
    "review_comment": "",
}

IGNORED_FIELDS: dict[str, Sent] = {
    "API customer edit: owner, grade, probability override, archive": Sent(
        "patch",
        _url("customer-detail", "mine.pk"),
        lambda w: {
            "notes": "edited",
            "owner": w.p.teammate.pk,
            "grade": grade("A").pk,
            "probability_override": "99.00",
            "archived_at": EARLIER,
            "lifecycle": "customer",
        },
        200,
        lambda w: Customer.objects.get(pk=w.mine.pk),
        lambda w: {
            "notes": "edited",
            "owner_id": w.p.salesperson.pk,
            "grade_id": grade("E").pk,
            "probability_override": None,
            "archived_at": None,
            "lifecycle": w.mine.lifecycle,
        },
    ),
    "API contact edit: customer": Sent(
        "patch",
        _url("contact-detail", "my_contact.pk"),
        lambda w: {"name": "Renamed", "customer": w.mine_too.pk},
        200,
        lambda w: Contact.objects.get(pk=w.my_contact.pk),
        lambda w: {"name": "Renamed", "customer_id": w.mine.pk},
    ),
    "API activity: owner": Sent(
        "post",
        _url("activity-list"),
        lambda w: _activity(w, owner=w.p.teammate.pk, created_at=EARLIER),
        201,
        lambda w: Activity.objects.latest("pk"),  # the world holds a visit's activity too
        lambda w: {"owner_id": w.p.salesperson.pk, "customer_id": w.mine.pk},
    ),
    "API plan: owner, state, approval": Sent(
        "post",
        _url("dailyplan-list"),
        lambda w: {
            "date": w.plan.date.isoformat(),
            "owner": w.p.teammate.pk,
            "reviewed_by": w.p.manager.pk,
            **APPROVAL,
        },
        201,
        lambda w: DailyPlan.objects.get(pk=w.plan.pk),
        lambda w: {"owner_id": w.p.salesperson.pk, **DRAFT},
    ),
    "API plan item: done, activity": Sent(
        "post",
        _url("dailyplan-add-item", "plan.pk"),
        lambda w: {"customer": w.mine_too.pk, "purpose": "service", "done": True, "activity": 1},
        201,
        lambda w: PlanItem.objects.get(customer=w.mine_too),
        lambda w: {"done": False, "activity_id": None},
    ),
    "API report: owner, state, approval, lateness, figures": Sent(
        "patch",
        _url("dailyreport-detail", "report.pk"),
        lambda w: {
            "lessons": "learned",
            "owner": w.p.teammate.pk,
            "reviewed_by": w.p.manager.pk,
            **APPROVAL,
            "state": "signed_off",
            "is_late": True,
            "first_submitted_at": EARLIER,
            "calls": 99,
        },
        200,
        lambda w: DailyReport.objects.get(pk=w.report.pk),
        lambda w: {
            "lessons": "learned",
            "owner_id": w.p.salesperson.pk,
            **DRAFT,
            "is_late": False,
            "first_submitted_at": None,
            "calls": w.report.calls,
        },
    ),
    "API market report: owner": Sent(
        "post",
        _url("marketreport-list"),
        lambda w: {"kind": "market", "title": "Prices", "body": "Falling", "owner": w.p.teammate.pk},
        201,
        lambda w: MarketReport.objects.get(),
        lambda w: {"owner_id": w.p.salesperson.pk},
    ),
    "API order: owner": Sent(
        "post",
        _url("order-list"),
        lambda w: {
            "customer": w.mine.pk,
            "amount": "1000.00",
            "signed_on": date.today().isoformat(),
            "owner": w.p.teammate.pk,
        },
        201,
        lambda w: Order.objects.get(),
        lambda w: {"owner_id": w.p.salesperson.pk},
    ),
    "page customer edit: owner, grade": Sent(
        "post",
        _url("crm:customer-update", "mine.pk"),
        lambda w: {
            "name": "Mine Ltd",
            "source": "other",
            "tier": "normal",
            "expected_value": "0",
            "notes": "edited",
            "owner": w.p.teammate.pk,
            "grade": grade("A").pk,
        },
        302,
        lambda w: Customer.objects.get(pk=w.mine.pk),
        lambda w: {"notes": "edited", "owner_id": w.p.salesperson.pk, "grade_id": grade("E").pk},
        api=False,
    ),
    "page report: owner, state, approval": Sent(
        "post",
        _url("activities:report-detail", "report.pk"),
        lambda w: {
            "attendance": w.report.attendance,
            "complaints_handled": 0,
            "money_collected": "0",
            "order_target": "0",
            "lessons": "learned",
            "owner": w.p.teammate.pk,
            "reviewed_by": w.p.manager.pk,
            **APPROVAL,
        },
        302,
        lambda w: DailyReport.objects.get(pk=w.report.pk),
        lambda w: {"lessons": "learned", "owner_id": w.p.salesperson.pk, **DRAFT},
        api=False,
    ),
}


@pytest.mark.parametrize("key", sorted(IGNORED_FIELDS))
def test_fields_the_services_set_are_ignored_when_a_salesperson_sends_them(client_as, world, key):
    sent = IGNORED_FIELDS[key]
    client = client_as("salesperson")

    response = _send(client, sent, world)

    assert response.status_code == sent.status, response.content[:500]
    row = sent.row(world)
    kept = sent.kept(world)
    assert {field: getattr(row, field) for field in kept} == kept


# --- What only managers and admins decide: refused to a salesperson ---------------------


@pytest.fixture
def submitted(world):
    """The salesperson's plan for tomorrow and report for yesterday, both submitted."""
    p = world.p
    tomorrow = timezone.localdate() + timedelta(days=1)
    plan = activity_services.open_plan(by=p.salesperson, day=tomorrow)
    activity_services.add_plan_item(plan=plan, by=p.salesperson, customer=world.mine, purpose=Purpose.SERVICE)
    report = activity_services.open_report(by=p.salesperson, day=timezone.localdate() - timedelta(days=1))
    world.submitted_plan = activity_services.submit_plan(plan=plan, by=p.salesperson)
    world.submitted_report = activity_services.submit_report(report=report, by=p.salesperson)
    return world


PRIVILEGED: dict[str, Attempt] = {
    "API own target": Attempt(
        "salesperson", "post", _url("target-list"), lambda w: _target(w, owner=w.p.salesperson.pk), 403
    ),
    "API own activity target": Attempt(
        "salesperson",
        "post",
        _url("activitytarget-list"),
        lambda w: {"owner": w.p.salesperson.pk, "cadence": "day", "calls": 1},
        403,
    ),
    "page own target": Attempt(
        "salesperson",
        "post",
        _url("reports:targets"),
        lambda w: {"form": "target", **_target(w, owner=w.p.salesperson.pk)},
        403,
        api=False,
    ),
    "API grade configuration": Attempt(
        "salesperson",
        "patch",
        lambda w: reverse("grade-detail", args=[grade("C").pk]),
        lambda w: {"probability": "35.00", "stagnation_days": 1},
        403,
    ),
    "page grade calibration": Attempt(
        "salesperson",
        "post",
        lambda w: reverse("reports:calibrate", args=[grade("C").pk]),
        lambda w: {"probability": "35"},
        403,
        api=False,
    ),
    "API reassign own customer": Attempt(
        "salesperson",
        "post",
        _url("customer-reassign", "mine.pk"),
        lambda w: {"owner": w.p.teammate.pk, "reason": "swap"},
        403,
    ),
    "page reassign own customer": Attempt(
        "salesperson",
        "post",
        _url("funnel:customer-reassign", "mine.pk"),
        lambda w: {"owner": w.p.teammate.pk, "reason": "swap"},
        403,
        api=False,
    ),
    "API approve own plan": Attempt(
        "salesperson", "post", _url("dailyplan-approve", "submitted_plan.pk"), lambda w: {}, 403
    ),
    "page approve own plan": Attempt(
        "salesperson",
        "post",
        _url("activities:plan-approve", "submitted_plan.pk"),
        lambda w: {},
        403,
        api=False,
    ),
    "API sign off own report": Attempt(
        "salesperson", "post", _url("dailyreport-sign-off", "submitted_report.pk"), lambda w: {}, 403
    ),
    "page sign off own report": Attempt(
        "salesperson",
        "post",
        _url("activities:report-sign-off", "submitted_report.pk"),
        lambda w: {},
        403,
        api=False,
    ),
    # Roles and teams change only in the Django admin, which lets in admins alone.
    "admin: own role and team": Attempt(
        "salesperson",
        "post",
        _url("admin:crm_user_change", "p.salesperson.pk"),
        lambda w: {"username": "salesperson", "role": "admin", "team": w.west.pk, "is_staff": "on"},
        302,
        api=False,
    ),
    "admin: a manager's own role": Attempt(
        "manager",
        "post",
        _url("admin:crm_user_change", "p.manager.pk"),
        lambda w: {"username": "manager", "role": "admin", "team": w.east.pk, "is_staff": "on"},
        302,
        api=False,
    ),
}


@pytest.mark.parametrize("key", sorted(PRIVILEGED))
def test_what_managers_and_admins_decide_is_refused_to_others_and_nothing_is_written(
    client_as, submitted, key
):
    _assert_refused_and_nothing_written(client_as, submitted, key, PRIVILEGED[key])

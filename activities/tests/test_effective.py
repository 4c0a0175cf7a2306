"""'Effective' means reached (issue 16: 2): a call that was only dialled is never
effective, whatever contact was chosen or asked for — by the service, the form, the
API and the importer; the day's figures count effective calls only among connected ones."""

import csv
import importlib
import io
import uuid
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from activities import selectors
from activities.forms import ActivityForm
from activities.models import Activity, ActivityKind, CallStage
from crm.importing import services as import_services
from crm.models import KeyPersonRole
from crm.tests.factories import ContactFactory, CustomerFactory
from funnel.tests.factories import ensure_default_grades

from .factories import log_call, log_visit


@pytest.fixture
def customer(personas):
    ensure_default_grades()
    return CustomerFactory(owner=personas.salesperson, name="Harbor Point Logistics")


@pytest.fixture
def decision_maker(customer):
    return ContactFactory(customer=customer, name="Wang Fang", role=KeyPersonRole.DECISION_MAKER)


# --- The service -------------------------------------------------------------------------


@pytest.mark.parametrize("requested", [None, True, False])
def test_a_dialled_call_is_never_effective_whatever_was_asked(customer, decision_maker, requested):
    call = log_call(customer, contact=decision_maker, call_stage=CallStage.DIALLED, effective=requested)

    assert call.effective is False
    assert Activity.objects.get(pk=call.pk).effective is False


@pytest.mark.parametrize("stage", [CallStage.CONNECTED, CallStage.APPOINTMENT, CallStage.PRESENTATION])
def test_a_connected_call_with_a_key_person_is_effective_by_default_and_may_be_unticked(
    customer, decision_maker, stage
):
    assert log_call(customer, contact=decision_maker, call_stage=stage).effective is True
    assert log_call(customer, contact=decision_maker, call_stage=stage, effective=False).effective is False


def test_visits_keep_the_key_person_default_and_the_salespersons_choice(customer, decision_maker):
    assert log_visit(customer, contact=decision_maker).effective is True
    assert log_visit(customer, contact=decision_maker, effective=False).effective is False
    assert log_visit(customer, effective=True).effective is True


# --- The form and the page -----------------------------------------------------------------


def test_the_form_disables_and_unticks_effective_for_a_dialled_call(customer, decision_maker):
    tomorrow = timezone.localdate() + timedelta(days=1)
    data = {
        "kind": "call",
        "purpose": "new_development",
        "contact": decision_maker.pk,
        "call_stage": "1",
        "next_follow_up_on": tomorrow.isoformat(),
        "effective": "on",
    }

    form = ActivityForm(data, customer=customer)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["effective"] is False
    assert "disabled" in str(form["effective"])
    connected = ActivityForm({**data, "call_stage": "2"}, customer=customer)
    assert connected.is_valid() and connected.cleaned_data["effective"] is True
    assert "disabled" not in str(connected["effective"])


def test_the_stage_select_tells_the_script_where_connected_starts(customer):
    html = str(ActivityForm(customer=customer)["call_stage"])

    assert "data-call-stage-select" in html and f'data-connected-from="{CallStage.CONNECTED}"' in html


def test_posting_a_dialled_call_with_effective_ticked_stores_it_not_effective(
    client_as, customer, decision_maker
):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client_as("salesperson").post(
        reverse("activities:log-activity", args=[customer.pk]),
        {
            "kind": "call",
            "purpose": "new_development",
            "contact": decision_maker.pk,
            "call_stage": "1",
            "next_follow_up_on": tomorrow.isoformat(),
            "effective": "on",
            "client_key": str(uuid.uuid4()),
        },
    )

    assert response.status_code == 302
    assert Activity.objects.get().effective is False


def test_the_api_stores_a_dialled_call_as_not_effective(client_as, customer, decision_maker):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client_as("salesperson").post(
        reverse("activity-list"),
        {
            "customer": customer.pk,
            "contact": decision_maker.pk,
            "kind": "call",
            "purpose": "service",
            "call_stage": 1,
            "effective": True,
            "next_follow_up_on": tomorrow.isoformat(),
        },
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["effective"] is False


# --- The importer --------------------------------------------------------------------------

HEADER = ["客户名称", "联系人", "方式", "时间", "目的", "通话进度", "有效拜访", "下次跟进日期"]


def _import(user, rows):
    text = io.StringIO()
    csv.writer(text).writerows([HEADER, *rows])
    return import_services.start_import(
        by=user, kind="activities", upload=SimpleUploadedFile("calls.csv", text.getvalue().encode("utf-8"))
    )


def test_an_imported_unanswered_call_marked_effective_is_stored_not_effective(
    personas, customer, decision_maker
):
    batch = _import(
        personas.salesperson,
        [
            [customer.name, "Wang Fang", "电话", "2025-03-03 10:00", "服务", "未接通", "是", "2025-03-10"],
            [
                customer.name,
                "Wang Fang",
                "电话",
                "2025-03-04 10:00",
                "服务",
                "Dialled (no answer)",
                "yes",
                "2025-03-10",
            ],
            [customer.name, "Wang Fang", "电话", "2025-03-05 10:00", "服务", "", "是", "2025-03-10"],
            [customer.name, "Wang Fang", "电话", "2025-03-06 10:00", "服务", "appointment", "", "2025-03-10"],
        ],
    )
    assert (batch.create_count, batch.error_count) == (4, 0), batch.errors

    import_services.confirm_import(batch=batch, by=personas.salesperson)

    stored = list(Activity.objects.order_by("started_at").values_list("call_stage", "effective"))
    assert stored == [
        (CallStage.DIALLED, False),
        (CallStage.DIALLED, False),
        (CallStage.CONNECTED, True),
        (CallStage.APPOINTMENT, True),
    ]


def test_an_imported_call_stage_must_be_known_and_only_on_calls(personas, customer):
    batch = _import(
        personas.salesperson,
        [
            [customer.name, "", "电话", "2025-03-03 10:00", "服务", "maybe", "", "2025-03-10"],
            [customer.name, "", "拜访", "2025-03-04 10:00", "服务", "接通", "", ""],
        ],
    )

    messages = {issue["row"]: (issue["column"], issue["message"]) for issue in batch.errors}
    assert messages[2][0] == "通话进度" and "appointment, connected, dialled, presentation" in messages[2][1]
    assert messages[3] == ("通话进度", "Only calls have a call stage.")


# --- The figures ---------------------------------------------------------------------------


def test_day_figures_never_count_a_legacy_effective_dialled_call(personas, customer):
    # given a row stored before the rule: dialled, yet ticked effective
    Activity.objects.create(
        owner=personas.salesperson,
        customer=customer,
        kind=ActivityKind.CALL,
        call_stage=CallStage.DIALLED,
        effective=True,
        purpose="service",
        started_at=timezone.now(),
    )
    log_visit(customer, effective=True)

    figures = selectors.day_figures(personas.salesperson, timezone.localdate())
    counts = selectors.activity_counts(personas.salesperson, timezone.localdate())

    assert (figures["calls"], figures["connected_calls"], figures["effective_calls"]) == (1, 0, 0)
    assert figures["effective_activities"] == counts["effective"] == 1  # the visit only


def test_the_data_migration_unticks_legacy_effective_dialled_calls(personas, customer):
    migration = importlib.import_module("activities.migrations.0007_unconnected_calls_not_effective")
    legacy = {
        stage: Activity.objects.create(
            owner=personas.salesperson,
            customer=customer,
            kind=ActivityKind.CALL,
            call_stage=stage,
            effective=True,
            purpose="service",
            started_at=timezone.now(),
        )
        for stage in CallStage
    }

    migration.untick_unconnected_calls(apps, schema_editor=None)

    assert {stage: Activity.objects.get(pk=row.pk).effective for stage, row in legacy.items()} == {
        CallStage.DIALLED: False,
        CallStage.CONNECTED: True,
        CallStage.APPOINTMENT: True,
        CallStage.PRESENTATION: True,
    }

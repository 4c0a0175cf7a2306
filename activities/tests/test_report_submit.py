"""The daily report page's "Submit to my manager": it submits what is in the form (saved
first, in the same transaction), never the stored version without what was typed."""

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import DailyReport, ReportState, ReviewEvent

FIELDS = {
    "attendance": "field",
    "complaints_handled": "2",
    "money_collected": "1500",
    "order_target": "30000",
    "competitor_info": "",
    "customer_feedback": "",
}


@pytest.fixture
def report(personas):
    return services.open_report(by=personas.salesperson, day=timezone.localdate())


def _submit(client, report, **fields):
    return client.post(
        reverse("activities:report-detail", args=[report.pk]), {**FIELDS, **fields, "submit": "1"}
    )


def test_submit_saves_the_typed_fields_then_submits_them(client_as, report):
    response = _submit(client_as("salesperson"), report, lessons="Call the buyer before noon")

    assert response.status_code == 302
    assert response["Location"] == reverse("activities:report-detail", args=[report.pk])
    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED
    assert (report.lessons, report.complaints_handled, report.attendance) == (
        "Call the buyer before noon",
        2,
        "field",
    )
    assert report.submitted_at is not None
    assert ReviewEvent.objects.filter(report=report, to_state=ReportState.SUBMITTED).count() == 1


def test_a_field_error_submits_nothing_and_keeps_what_was_typed(client_as, report):
    response = _submit(client_as("salesperson"), report, complaints_handled="-1", lessons="Typed lesson")

    assert response.status_code == 400
    page = response.content.decode()
    assert "Typed lesson" in page and "is-invalid" in page
    report.refresh_from_db()
    assert (report.state, report.lessons, report.submitted_at) == (ReportState.DRAFT, "", None)
    assert not ReviewEvent.objects.filter(report=report).exists()


def test_a_refused_submission_saves_nothing_either(client_as, personas, report):
    # given the report was submitted meanwhile (another tab): the page's form is stale
    services.submit_report(report=report, by=personas.salesperson)

    response = _submit(client_as("salesperson"), report, lessons="Late words")

    assert response.status_code == 400
    assert "only a draft or a returned report can be changed" in response.content.decode()
    report.refresh_from_db()
    assert report.lessons == "" and report.state == ReportState.SUBMITTED
    assert ReviewEvent.objects.filter(report=report).count() == 1


def test_save_alone_keeps_the_report_a_draft(client_as, report):
    response = client_as("salesperson").post(
        reverse("activities:report-detail", args=[report.pk]), {**FIELDS, "lessons": "Only saved"}
    )

    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.state, report.lessons) == (ReportState.DRAFT, "Only saved")


def test_the_manager_may_not_save_and_submit_the_owners_report(client_as, report):
    response = _submit(client_as("manager"), report, lessons="Not mine")

    assert response.status_code == 403
    assert DailyReport.objects.get(pk=report.pk).state == ReportState.DRAFT


def test_the_page_has_one_form_whose_submit_button_sends_the_fields(client_as, report):
    page = (
        client_as("salesperson").get(reverse("activities:report-detail", args=[report.pk])).content.decode()
    )

    assert reverse("activities:report-submit", args=[report.pk]) not in page
    assert f'data-draft-key="report:{report.pk}"' in page
    assert 'name="submit" value="1" data-testid="submit-report"' in page

"""Activities from a spreadsheet (registered in crm's import machinery) and their export."""

import csv
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from activities.models import Activity
from crm.importing import services
from crm.models import CrmSettings
from crm.tests.factories import ContactFactory, CustomerFactory
from funnel.tests.factories import ensure_default_grades


@pytest.fixture(autouse=True)
def default_grades(db):
    ensure_default_grades()


HEADER = "客户名称,联系人,方式,时间,目的,结果,有效拜访,下次跟进日期,费用(元),业务员(用户名)\n"


def _import(user, text: str):
    return services.start_import(
        by=user, kind="activities", upload=SimpleUploadedFile("拜访.csv", (HEADER + text).encode("gbk"))
    )


def test_activities_preview_with_row_errors_and_duplicates_then_commit(personas):
    customer = CustomerFactory(owner=personas.salesperson, name="华夏科技有限公司")
    ContactFactory(customer=customer, name="王芳", role="decision_maker")
    CustomerFactory(owner=personas.other_salesperson, name="西区客户")
    rows = (
        "华夏科技,王芳,拜访,2025-03-03 10:00,新客户开发,见到了采购,,,120,\n"
        "华夏科技,,电话,2025-03-04 09:30,服务,约了演示,是,2025-03-11,,\n"
        "华夏科技,,电话,2025-03-04 09:30,服务,重复,是,2025-03-11,,\n"  # same as row 3
        "华夏科技,,电话,2025-03-05 09:30,服务,没约下次,是,,,\n"  # call without follow-up
        "西区客户,,拜访,2025-03-05 09:30,服务,,,,,\n"  # not visible
        "华夏科技,,拜访,2025-03-06,服务,,,,-1,\n"  # negative expense
        "华夏科技,,拜访,2025-03-07,服务,,,,,teammate\n"  # not own name
    )
    batch = _import(personas.salesperson, rows)

    assert (batch.create_count, batch.duplicate_count, batch.error_count) == (2, 1, 4), batch.errors
    messages = {(issue["row"], issue["column"]): issue["message"] for issue in batch.errors}
    assert messages[(5, "下次跟进日期")] == "Agree the next contact: every call needs a next follow-up date."
    assert messages[(6, "客户名称")] == "No customer “西区客户” that you can see."
    assert messages[(7, "费用(元)")] == "Must not be negative."
    assert messages[(8, "业务员(用户名)")] == "You may import activities only in your own name."

    services.confirm_import(batch=batch, by=personas.salesperson)

    visit, call = Activity.objects.filter(import_batch=batch).order_by("started_at")
    assert (visit.kind, visit.contact.name, visit.effective, visit.owner) == (
        "visit",
        "王芳",
        True,
        personas.salesperson,
    )
    assert (call.kind, call.call_stage, call.next_follow_up_on) == ("call", 2, date(2025, 3, 11))
    customer.refresh_from_db()
    assert customer.last_activity_at == call.started_at and customer.last_visit_at == visit.started_at
    assert customer.next_follow_up_on == date(2025, 3, 11)

    again = _import(personas.salesperson, rows)
    assert (again.create_count, again.duplicate_count) == (0, 3)


def test_a_salespersons_activity_export_never_contains_another_salespersons(personas, client_as):
    CrmSettings.objects.update_or_create(pk=1, defaults={"salespeople_may_export": True})
    for owner, name in ((personas.salesperson, "Mine"), (personas.other_salesperson, "West")):
        customer = CustomerFactory(owner=owner, name=f"{name} Co")
        services.confirm_import(
            batch=_import(owner, f"{name} Co,,visit,2025-03-03 10:00,service,,,,,\n"), by=owner
        )
        assert Activity.objects.filter(customer=customer).count() == 1

    response = client_as("salesperson").get(reverse("activities:activity-export"), {"file_format": "csv"})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert response.status_code == 200
    assert [row[1] for row in rows[1:]] == ["Mine Co"]
    assert (
        client_as("teammate")
        .get(reverse("activities:activity-export"), {"file_format": "csv"})
        .content.decode("utf-8-sig")
        .count("\n")
        == 1
    )

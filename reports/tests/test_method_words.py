"""The method's own words (issue 18: 5): the call funnel, the weekly report, the contact
cadence and the seven objections say what the seeds say, in Chinese and in English, and a
page, its export and its API name each number with the same glossary term.

``test_seed_words_*`` read the compiled Chinese catalogue (the ``.po`` lines come from the
glossary's ``Translators:`` comments); the English tests hold in any build."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from activities.models import Activity, ActivityKind, CallStage, Objection
from crm import glossary
from crm.models import Tier
from crm.tests.factories import CustomerFactory
from funnel.tests.factories import grade
from reports import services
from reports.periods import last_complete_week, today

from .helpers import activity

pytestmark = pytest.mark.django_db

CALL_FUNNEL_ZH = [
    "拨打数",
    "实际完成数",
    "约见次数",
    "推荐次数",
    "成交数",
    "销售总额",
    "每次电话销售金额",
    "每次电话销售佣金",
]
CALL_FUNNEL_EN = [
    "Dials",
    "Connected",
    "Appointments",
    "Presentations",
    "Orders",
    "Amount",
    "Revenue per dial",
    "Commission per dial",
]
WEEKLY_ZH = ["新开发客户数", "有效拜访率", "交易率", "平均每人每周销售额", "竞争者动态", "异常客户处理"]
WEEKLY_EN = [
    "New customers",
    "Effective-visit rate",
    "Transaction rate",
    "Average sales per person",
    "Competitor news",
    "Abnormal customers",
]
# tier: (call, visit) in the method's words — priority 30 / 90, normal 90 / 180, low 180 / 365 days
CADENCE_ZH = {
    Tier.PRIORITY: ("每月", "每季度"),
    Tier.NORMAL: ("每季度", "每半年"),
    Tier.LOW: ("每半年", "每年"),
}
CADENCE_EN = {
    Tier.PRIORITY: ("Monthly", "Quarterly"),
    Tier.NORMAL: ("Quarterly", "Every six months"),
    Tier.LOW: ("Every six months", "Yearly"),
}


def _get(client, name, language, args=(), **params):
    client.cookies["django_language"] = language
    response = client.get(reverse(name, args=args), params)
    assert response.status_code == 200, response.status_code
    return response


def _cells(html: str, testid: str, section: str = "thead") -> list[str]:
    """The text of each header cell of the table marked ``data-testid=testid``."""
    table = html.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    head = table.split(f"<{section}>", 1)[1].split(f"</{section}>", 1)[0]
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<th[^>]*>(.*?)</th>", head)]


def _csv_headers(response) -> list[str]:
    text = response.content.decode("utf-8-sig")
    return next(csv.reader(io.StringIO(text)))


@pytest.fixture
def call_funnel(personas):
    """A week of calls down the funnel and one order: every column has a number."""
    customer = CustomerFactory(owner=personas.salesperson, grade=grade("C"))
    for stage in (CallStage.DIALLED, CallStage.CONNECTED, CallStage.APPOINTMENT, CallStage.PRESENTATION):
        activity(owner=personas.salesperson, customer=customer, stage=stage, minutes=5)
    return customer


@pytest.fixture
def weekly(personas):
    """Last week's rollup with a competitor's move, so every section of the report shows."""
    week = last_complete_week(today())
    customer = CustomerFactory(owner=personas.salesperson, grade=grade("C"), expected_value=Decimal(1000))
    at = timezone.make_aware(timezone.datetime.combine(week, timezone.datetime.min.time())) + timedelta(
        hours=10
    )
    activity(
        owner=personas.salesperson,
        customer=customer,
        kind=ActivityKind.VISIT,
        effective=True,
        at=at,
        competitor_news="Rival cut prices",
    )
    services.compute_weekly_rollups(week=week)
    return week


def _cadence_cells(client, customer, language) -> tuple[str, str]:
    html = _get(client, "crm:customer-detail", language, args=[customer.pk]).content.decode()

    def cell(testid):
        return re.search(rf'data-testid="{testid}">([^<]*)<', html).group(1)

    return cell("call-cadence"), cell("visit-cadence")


# --- Chinese: the seeds' own words (pass once the lead has compiled the catalogue) ---------------


def test_seed_words_call_funnel_in_chinese(call_funnel, client_as):
    html = _get(client_as("manager"), "reports:activity", "zh-hans").content.decode()

    headers = _cells(html, "activity-funnel")
    assert [word for word in headers if word in CALL_FUNNEL_ZH] == CALL_FUNNEL_ZH
    assert "佣金比率" in html and "提成" not in html


def test_seed_words_weekly_report_in_chinese(weekly, client_as):
    html = _get(client_as("manager"), "reports:weekly", "zh-hans", week=weekly.isoformat()).content.decode()

    for word in WEEKLY_ZH:
        assert word in html, word
    assert "成交率" not in html and "人均销售额" not in html and "竞争对手动态" not in html


@pytest.mark.parametrize("tier", list(CADENCE_ZH))
def test_seed_words_cadence_in_chinese(personas, client_as, tier):
    customer = CustomerFactory(owner=personas.salesperson, tier=tier)

    assert _cadence_cells(client_as("salesperson"), customer, "zh-hans") == CADENCE_ZH[tier]


def test_seed_words_cadence_other_days_stay_in_days():
    with translation.override("zh-hans"):
        assert glossary.cadence_label(45) == "每 45 天"
        assert [glossary.cadence_label(days) for days in (30, 90, 180, 365)] == [
            "每月",
            "每季度",
            "每半年",
            "每年",
        ]


def test_seed_words_objections_in_chinese(personas, client_as):
    # the catalog holds the method's seven objections in full (seeded, then reworded by a data migration)
    assert [(o.name, o.name_zh) for o in Objection.objects.order_by("order")] == list(
        glossary.CLASSIC_OBJECTIONS
    )
    customer = CustomerFactory(owner=personas.salesperson)

    html = _get(
        client_as("salesperson"), "activities:log-activity", "zh-hans", args=[customer.pk]
    ).content.decode()

    for _english, chinese in glossary.CLASSIC_OBJECTIONS:
        assert f">{chinese}</option>" in html, chinese


def test_seed_words_exports_and_api_in_chinese(call_funnel, weekly, client_as):
    client = client_as("manager")

    activity_export = _csv_headers(_get(client, "reports:activity-export", "zh-hans", file_format="csv"))
    weekly_export = _csv_headers(
        _get(client, "reports:weekly-export", "zh-hans", file_format="csv", week=weekly.isoformat())
    )
    labels = _get(client, "report-activity-funnel", "zh-hans").json()["labels"]

    assert [word for word in activity_export if word in CALL_FUNNEL_ZH] == CALL_FUNNEL_ZH
    assert weekly_export[1] == "新开发客户数" and "交易率（%）" in weekly_export
    assert labels["connected"] == "实际完成数" and labels["commission_rate"] == "佣金比率（%）"


# --- English: the words stay as they were -------------------------------------------------------------


def test_the_call_funnel_keeps_its_english_words(call_funnel, client_as):
    html = _get(client_as("manager"), "reports:activity", "en").content.decode()

    headers = _cells(html, "activity-funnel")
    assert [word for word in headers if word in CALL_FUNNEL_EN] == CALL_FUNNEL_EN
    assert "Commission rate (%)" in html


def test_the_weekly_report_keeps_its_english_words(weekly, client_as):
    html = _get(client_as("manager"), "reports:weekly", "en", week=weekly.isoformat()).content.decode()

    for word in WEEKLY_EN:
        assert word in html, word
    assert "Rival cut prices" in html


@pytest.mark.parametrize("tier", list(CADENCE_EN))
def test_the_cadence_reads_monthly_quarterly_half_yearly_yearly(personas, client_as, tier):
    customer = CustomerFactory(owner=personas.salesperson, tier=tier)

    assert _cadence_cells(client_as("salesperson"), customer, "en") == CADENCE_EN[tier]


def test_a_cadence_the_method_does_not_name_stays_in_days():
    with translation.override("en"):
        assert [glossary.cadence_label(days) for days in (1, 14, 45, None)] == [
            "Daily",
            "Every 14 days",
            "Every 45 days",
            "—",
        ]


def test_objections_show_in_the_users_language_on_the_page_and_in_the_export(personas, client_as):
    customer = CustomerFactory(owner=personas.salesperson)
    logged = activity(owner=personas.salesperson, customer=customer)
    Activity.objects.filter(pk=logged.pk).update(objection=Objection.objects.get(order=1))

    form = _get(
        client_as("salesperson"), "activities:log-activity", "en", args=[customer.pk]
    ).content.decode()
    english = _get(client_as("manager"), "activities:activity-export", "en", file_format="csv")
    chinese = _get(client_as("manager"), "activities:activity-export", "zh-hans", file_format="csv")

    for name, _chinese in glossary.CLASSIC_OBJECTIONS:
        assert f">{escape(name)}</option>" in form, name
    assert "Send me some material" in english.content.decode("utf-8-sig")
    chinese_rows = chinese.content.decode("utf-8-sig")
    assert "请寄书面资料给我" in chinese_rows and "Send me some material" not in chinese_rows


# --- One list: a page, its export and its API read the same glossary terms ---------------------------


def test_page_export_and_api_name_the_call_funnel_with_the_same_terms(call_funnel, client_as):
    client = client_as("manager")

    page = _cells(_get(client, "reports:activity", "en").content.decode(), "activity-funnel")
    export = _csv_headers(_get(client, "reports:activity-export", "en", file_format="csv"))
    labels = _get(client, "report-activity-funnel", "en").json()["labels"]

    terms = [
        glossary.DIALS,
        glossary.CALLS_COMPLETED,
        glossary.APPOINTMENTS,
        glossary.PRESENTATIONS,
        glossary.CALL_ORDERS,
        glossary.CALL_SALES_TOTAL,
        glossary.SALES_PER_DIAL,
        glossary.COMMISSION_PER_DIAL,
    ]
    words = [str(term) for term in terms]
    assert [cell for cell in page if cell in words] == words
    assert [cell for cell in export if cell in words] == words
    assert set(words) <= set(labels.values())


def test_page_export_and_api_name_the_weekly_report_with_the_same_terms(weekly, client_as):
    client = client_as("manager")

    html = _get(client, "reports:weekly", "en", week=weekly.isoformat()).content.decode()
    export = _csv_headers(
        _get(client, "reports:weekly-export", "en", file_format="csv", week=weekly.isoformat())
    )
    labels = _get(client, "report-weekly", "en", week=weekly.isoformat()).json()["labels"]

    for term in (glossary.NEW_CUSTOMERS, glossary.EFFECTIVE_VISIT_RATE, glossary.TRANSACTION_RATE):
        assert f">{term}</th>" in html
        assert str(term) in labels.values()
    assert export[1] == str(glossary.NEW_CUSTOMERS)
    assert str(glossary.in_percent(glossary.EFFECTIVE_VISIT_RATE)) == "Effective-visit rate (%)"
    assert "Effective-visit rate (%)" in export and "Transaction rate (%)" in export

"""Each report shows the same columns and numbers on its page, in its Excel export and
in its API answer, for the same scope: all three are built from the report's declared
columns (``reports.columns``), and every report endpoint documents a typed answer. A page
table laid out by hand (the backward plan's, the conversion's) is checked against its
columns all the same."""

import io
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import openpyxl
import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core.models import Grade
from crm.templatetags.formatting import money, percent
from crm.tests.factories import CustomerFactory, OrderFactory
from funnel.models import GradeChange
from funnel.tests.factories import grade
from reports import services
from reports.columns import Kind, export_columns, page_columns
from reports.models import Target
from reports.periods import PeriodKind, period_for, today
from reports.selectors.activity import ACTIVITY_COLUMNS
from reports.selectors.backward_plan import BACKWARD_PLAN_COLUMNS
from reports.selectors.conversion import CALIBRATION_COLUMNS, CONVERSION_COLUMNS
from reports.selectors.dashboard import FUNNEL_COLUMNS
from reports.selectors.forecast import ACCURACY_COLUMNS, FORECAST_COLUMNS
from reports.selectors.targets import QUOTA_COLUMNS, TEAM_QUOTA_COLUMNS
from reports.selectors.weekly import WEEKLY_COLUMNS
from reports.tests.test_forecast_snapshots import generate_periods
from reports.views import STATUS_LABELS

pytestmark = pytest.mark.django_db
D = Decimal


class _Tables(HTMLParser):
    """Each table of a page, by its ``data-testid`` (else "table <n>"), as rows of cell
    texts (the header row first)."""

    def __init__(self):
        super().__init__()
        self.tables, self._table, self._cell = {}, None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            name = dict(attrs).get("data-testid") or f"table {len(self.tables)}"
            self._table = self.tables.setdefault(name, [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("th", "td") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("th", "td") and self._cell is not None:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_tables(response) -> dict:
    assert response.status_code == 200
    parser = _Tables()
    parser.feed(response.content.decode())
    return parser.tables


def export_rows(response) -> list[list]:
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def shown(column, value) -> str:
    """The page's text of an exported value."""
    if column.kind == Kind.MONEY:
        return money(value)
    if column.kind == Kind.PERCENT:
        return percent(value)
    if column.kind == Kind.STATUS:
        return str(STATUS_LABELS[value])
    if column.kind == Kind.GRADE:  # its badge, and the name of an open grade
        grade = Grade.objects.get(code=value)
        return f"{grade.label} {grade.display_name}" if grade.is_open else grade.label
    if column.kind == Kind.RATE:  # exported in percent, shown in whole percent
        return f"{round(value)} %"
    return "—" if value in (None, "") else str(value)


def same_number(a, b) -> bool:
    if a in (None, "") or b in (None, ""):
        return a in (None, "") and b in (None, "")
    return D(str(a)) == D(str(b))


def assert_agree(columns, *, page: list[list], export: list[list], api: list[dict]):
    """``page`` and ``export``: their rows (headers apart) under the page's and the export's
    columns; ``api``: the same rows. A column shown in two places agrees in both."""
    on_page, exported = page_columns(columns), export_columns(columns)
    assert len(page) == len(export) == len(api)
    for page_row, export_row, api_row in zip(page, export, api, strict=True):
        assert len(page_row) == len(on_page) and len(export_row) == len(exported)
        texts = {column.key: text for column, text in zip(on_page, page_row, strict=True)}
        for column, value in zip(exported, export_row, strict=True):
            if column.kind == Kind.STATUS:
                assert texts[column.key] == value == str(STATUS_LABELS[api_row[column.key]]), column.key
                continue
            if column.page and column.kind in (Kind.COUNT, Kind.NUMBER):
                text = texts[column.key]
                assert same_number(None if text == "—" else text, value), column.key
            elif column.page:
                assert texts[column.key] == shown(column, value), column.key
            if column.api:
                if column.kind in (Kind.TEXT, Kind.GRADE):  # an empty cell reads back as None
                    assert (api_row[column.key] or "") == (value or ""), column.key
                elif column.kind == Kind.RATE:  # a fraction in the API
                    assert same_number(D(str(api_row[column.key])) * 100, value), column.key
                else:
                    assert same_number(api_row[column.key], value), (column.key, api_row[column.key], value)


@pytest.fixture
def quota_world(personas):
    month = period_for(PeriodKind.MONTH, today())
    for person, amount, target in (
        (personas.salesperson, 100_000, 100_000),
        (personas.teammate, 150_000, 100_000),
        (personas.sub_salesperson, 50_000, None),
    ):
        customer = CustomerFactory(owner=person, grade=grade("A"), expected_value=D(10_000))
        OrderFactory(customer=customer, amount=D(amount), signed_on=today())
        if target:
            Target.objects.create(
                owner=person, period_kind="month", period_start=month.start, sales_amount=D(target)
            )
    Target.objects.create(
        team=personas.salesperson.team, period_kind="month", period_start=month.start, sales_amount=D(400_000)
    )


def test_quota_page_export_and_api_agree(quota_world, client_as):
    client = client_as("manager")
    tables = page_tables(client.get(reverse("reports:quota")))
    export = export_rows(client.get(reverse("reports:quota-export")))
    api = client.get(reverse("report-quota")).json()

    people, teams = tables["quota-people"], tables["quota-teams"]
    assert people[0] == [str(column.page_heading) for column in page_columns(QUOTA_COLUMNS)]
    assert teams[0] == [str(column.page_heading) for column in page_columns(TEAM_QUOTA_COLUMNS)]
    assert export[0] == [str(column.label) for column in export_columns(QUOTA_COLUMNS)]
    n = len(api["people"])
    assert n >= 3 and api["teams"]
    exported_people, exported_teams = export[1 : n + 1], export[n + 1 :]
    assert_agree(QUOTA_COLUMNS, page=people[1:], export=exported_people, api=api["people"])
    # The export lists the teams under the people's headers: its team column marks them.
    assert [row[1] for row in exported_teams] == ["Team"] * len(api["teams"])
    team_export = [[row[0], *row[3:]] for row in exported_teams]
    assert_agree(TEAM_QUOTA_COLUMNS, page=teams[1:], export=team_export, api=api["teams"])


def page_number(text: str):
    """A page cell's leading number ("40 % (4 of 10)" → 40), or None for "—"."""
    first = text.split(" ")[0].replace("%", "")
    return None if first == "—" else D(first)


@pytest.fixture
def conversion_world(personas):
    """Moves out of each grade: 10 per grade, E 5 up, D 5 up, C 4 up, B 5 up, A 5 won; and
    40 customers resolved after reaching D, half of them won (a calibration suggestion)."""
    seller = personas.salesperson
    grades = {code: grade(code) for code in ("E", "D", "C", "B", "A", "WON", "LOST")}
    nxt = {"E": "D", "D": "C", "C": "B", "B": "A", "A": "WON"}
    ups = {"E": 5, "D": 5, "C": 4, "B": 5, "A": 5}
    customer = CustomerFactory(owner=seller, grade=grades["E"])
    when = timezone.now() - timedelta(minutes=5)
    moves = [
        GradeChange(
            customer=customer,
            from_grade=grades[code],
            to_grade=grades[nxt[code]] if n < up else grades["LOST"],
            changed_at=when,
            owner=seller,
            days_in_previous=n,
        )
        for code, up in ups.items()
        for n in range(10)
    ]
    resolved = [
        CustomerFactory(owner=seller, grade=grades["WON"] if n < 20 else grades["LOST"]) for n in range(40)
    ]
    moves += [
        GradeChange(customer=c, from_grade=grades["E"], to_grade=grades["D"], owner=seller) for c in resolved
    ]
    GradeChange.objects.bulk_create(moves)


def test_conversion_page_export_and_api_agree(conversion_world, personas, client_as):
    client, scope = client_as("manager"), {"owner": personas.salesperson.pk}
    tables = page_tables(client.get(reverse("reports:conversion"), scope))
    export = export_rows(client.get(reverse("reports:conversion-export"), scope))
    api = client.get(reverse("report-conversion"), scope).json()

    assert export[0] == [str(column.label) for column in export_columns(CONVERSION_COLUMNS)]
    headings = [str(column.page_heading) for column in page_columns(CALIBRATION_COLUMNS)]
    assert tables["calibration"][0][: len(headings)] == headings
    stages, calibrated = tables["stages"][1:], tables["calibration"][1:]
    assert len(stages) == len(export) - 1 == len(api["stages"]) >= 5
    by_key = {column.key: index for index, column in enumerate(export_columns(CONVERSION_COLUMNS))}
    for page_row, export_row, api_row in zip(stages, export[1:], api["stages"], strict=True):
        assert export_row[by_key["code"]] == api_row["code"]
        for key in ("entered", "advanced", "mean_days", "median_days"):
            assert same_number(export_row[by_key[key]], api_row[key]), key
        rate = export_row[by_key["rate"]]
        assert same_number(rate, None if api_row["rate"] is None else D(str(api_row["rate"])) * 100)
        # The page: entered, left, moved up, conversion (whole percent), mean and median days.
        shown_numbers = [page_number(text) for text in page_row[1:]]
        page_rate = None if rate is None else D(rate).quantize(D(1))
        assert shown_numbers == [
            *(D(str(export_row[by_key[key]])) for key in ("entered", "exits", "advanced")),
            page_rate,
            *(page_number(str(export_row[by_key[key]] or "—")) for key in ("mean_days", "median_days")),
        ]
    assert api["bottleneck"] == "C"
    # Calibration: the page's table and the API list each open grade; the export's row holds it.
    calibration = {row["code"]: row for row in api["calibration"]}
    assert len(calibrated) == len(calibration) and calibration["D"]["suggested"] == 50
    for export_row in export[1:]:
        cal = calibration.get(export_row[by_key["code"]])
        for key in ("observed", "configured", "suggested"):
            assert same_number(export_row[by_key[key]], cal[key] if cal else None), key
    for page_row, api_row in zip(calibrated, api["calibration"], strict=True):
        shown_numbers = [page_number(text) for text in page_row[1:7]]
        expected = [api_row[column.key] for column in CALIBRATION_COLUMNS[1:]]
        assert [None if n is None else D(n) for n in shown_numbers] == [
            None if v is None else D(str(v)).quantize(D("0.1") if i > 1 else D(1))
            for i, v in enumerate(expected)
        ]


def test_activity_funnel_page_export_and_api_agree(this_week, client_as):
    client = client_as("manager")
    table = page_tables(client.get(reverse("reports:activity")))["activity-funnel"]
    export = export_rows(client.get(reverse("reports:activity-export")))
    api = client.get(reverse("report-activity-funnel")).json()

    assert table[0] == [str(column.page_heading) for column in page_columns(ACTIVITY_COLUMNS)]
    assert export[0] == [str(column.label) for column in export_columns(ACTIVITY_COLUMNS)]
    assert table[-1][0] == export[-1][0] == "Total"
    rows = [*api["people"], api["total"]]
    assert sum(row["dials"] for row in api["people"]) == api["total"]["dials"] == 3
    assert_agree(ACTIVITY_COLUMNS, page=table[1:], export=export[1:], api=rows)
    hours = export_columns(ACTIVITY_COLUMNS).index(next(c for c in ACTIVITY_COLUMNS if c.key == "hours"))
    assert [row[hours] for row in export[1:]] == [round(row["minutes"] / 60, 1) for row in rows]


def test_weekly_page_export_and_api_agree(this_week, personas, client_as):
    services.compute_weekly_rollups(week=this_week)
    client, query = client_as("manager"), {"week": this_week.isoformat()}
    tables = page_tables(client.get(reverse("reports:weekly"), query)).values()
    (table,) = (rows for rows in tables if rows and rows[0][0] == "Salesperson" and "Late" in rows[0])
    export = export_rows(client.get(reverse("reports:weekly-export"), query))
    api = client.get(reverse("report-weekly"), query).json()

    exported = export_columns(WEEKLY_COLUMNS)
    assert export[0] == [str(column.label) for column in exported]
    assert len(export) - 2 == len(api["people"]) == len(table) - 1 >= 1
    totals = {**api["totals"], **{key: api[key] for key in ("effective_visit_rate", "transaction_rate")}}
    for export_row, api_row in zip(export[1:], [*api["people"], totals], strict=True):
        for column, value in zip(exported[1:], export_row[1:], strict=True):
            assert same_number(api_row[column.key], value), column.key
    assert export[-1][0] == "Total" and totals["calls"] == 3 and totals["visits"] == 2
    # The page's table: fewer columns, in its own order.
    shown = ("salesperson", "new_customers", "calls", "visits", "orders", "order_amount", "reports_late")
    index = {column.key: position for position, column in enumerate(exported)}
    for page_row, export_row in zip(table[1:], export[1:-1], strict=True):
        assert page_row[0] == export_row[0]
        for key, text in zip(shown[1:], page_row[1:], strict=True):
            value = export_row[index[key]]
            assert text == (money(value) if key == "order_amount" else str(value)), key


def test_funnel_page_export_and_api_agree(conversion_world, quota_world, client_as):
    client = client_as("manager")
    table = page_tables(client.get(reverse("reports:funnel")))["funnel-table"]
    export = export_rows(client.get(reverse("reports:funnel-export")))
    api = client.get(reverse("report-funnel")).json()

    assert table[0] == [str(column.page_heading) for column in page_columns(FUNNEL_COLUMNS)]
    assert export[0] == [str(column.label) for column in export_columns(FUNNEL_COLUMNS)]
    grades = api["grades"]
    assert len(grades) == Grade.objects.count() and sum(row["count"] for row in grades) > 0
    assert_agree(FUNNEL_COLUMNS, page=table[1:-1], export=export[1 : len(grades) + 1], api=grades)
    # The open pipeline line: the page's footer, the export's row after the grades.
    footer, quota_line = table[-1], export[len(grades) + 1]
    assert footer[0] == quota_line[0] == "Open pipeline (quota)"
    assert [footer[2], footer[4], footer[5]] == [
        str(api["open_count"]),
        money(api["quota"]),
        str(api["stuck_count"]),
    ]
    assert [quota_line[2], quota_line[5]] == [api["open_count"], api["stuck_count"]]
    assert same_number(quota_line[4], api["quota"])


def test_backward_plan_page_export_and_api_agree(conversion_world, personas, client_as):
    client = client_as("manager")
    query = {"owner": personas.salesperson.pk, "target_kind": "orders", "target": 10, "period": "quarter"}
    table = page_tables(client.get(reverse("reports:backward-plan"), query))["plan"]
    export = export_rows(client.get(reverse("reports:backward-plan-export"), query))
    api = client.get(reverse("report-backward-plan"), {**query, "target_orders": 10}).json()

    assert table[0] == [str(column.page_heading) for column in page_columns(BACKWARD_PLAN_COLUMNS)]
    assert export[0] == [str(column.label) for column in export_columns(BACKWARD_PLAN_COLUMNS)]
    plan = api["plan"]
    assert len(plan) >= 5
    exported = export[1 : len(plan) + 1]
    # The page writes whether the rate was measured beside it; the export in a column.
    rates = [row[1].rsplit(" ", 1) for row in table[1:]]
    assert [source for _rate, source in rates] == [row[-1] for row in exported]
    assert [source == "measured" for _rate, source in rates] == [row["measured"] for row in plan]
    page = [[row[0], rate, *row[2:]] for row, (rate, _source) in zip(table[1:], rates, strict=True)]
    assert_agree(BACKWARD_PLAN_COLUMNS, page=page, export=exported, api=plan)


def test_diagnosis_page_export_and_api_agree(conversion_world, quota_world, client_as):
    """The funnel page's shape table and the export's diagnosis lines say what the
    diagnosis endpoint answers."""
    client = client_as("manager")
    table = page_tables(client.get(reverse("reports:funnel")))["shape-table"]
    export = export_rows(client.get(reverse("reports:funnel-export")))
    result = client.get(reverse("report-diagnosis")).json()["diagnosis"]

    assert result["layers"] and table[0] == ["Grade", "Customers", "Share now", "Share at the current rates"]
    assert table[1:] == [
        [
            layer["code"],
            str(layer["count"]),
            *(f"{round(D(layer[key]) * 100)} %" for key in ("actual_share", "ideal_share")),
        ]
        for layer in result["layers"]
    ]
    lines = [row[1] for row in export if row[0] == "Diagnosis"]
    texts = [
        result["text"],
        *(advice["text"] for advice in result["advice"]),
        *(r["text"] for r in result["rules"]),
    ]
    assert lines[: len(texts)] == texts


def test_forecast_people_agree_on_page_export_and_api(personas, client_as):
    """The worked example's salesperson and a teammate with a best case: the people table,
    the export's people rows (after the four periods) and the API's people."""
    signing = today()
    for owner, code, value in (
        (personas.salesperson, "A", 700_000),
        (personas.salesperson, "A", 300_000),
        (personas.salesperson, "B", 600_000),
        (personas.salesperson, "D", 2_000_000),
        (personas.teammate, "B", 400_000),
    ):
        CustomerFactory(owner=owner, grade=grade(code), expected_value=D(value), expected_signing_on=signing)
    client = client_as("manager")
    table = page_tables(client.get(reverse("reports:forecast")))["forecast-people"]
    export = export_rows(client.get(reverse("reports:forecast-export")))
    api = client.get(reverse("report-forecast")).json()

    people = api["people"]
    assert len(api["totals"]) == 4 and len(people) >= 2
    assert table[0] == [str(column.page_heading) for column in page_columns(FORECAST_COLUMNS)]
    assert export[0] == [str(column.label) for column in export_columns(FORECAST_COLUMNS)]
    exported_people = export[1 + len(api["totals"]) : 1 + len(api["totals"]) + len(people)]
    assert_agree(FORECAST_COLUMNS, page=table[1:], export=exported_people, api=people)
    assert sum(D(str(row["weighted"])) for row in people) == D(1_560_000) + D(240_000)


def test_forecast_accuracy_agrees_on_page_export_and_api(personas, client_as):
    """Four months of a salesperson's commits (¥1,000,000, ¥800,000 signed) and a
    teammate's (¥500,000, ¥600,000 signed): each person's accuracy and bias alike."""
    generate_periods(personas.salesperson, committed=D(1_000_000), weighted=D(800_000), signed=D(800_000))
    generate_periods(personas.teammate, committed=D(500_000), weighted=D(400_000), signed=D(600_000))
    client = client_as("manager")
    table = page_tables(client.get(reverse("reports:forecast-accuracy")))["forecast-accuracy"]
    export = export_rows(client.get(reverse("reports:forecast-accuracy-export")))
    api = client.get(reverse("report-forecast-accuracy")).json()["people"]

    assert table[0] == [str(column.page_heading) for column in page_columns(ACCURACY_COLUMNS)]
    assert export[0] == [str(column.label) for column in export_columns(ACCURACY_COLUMNS)]
    assert len(api) >= 2
    assert_agree(ACCURACY_COLUMNS, page=table[1:], export=export[1:], api=api)
    mine = next(row for row in api if row["id"] == personas.salesperson.pk)
    assert (mine["commit_accuracy"], mine["commit_bias"]) == (80.0, "over")


REPORT_PATHS = [
    "/api/reports/funnel/",
    "/api/reports/diagnosis/",
    "/api/reports/backward-plan/",
    "/api/reports/conversion/",
    "/api/reports/quota/",
    "/api/reports/activity-funnel/",
    "/api/reports/weekly/",
    "/api/reports/forecast/",
    "/api/reports/forecast-accuracy/",
]
# Free-form by design: an advice's parameters differ per advice code (its words' placeholders).
FREE_FORM = {"DiagnosisAdvice.params"}


def test_the_report_endpoints_document_typed_answers(tmp_path):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(path), "--validate")
    schema = yaml.safe_load(path.read_text())
    schemas = schema["components"]["schemas"]

    def untyped(node, where: str, seen: tuple = ()) -> set[str]:
        """Where under ``node`` an object has no declared fields (OpenApiTypes.OBJECT, a DictField)."""
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[1]
            return set() if name in seen else untyped(schemas[name], name, (*seen, name))
        found = set()
        if node.get("type") == "object" and "properties" not in node:
            found.add(where)
        for key, child in node.get("properties", {}).items():
            found |= untyped(child, f"{where}.{key}", seen)
        for key in ("items", "allOf", "oneOf", "anyOf"):
            children = node.get(key) or []
            for child in children if isinstance(children, list) else [children]:
                found |= untyped(child, where, seen)
        return found

    for report in REPORT_PATHS:
        answer = schema["paths"][report]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert untyped(answer, report) <= FREE_FORM, report

"""The everyday desktop pages pass axe-core (WCAG 2.1 AA) with no serious or critical
violation, in English and in Chinese, as a salesperson and — where the page differs — as
their manager: my day, customers, a customer, the activity form, plans and a plan, daily
reports, the reports (index, funnel, conversion, weekly, quota, forecast and its
accuracy), the funnel summary, approvals, alerts and the import form. The data is the
role matrix's world (``matrix_world``); the counts per page are printed in every run."""

import pytest
from django.urls import reverse

from .axe import serious_violations
from .conftest import login

PASSWORD = "correct-horse-battery"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def pages_by_role(matrix_world):
    """The pages to check, by username (each persona's username is its role)."""
    world = matrix_world
    customer = {"pk": world.customer.pk}
    both = [
        reverse("home"),
        reverse("crm:customer-list"),
        reverse("crm:customer-detail", kwargs=customer),
        reverse("activities:plans"),
        reverse("activities:plan-detail", kwargs={"pk": world.plan.pk}),
        reverse("activities:report-detail", kwargs={"pk": world.report.pk}),
        reverse("reports:funnel"),
        reverse("reports:forecast"),
        reverse("funnel:alert-list"),
    ]
    return {
        "salesperson": [
            *both,
            reverse("activities:log-activity", kwargs=customer),
            reverse("activities:report-detail", kwargs={"pk": world.draft_report.pk}),
            reverse("reports:index"),
            reverse("reports:conversion"),
            reverse("reports:quota"),
            reverse("reports:forecast-accuracy"),
            reverse("funnel:summary"),
            reverse("imports:create"),
        ],
        "manager": [*both, reverse("activities:approvals"), reverse("reports:weekly")],
    }


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_desktop_pages_have_no_serious_accessibility_violation(
    page, live_server, pages_by_role, capsys, language
):
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    found = {}
    for username, urls in pages_by_role.items():
        page.context.clear_cookies(name="sessionid")
        login(page, username, PASSWORD)
        for url in urls:
            response = page.goto(url)
            assert response.status == 200, f"{username} {url}: {response.status}"
            found[f"{username} {url}"] = serious_violations(page)
    with capsys.disabled():
        print(
            f"\naxe ({language}), serious or critical per page:\n"
            + "\n".join(f"  {len(violations):>2}  {where}" for where, violations in found.items())
        )
    assert not any(found.values()), "\n".join(f"{where}: {v}" for where, vs in found.items() for v in vs)

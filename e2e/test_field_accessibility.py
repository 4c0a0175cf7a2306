"""The field day's pages pass axe-core (WCAG 2.1 AA) with no serious or critical
violation, on a 390 px phone, in English and in Chinese: my day, the customer page with
its action bar and location panel, the check-in, the visit, the team's day, the calendar
feed, the quick search and the offline page. axe runs offline (axe-playwright-python
ships axe-core); the counts per page are printed in every run."""

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services, visits
from activities.models import PlanItemKind, Purpose
from activities.tests.factories import ensure_default_catalog
from crm.models import Role
from crm.tests.factories import ContactFactory, CustomerFactory, TeamFactory, UserFactory
from funnel.tests.factories import grade

from .axe import serious_violations
from .conftest import login

PASSWORD = "correct-horse-battery"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def field_day(transactional_db):
    ensure_default_catalog()
    team = TeamFactory(name="East")
    manager = UserFactory(username="mgr_east", role=Role.MANAGER, team=team)
    team.manager = manager
    team.save()
    salesperson = UserFactory(username="sales_east1", first_name="Wei", last_name="Zhang", team=team)
    customer = CustomerFactory(
        owner=salesperson, name="Harbor Point Logistics", grade=grade("C"), address="88 Harbour Rd, Shanghai"
    )
    ContactFactory(customer=customer, name="Lin Mei", phone="+86 138 0013 8000")
    plan = services.open_plan(by=salesperson, day=timezone.localdate())
    services.add_plan_item(
        plan=plan, by=salesperson, customer=customer, purpose=Purpose.SERVICE, kind=PlanItemKind.VISIT
    )
    visit, _created = visits.check_in(by=salesperson, customer=customer, fix=None, status="denied")
    return {"customer": customer, "visit": visit}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_field_pages_have_no_serious_accessibility_violation(
    phone_page, live_server, field_day, capsys, language
):
    customer, visit = field_day["customer"], field_day["visit"]
    pages = {
        "sales_east1": [
            reverse("home"),
            reverse("crm:customer-detail", args=[customer.pk]),
            reverse("activities:visit-check-in", args=[customer.pk]),
            reverse("activities:visit-detail", args=[visit.pk]),
            reverse("activities:calendar-feed"),
            reverse("crm:quick-search") + "?q=Harbor",
            reverse("pwa-offline"),
        ],
        "mgr_east": [reverse("activities:team-day")],
    }
    found = {}
    for username, urls in pages.items():
        page = phone_page()
        page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        login(page, username, PASSWORD)
        for url in urls:
            page.goto(url)
            found[url] = serious_violations(page)
    with capsys.disabled():
        print(
            f"\naxe ({language}), serious or critical per page: "
            + ", ".join(f"{url} {len(violations)}" for url, violations in found.items())
        )
    assert not any(found.values()), "\n".join(f"{url}: {v}" for url, vs in found.items() for v in vs)

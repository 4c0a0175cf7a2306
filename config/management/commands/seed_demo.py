"""``manage.py seed_demo [--if-empty] [--language zh-hans]``: the demo company for development.

``--language`` (default: the ``DEMO_LANGUAGE`` setting, so ``DEMO_LANGUAGE=zh-hans make
run`` works) writes it in Chinese: people, teams, companies, regions, industries, notes.

One transaction, one step per app in import order (crm ← funnel ← activities ←
reports); each later app's demo builds on what the earlier steps returned.
"""

import random
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone, translation

from activities import demo as activities_demo
from crm import demo as crm_demo
from crm.models import Customer, User
from funnel import demo as funnel_demo
from funnel import services as funnel_services
from reports import demo as reports_demo

DEMO_LANGUAGES = ["en", "zh-hans"]


class Command(BaseCommand):
    help = (
        "Create the demo company: users and teams, customers with contacts, orders and grade history "
        "(development mode only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when users exist.")
        parser.add_argument(
            "--language",
            choices=DEMO_LANGUAGES,
            default=settings.DEMO_LANGUAGE,
            help="Language of the demo's names and texts (default: DEMO_LANGUAGE).",
        )

    def handle(self, *args, if_empty: bool, language: str, **options):
        if if_empty and User.objects.exists():
            self.stdout.write("Database already has users; demo data left as it is.")
            return
        if not settings.DEMO_USERS_ALLOWED:
            raise CommandError("Demo users are never created in production mode.")
        started = time.monotonic()
        now = timezone.now()
        chinese = language.startswith("zh")
        try:
            # In the demo's language too: what it stores through gettext (notification titles).
            with transaction.atomic(), translation.override(language):
                # 1. crm: teams, managers, salespeople.
                users = crm_demo.create_demo_organisation(timezone.localdate(now), chinese=chinese)
                # 2. funnel: customers, contacts, orders and six months of grade history.
                counts = funnel_demo.create_demo_customers(users, now=now, chinese=chinese)
                # 3. activities: three weeks of calls, visits, daily plans and reports.
                activities_demo.create_demo_activities(
                    timezone.localdate(now), random.Random(4), chinese=chinese
                )
                # 4. funnel: the stagnation scan, so the alerts page lists the funnel's stuck
                # customers from the first minute (the morning run sends the digests).
                funnel_services.scan_stagnation(on=timezone.localdate(now), notify=False)
                # 5. reports: forecast categories, a quarter of weekly forecast snapshots
                # (some customers slipping) and the managers' adjustments.
                reports_demo.generate_forecast(
                    customers=Customer.objects.all(), today=timezone.localdate(now), rng=random.Random(5)
                )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo organisation created: {len(users)} users, {counts['customers']} customers, "
                f"{counts['contacts']} contacts, {counts['orders']} orders, "
                f"{counts['grade_changes']} grade changes ({time.monotonic() - started:.1f} s)."
            )
        )

"""``manage.py seed_demo [--if-empty]``: the demo company for development.

One transaction, one step per app in import order (crm ← funnel ← activities ←
reports); each later app's demo builds on what the earlier steps returned.
"""
import random
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from activities import demo as activities_demo
from crm import demo as crm_demo
from crm.models import User
from funnel import demo as funnel_demo


class Command(BaseCommand):
    help = "Create the demo company: users and teams, customers with contacts, orders and grade history " \
           "(development mode only)."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when users exist.")

    def handle(self, *args, if_empty: bool, **options):
        if if_empty and User.objects.exists():
            self.stdout.write("Database already has users; demo data left as it is.")
            return
        if not settings.DEMO_USERS_ALLOWED:
            raise CommandError("Demo users are never created in production mode.")
        started = time.monotonic()
        now = timezone.now()
        try:
            with transaction.atomic():
                # 1. crm: teams, managers, salespeople.
                users = crm_demo.create_demo_organisation(timezone.localdate(now))
                # 2. funnel: customers, contacts, orders and six months of grade history.
                counts = funnel_demo.create_demo_customers(users, now=now)
                # 3. activities: three weeks of calls, visits, daily plans and reports.
                activities_demo.create_demo_activities(timezone.localdate(now), random.Random(4))
                # 4. reports: added with that app.
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(
            f"Demo organisation created: {len(users)} users, {counts['customers']} customers, "
            f"{counts['contacts']} contacts, {counts['orders']} orders, "
            f"{counts['grade_changes']} grade changes ({time.monotonic() - started:.1f} s)."
        ))

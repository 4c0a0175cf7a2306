"""``manage.py generate_data --customers 100000``: a large organisation for benchmarks
(teams, users, customers, contacts, grade changes, orders, activities, and the daily
plans and reports of the last weeks).

Set-based bulk inserts in one transaction; works on SQLite and PostgreSQL. Names carry
running numbers, so it may run again on the same database (it adds another
organisation). Refused in production mode unless ``--force``.
"""

import random
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from activities import demo as activities_demo
from activities.models import Activity, DailyPlan, DailyReport, PlanItem, ReviewEvent
from crm import demo as crm_demo
from crm.models import Contact, Customer, Order, Team, User
from funnel import demo as funnel_demo
from funnel.models import GradeChange
from reports import demo as reports_demo
from reports.models import ForecastSnapshot


def generated_tables() -> list[str]:
    models = [
        Team,
        User,
        Customer,
        Contact,
        Order,
        Customer.tags.through,
        GradeChange,
        Customer.history.model,
        Contact.history.model,
        Order.history.model,
        Activity,
        DailyPlan,
        PlanItem,
        DailyReport,
        ReviewEvent,
        ForecastSnapshot,
    ]
    return [model._meta.db_table for model in models]


class Command(BaseCommand):
    help = (
        "Generate a large organisation (teams, users, customers, contacts, grade changes, orders, "
        "activities, daily plans and reports) for benchmarks."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument(
            "--users", type=int, default=200, help="All users: one admin, the managers, salespeople."
        )
        parser.add_argument("--teams", type=int, default=20, help="Teams, each with a manager.")
        parser.add_argument("--grade-changes", type=int, default=None, help="Default: 3 per customer.")
        parser.add_argument("--orders", type=int, default=None, help="Default: 1 per 5 customers.")
        parser.add_argument("--contacts", type=int, default=None, help="Default: 1 per customer.")
        parser.add_argument("--activities", type=int, default=None, help="Default: 10 per customer.")
        parser.add_argument(
            "--weeks", type=int, default=26, help="Weeks of activities, daily plans and reports, up to today."
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--no-history", action="store_true", help="Skip the audit rows of the created records."
        )
        parser.add_argument("--force", action="store_true", help="Run even in production mode.")

    @staticmethod
    def _counts(options) -> tuple[int, int, int, int, int]:
        """Customers, grade changes, orders, contacts and activities to make (the last four
        default to 3×, ⅕, 1× and 10× the customers); refuses impossible options."""
        customers = options["customers"]
        grade_changes = 3 * customers if options["grade_changes"] is None else options["grade_changes"]
        orders = customers // 5 if options["orders"] is None else options["orders"]
        contacts = customers if options["contacts"] is None else options["contacts"]
        activities = 10 * customers if options["activities"] is None else options["activities"]
        if (
            min(customers, grade_changes, orders, contacts, activities, options["weeks"]) < 0
            or options["batch_size"] < 1
        ):
            raise CommandError("Counts cannot be negative, and --batch-size must be at least 1.")
        if options["teams"] < 1 or options["users"] < options["teams"] + 2:
            raise CommandError(
                "Need at least one team and --users ≥ --teams + 2 (an admin, the managers, a salesperson)."
            )
        return customers, grade_changes, orders, contacts, activities

    @staticmethod
    def _analyze() -> None:
        """Fresh planner statistics for the benchmarks."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for table in generated_tables():
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
            else:
                cursor.execute("ANALYZE")

    def handle(self, *args, **options):
        if not settings.DEMO_USERS_ALLOWED and not options["force"]:
            raise CommandError(
                "generate_data refuses to run in production mode; pass --force if you mean it."
            )
        customers, grade_changes, orders, contacts, activities = self._counts(options)
        rng = random.Random(options["seed"])
        batch_size = options["batch_size"]
        now = timezone.now()
        started = time.monotonic()

        def step(label: str, since: float) -> float:
            at = time.monotonic()
            self.stdout.write(f"  {label:<34} {at - since:6.1f} s")
            return at

        def progress(done: int) -> None:
            if done % (batch_size * 4) == 0 or done == customers:
                self.stdout.write(f"    … {done:,} customers ({time.monotonic() - started:.1f} s)")

        self.stdout.write(
            f"Generating on {connection.vendor}: {options['teams']} teams, "
            f"{options['users']} users, {customers:,} customers, {contacts:,} contacts, "
            f"{grade_changes:,} grade changes, {orders:,} orders, {activities:,} activities "
            f"over {options['weeks']} weeks"
        )
        with transaction.atomic():
            first_customer = (Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
            people = crm_demo.generate_organisation(
                teams=options["teams"],
                users=options["users"],
                today=timezone.localdate(now),
                rng=rng,
                batch_size=batch_size,
            )
            mark = step("teams and users", started)
            counts = funnel_demo.generate_customers(
                owners=people["salespeople"],
                count=customers,
                grade_changes=grade_changes,
                orders=orders,
                contacts=contacts,
                rng=rng,
                now=now,
                batch_size=batch_size,
                history=not options["no_history"],
                progress=progress,
            )
            mark = step("customers, contacts, history, orders", mark)
            routine = activities_demo.generate_routine(
                owners=people["salespeople"],
                activities=activities,
                weeks=options["weeks"],
                rng=rng,
                customers=Customer.objects.filter(pk__gte=first_customer),
                now=now,
                batch_size=batch_size,
            )
            mark = step("activities, plans, reports", mark)
            forecast = reports_demo.generate_forecast(
                customers=Customer.objects.filter(pk__gte=first_customer),
                today=timezone.localdate(now),
                rng=rng,
                weeks=min(options["weeks"], reports_demo.DEMO_WEEKS),
                batch_size=batch_size,
            )
            mark = step(f"forecast ({forecast['snapshots']:,} snapshots)", mark)
            # Inside the transaction, so it does not queue behind autovacuum working on
            # the same tables after commit.
            self._analyze()
            mark = step("analyze", mark)
        step("commit", mark)
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated {len(people['managers'])} teams, {sum(len(v) for v in people.values())} users, "
                f"{counts['customers']:,} customers, {counts['contacts']:,} contacts, "
                f"{counts['grade_changes']:,} grade changes, {counts['orders']:,} orders, "
                f"{routine['activities']:,} activities, {routine['plans']:,} daily plans, "
                f"{routine['reports']:,} daily reports in {time.monotonic() - started:.1f} s."
            )
        )

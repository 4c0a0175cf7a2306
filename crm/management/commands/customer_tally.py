"""``manage.py customer_tally [--rebuild]``: check the customer tally against the customers."""

from django.core.management.base import BaseCommand, CommandError

from crm import selectors, services


class Command(BaseCommand):
    help = (
        "Compare the customer tally (the funnel dashboards' live totals per owner and grade, kept by "
        "database triggers) with the live customers; --rebuild recomputes it from them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="Recompute the tally from the customers (customer writes wait meanwhile).",
        )

    def handle(self, *args, rebuild: bool, **options):
        if rebuild:
            rows = services.rebuild_customer_tally()
            self.stdout.write(self.style.SUCCESS(f"Customer tally rebuilt: {rows} owner and grade totals."))
            return
        drift = selectors.customer_tally_drift()
        if not drift:
            self.stdout.write(self.style.SUCCESS("The customer tally matches the live customers."))
            return
        for owner, grade, tally, customers in drift:
            self.stdout.write(f"owner {owner}, grade {grade}: tally {tally}, customers {customers}")
        raise CommandError(
            f"The customer tally differs from the customers for {len(drift)} owner and grade "
            "totals; run manage.py customer_tally --rebuild."
        )

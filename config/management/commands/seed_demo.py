"""``manage.py seed_demo [--if-empty]``: the demo company for development."""
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from crm import demo as crm_demo
from crm.models import User


class Command(BaseCommand):
    help = "Create the demo organisation (development mode only)."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when users exist.")

    def handle(self, *args, if_empty: bool, **options):
        if if_empty and User.objects.exists():
            self.stdout.write("Database already has users; demo data left as it is.")
            return
        try:
            crm_demo.create_demo_organisation(timezone.localdate())
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS("Demo organisation created."))

"""``manage.py demo_logins``: print the URL and the demo logins (used by ``make run``)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from crm.demo import demo_logins


class Command(BaseCommand):
    help = "Print the address and the demo logins."

    def handle(self, *args, **options):
        self.stdout.write(self.style.SUCCESS("\nFunnel CRM is starting on http://127.0.0.1:8000\n"))
        if not settings.DEMO_USERS_ALLOWED:
            return
        self.stdout.write(f"Demo logins (password: {settings.DEMO_PASSWORD}):")
        for username, role in demo_logins():
            self.stdout.write(f"  {username:<12} {role}")
        self.stdout.write("")

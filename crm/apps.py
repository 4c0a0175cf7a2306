from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Customers")

    def ready(self):
        # Log-ins, log-outs, failures and lockouts go to the security audit log.
        from .audit import connect_signals

        connect_signals()
        # Spreadsheet imports of customers (higher apps register their own kinds).
        from .importing import registry
        from .importing.customers import CustomerImporter

        registry.register(CustomerImporter())

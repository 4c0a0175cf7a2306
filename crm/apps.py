from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Customers")

    def ready(self):
        # Spreadsheet imports of customers (higher apps register their own kinds).
        from .importing import registry
        from .importing.customers import CustomerImporter

        registry.register(CustomerImporter())

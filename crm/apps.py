from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Customers")

    def ready(self):
        # Spreadsheet imports of customers (higher apps register their own kinds).
        from .extensions import register_stays_when_merged
        from .importing import registry
        from .importing.customers import CustomerImporter
        from .models import LifecycleChange

        registry.register(CustomerImporter())
        # The duplicate's stage moves tell its own orders' story; the kept one's stage is
        # recomputed from the joined orders, with its own history row.
        register_stays_when_merged(LifecycleChange)

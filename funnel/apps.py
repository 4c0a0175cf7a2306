from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FunnelConfig(AppConfig):
    name = "funnel"
    verbose_name = _("Sales funnel")

    def ready(self):
        from crm.extensions import register_archive_step

        from . import customer_page, services

        customer_page.register()
        register_archive_step(services.customer_archived)

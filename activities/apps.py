from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = _("Activities")

    def ready(self):
        from . import customer_page

        customer_page.register()
        # Activities from a spreadsheet, through crm's shared import machinery.
        from crm.importing import registry

        from .importing import ActivityImporter

        registry.register(ActivityImporter())

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FunnelConfig(AppConfig):
    name = "funnel"
    verbose_name = _("Sales funnel")

    def ready(self):
        from crm.extensions import register_archive_step, register_stays_when_merged

        from . import customer_page, models, services

        customer_page.register()
        register_archive_step(services.customer_archived)
        register_stays_when_merged(
            models.GradeChange,  # the grade and owner history replays from the customer's creation
            models.Reassignment,
            models.HandoverTask,  # with the duplicate's reassignment it was created for
            models.StagnationAlert,  # of the duplicate's own stays: on the kept one they could collide
            models.PoolReturnWarning,
        )

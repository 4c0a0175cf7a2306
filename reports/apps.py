from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from activities.my_day_blocks import register_block_provider, register_progress_provider

        from .meetings import my_day_block
        from .selectors import activity_progress

        register_progress_provider(activity_progress)
        register_block_provider(my_day_block)

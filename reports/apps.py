from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from activities.my_day_blocks import register_block_provider, register_progress_provider
        from crm.extensions import PagePanel, register_page_panel, register_stays_when_merged

        from .forecast_views import commit_alerts_panel
        from .meetings import my_day_block
        from .models import ForecastSnapshot
        from .selectors import activity_progress

        register_progress_provider(activity_progress)
        register_block_provider(my_day_block)
        # A week's snapshot is of the customer as it stood: a merged-away one keeps its own
        # (one row per customer and week could not take both).
        register_stays_when_merged(ForecastSnapshot)
        # Stuck or slipping commits among the manager's alerts (the funnel cannot import us).
        register_page_panel(
            "funnel:alert-list",
            PagePanel("commit-alerts", "reports/_commit_alerts_panel.html", commit_alerts_panel),
        )

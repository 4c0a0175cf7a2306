from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("System")

    def ready(self):
        # Log-ins, log-outs, failures and lockouts go to the security audit log.
        from .audit import connect_signals

        connect_signals()

import gc

from django.apps import AppConfig


class ConfigAppConfig(AppConfig):
    """Registers the wiring package so its templatetags and commands (``demo``) load."""

    name = "config"
    label = "config"
    verbose_name = "Configuration"

    def ready(self):
        # Outbox rows name their task, so every process that publishes (web, beat) must
        # know each app's ``tasks`` module; Celery alone imports them only in a worker.
        from .celery import app as celery_app

        celery_app.autodiscover_tasks(force=True)

        # Each log-in starts the session's absolute lifetime and notes whether 2FA is on.
        from django.contrib.auth.signals import user_logged_in

        from .mfa import on_user_logged_in

        user_logged_in.connect(on_user_logged_in, dispatch_uid="config.mfa.on_user_logged_in")

        # Every failed log-in counts against its address and the site (config.throttling).
        from django.contrib.auth.signals import user_login_failed

        from .throttling import count_login_failure

        user_login_failed.connect(count_login_failure, dispatch_uid="config.throttling.count_login_failure")

        from . import checks  # noqa: F401 - registers the deployment checks

        # What start-up loaded (modules, models, settings) lives as long as the process:
        # moved out of the collector's sight, a full collection no longer walks it, which
        # took pages tens of milliseconds every few dozen requests. Last app, so last to load.
        gc.freeze()

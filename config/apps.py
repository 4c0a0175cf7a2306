from django.apps import AppConfig


class ConfigAppConfig(AppConfig):
    """Registers the wiring package so its templatetags and commands (``demo``) load."""

    name = "config"
    label = "config"
    verbose_name = "Configuration"

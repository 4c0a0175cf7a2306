"""The Celery app: configured from Django settings (``CELERY_*``), tasks found in each app."""

import os

from celery import Celery

from config.settings import settings_module

os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module())

app = Celery("funnel_crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

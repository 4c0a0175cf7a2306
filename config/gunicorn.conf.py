"""gunicorn settings for the web processes (Dockerfile, docker-compose.yml, Procfile):
``gunicorn -c config/gunicorn.conf.py config.wsgi:application``.

Before any worker starts, Django's system checks run and an error stops the server
(e.g. ``config.E001``: static files not collected, which would make every page a 500).
gunicorn's ``Server`` header names no version (it says ``gunicorn``); the WSGI
application adds none.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
accesslog = "-"


def on_starting(server) -> None:
    """Run Django's system checks once, in the master: refuse to start on an error."""
    import django
    from django.core.management import call_command

    from config.settings import settings_module

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module())
    django.setup()
    try:
        call_command("check", fail_level="ERROR")
    finally:
        from django.db import connections

        connections.close_all()  # no connection of the master's may be shared by forked workers

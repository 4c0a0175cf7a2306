"""System checks of the deployment that Django's own ``check --deploy`` does not make."""

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.checks import Error, register
from django.core.files.storage import storages


# Not tagged "staticfiles": collectstatic runs those checks, and must run without a manifest.
@register("static_files_collected")
def static_files_collected(app_configs, **kwargs) -> list[Error]:
    """Production names static files by their hash, read from collectstatic's manifest:
    without it every page answers 500. Refuse to start instead (``manage.py check``,
    ``migrate``, ``runserver`` and gunicorn through ``config/gunicorn.conf.py`` run this)."""
    if settings.DEBUG:
        return []  # DEBUG serves files under their plain names
    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin) or storage.manifest_storage.exists(storage.manifest_name):
        return []
    return [
        Error(
            f"Static files are not collected: {storage.manifest_name} is missing from STATIC_ROOT "
            f"({settings.STATIC_ROOT}), so every page would answer 500.",
            hint="Run `python manage.py collectstatic --no-input` "
            "(the Docker image runs it when it is built).",
            id="config.E001",
        )
    ]

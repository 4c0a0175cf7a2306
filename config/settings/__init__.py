"""Settings by mode: ``config.settings.<DJANGO_ENV>`` with local (default), test, production."""

import os


def settings_module() -> str:
    mode = os.environ.get("DJANGO_ENV", "local")
    if mode not in {"local", "test", "production"}:
        raise RuntimeError(f"DJANGO_ENV must be local, test or production, not {mode!r}")
    return f"config.settings.{mode}"

"""Development: DEBUG on by default, a generated key, demo users allowed."""

from django.core.management.utils import get_random_secret_key

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = env.bool("DEBUG", default=True)
DEMO_USERS_ALLOWED = True
# The demo signs in with a password only; set MFA_REQUIRED_ROLES=admin,manager to try 2FA.
MFA_REQUIRED_ROLES = env.list("MFA_REQUIRED_ROLES", default=[])


def _development_secret_key() -> str:
    """A key generated once per checkout, so sessions survive restarts."""
    key_file = VAR_DIR / "dev-secret-key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(get_random_secret_key())
    return key_file.read_text().strip()


SECRET_KEY = env("SECRET_KEY", default="") or _development_secret_key()
if not DEBUG:
    STORAGES["staticfiles"]["BACKEND"] = "whitenoise.storage.CompressedStaticFilesStorage"  # noqa: F405

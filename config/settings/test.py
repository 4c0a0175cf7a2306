"""Tests: fast hashing, in-memory e-mail, tasks published synchronously through the outbox."""
from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
DEMO_USERS_ALLOWED = True
MFA_REQUIRED_ROLES = []  # tests that need 2FA turn it on with override_settings
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
AXES_ENABLED = True
LOGGING["root"]["level"] = "WARNING"  # noqa: F405

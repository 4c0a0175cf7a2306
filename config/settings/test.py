"""Tests: fast hashing, in-memory e-mail, tasks published synchronously through the outbox."""

import atexit
import shutil
import tempfile
from pathlib import Path

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
DEMO_USERS_ALLOWED = True
MFA_REQUIRED_ROLES = []  # tests that need 2FA turn it on with override_settings
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# WhiteNoise looks files up when asked, instead of scanning STATIC_ROOT each time a test
# client starts (75 ms when collectstatic has filled it).
WHITENOISE_AUTOREFRESH = True
# Pages read from the primary; the replica tests turn replica reads on
# (config/tests/test_replicas.py).
REPLICA_READS = False
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
AXES_ENABLED = True
# Rate-limit counters in this process's memory, even with REDIS_URL set (CI): each test
# starts with an empty cache (the root conftest clears it), never flushing a shared Redis.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Uploaded files (visit photos) go to a throw-away folder, never to var/media.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="funnel-test-media-"))
atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)

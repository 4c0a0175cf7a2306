"""Settings shared by every mode, read from the environment (see ``.env.example``)."""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env("DJANGO_ENV", default="local")
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",  # API tokens (the model is config.ApiToken, KNOX_TOKEN_MODEL)
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "core",
    "crm",
    "funnel",
    "activities",
    "reports",
    "config.apps.ConfigAppConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "config.middleware.SessionLifetimeMiddleware",
    "config.middleware.AuditContextMiddleware",
    "config.throttling.LoginRateLimitMiddleware",
    "config.middleware.LoginRequiredMiddleware",
    "config.middleware.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.form_tokens.FormTokenMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "config.middleware.NoStoreForUsersMiddleware",
    "axes.middleware.AxesMiddleware",
    "config.middleware.PinAfterWriteMiddleware",
    # Last: its process_view runs right before the view, after every other check.
    "config.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.navigation",
                "config.context_processors.notifications",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let web, worker and beat share one SQLite file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # The planner's cost of a random page read. PostgreSQL's default, 4, assumes spinning
    # disks; on SSDs, or data held in memory, 1.1 is the usual setting. With 4, the funnel
    # dashboard's covering index (grown by inserts, as on a running site) loses to reading
    # the whole customer table, at twice the time.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = env(
        "POSTGRES_SESSION_OPTIONS", default="-c random_page_cost=1.1"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# A PostgreSQL streaming replica for dashboards, reports and exports (``core.replicas``):
# reads fall back to the primary while it is down or lags more than the limit, and a user
# reads from the primary for a few seconds after their own write.
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db_url("DATABASE_REPLICA_URL"),
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {**DATABASES["default"].get("OPTIONS", {}), "connect_timeout": 2},
        # Tests reach the replica of the primary's test database (never create one on it).
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["core.replicas.ReplicaRouter"]
REPLICA_READS = env.bool("REPLICA_READS", default=True)
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=10.0)
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=10)
REPLICA_CHECK_SECONDS = env.float("REPLICA_CHECK_SECONDS", default=5.0)

# --- Users and security ---------------------------------------------------
AUTH_USER_MODEL = "crm.User"
AUTHENTICATION_BACKENDS = [
    "config.throttling.LockoutBackend",  # Axes' lockout, passable with a second factor
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule: its password_changed hook revokes the user's API tokens on every path.
    {"NAME": "config.tokens.RevokeTokensOnPasswordChange"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after 12 idle hours and at logout. A request renews the session (row and
# cookie) only when its last renewal is SESSION_RENEW_SECONDS old (SessionLifetimeMiddleware),
# not on every request: saving it each time cost every page a write transaction. So a
# session ends between 12 h − 5 min and 12 h after the user's last request, never later.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=12 * 3600)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_RENEW_SECONDS = 5 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# ...and 7 days after the login at the latest, however active (SessionLifetimeMiddleware).
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=7 * 24 * 3600)

# Two-factor authentication (TOTP + recovery codes): required for these roles; anyone
# else may turn it on, and is then asked for it too. Local and test modes default to
# none so the demo logins stay one step (see local.py / test.py).
MFA_REQUIRED_ROLES = env.list("MFA_REQUIRED_ROLES", default=["admin", "manager"])
MFA_RECOVERY_CODES = 10
OTP_TOTP_ISSUER = "Funnel CRM"

# Log-in throttling (config/throttling.py). Per address and in all: failed log-ins
# counted in the cache, refused with 429 + Retry-After over the limit.
LOGIN_FAILURES_PER_IP = env.int("LOGIN_FAILURES_PER_IP", default=30)
LOGIN_FAILURES_PER_IP_WINDOW = env.int("LOGIN_FAILURES_PER_IP_WINDOW", default=5 * 60)
LOGIN_FAILURES_GLOBAL = env.int("LOGIN_FAILURES_GLOBAL", default=300)
LOGIN_FAILURES_GLOBAL_WINDOW = env.int("LOGIN_FAILURES_GLOBAL_WINDOW", default=60)
# Per username, from any address: 10 failures lock it for 15 minutes after the last
# one, doubling with every 10 more, up to 24 hours (also how long failures are kept).
# A second factor or an admin (Axes' access attempts in the admin) unlocks.
AXES_FAILURE_LIMIT = env.int("LOGIN_LOCKOUT_FAILURES", default=10)
LOGIN_LOCKOUT_BASE = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
LOGIN_LOCKOUT_MAX = timedelta(hours=24)
AXES_COOLOFF_TIME = LOGIN_LOCKOUT_MAX
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_HANDLER = "config.throttling.UsernameLockoutHandler"
AXES_LOCKOUT_CALLABLE = "config.throttling.lockout_response"
AXES_RESET_ON_SUCCESS = False  # the handler resets, once any second factor is given too
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Axes warns when its lockout ignores the address: here the address has its own limit
# (LOGIN_FAILURES_PER_IP), and a lock per username + address is what let a shared
# office address lock a colleague out after five failures.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_VERBOSE = False
# Behind a reverse proxy, set AXES_PROXY_COUNT to the number of proxies so the lockout
# keys on the client's address (from X-Forwarded-For), not the proxy's.
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0) or None
if AXES_IPWARE_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# No inline scripts anywhere: every script is a static file.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],  # no <base> may redirect relative URLs
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True
FIRST_DAY_OF_WEEK = 1  # Monday
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
CURRENCY = env("CURRENCY", default="CNY")

# --- Static files ---------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
STORAGES = {
    # Uploaded files (visit photos): a folder by default; any Django storage backend
    # (e.g. an S3 one from django-storages, installed separately) by its dotted path.
    "default": {
        "BACKEND": env("FILE_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"),
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")

# --- Visit photos (stored through the default storage; served only through a view that
# checks the customer's visibility, never from MEDIA_URL) -----------------------------
VISIT_PHOTO_MAX_UPLOAD_BYTES = env.int("VISIT_PHOTO_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
VISIT_PHOTO_MAX_STORED_BYTES = env.int("VISIT_PHOTO_MAX_STORED_BYTES", default=2 * 1024 * 1024)
VISIT_PHOTO_MAX_PIXELS = env.int("VISIT_PHOTO_MAX_PIXELS", default=50_000_000)
VISIT_PHOTO_MAX_SIDE = env.int("VISIT_PHOTO_MAX_SIDE", default=2048)
VISIT_PHOTOS_PER_VISIT = env.int("VISIT_PHOTOS_PER_VISIT", default=10)

# --- E-mail -----------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Funnel CRM <noreply@funnel.local>")

# --- REST API -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes anonymous calls answer 401.
        "config.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "crm.filters.FilterBackend",  # foreign keys by bare id: no "exists?" answer
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # JSON bodies bounded in size and nesting before they are parsed (config/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
# The deepest nesting of arrays and objects an API request body may have; its size is
# bounded by Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default).
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)
# API tokens (django-rest-knox): one per device, a SHA-512 of the key at rest, shown
# once. Each expires API_TOKEN_TTL_DAYS after its last use (sliding; renewing the expiry
# writes at most once a minute). Revoked by the owner, at logout, on a password change,
# on deactivation and by an admin (config/tokens.py).
KNOX_TOKEN_MODEL = "config.ApiToken"  # noqa: S105 - a model name, not a secret
# knox's own migrations create its default token table even when the model is swapped
# out, with a foreign key to users that would block flushing them; without its
# migrations, Django creates no table for a swapped model.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=30)),
    "AUTO_REFRESH": True,
    "MIN_REFRESH_INTERVAL": 60,
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Funnel CRM API",
    "DESCRIPTION": "Customers, the sales funnel, activities and reports. "
    "Every endpoint applies the same visibility rule as the browser pages.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    # Offline docs: no badge fetched from validator.swagger.io (it would also leak the URL).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Several models have a "state"; name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "ActivityKindEnum": "activities.models.ActivityKind",
        "ImportStateEnum": "crm.models.ImportState",
        "LifecycleEnum": "crm.models.Lifecycle",
        "LocationStatusEnum": "activities.models.LocationStatus",
        "LocationSourceEnum": "activities.models.LocationSource",
        "MeetingKindEnum": "reports.models.MeetingKind",
        "PlanItemKindEnum": "activities.models.PlanItemKind",
        "SourceEnum": "crm.models.Source",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.document_idempotency_key",
        "config.openapi.document_error_responses",
    ],
}

# --- Celery -----------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
# Short socket timeouts: a request publishing through the outbox gives up fast
# when Redis is down and leaves the message for the drain.
REDIS_BROKER_TRANSPORT_OPTIONS = {
    # A task taken by a worker that died unacknowledged (acks_late) goes back to the
    # queue after this many seconds; keep it above CELERY_TASK_TIME_LIMIT, or a task
    # still running is delivered a second time.
    "visibility_timeout": env.int("BROKER_VISIBILITY_TIMEOUT", default=3600),
    "socket_connect_timeout": 1,
    "socket_timeout": 1,
    "max_retries": 0,
}
# The cache holds rate-limit counters (log-ins, the duplicate check): shared by every
# process through Redis in production; each process's memory otherwise. Short timeouts:
# with Redis down the limits fail open and pages keep working.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env("CACHE_URL", default=REDIS_URL),
            "KEY_PREFIX": "funnel",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_BROKER_TRANSPORT_OPTIONS
else:
    # Embedded broker: kombu's SQLAlchemy transport on a SQLite file, no server needed.
    CELERY_BROKER_URL = f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 15 * 60
CELERY_TASK_TIME_LIMIT = 16 * 60
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Every entry expires, so a backlog after an outage does not run stale work twice.
CELERY_BEAT_SCHEDULE = {
    "drain-outbox": {
        "task": "core.tasks.drain_outbox",
        "schedule": timedelta(seconds=30),
        "options": {"expires": 25},
    },
    "worker-heartbeat": {
        "task": "core.tasks.record_heartbeat",
        "schedule": timedelta(seconds=60),
        "options": {"expires": 55},
    },
    "fold-customer-tally": {
        "task": "crm.tasks.fold_customer_tally",
        "schedule": timedelta(seconds=60),
        "options": {"expires": 55},
    },
    "purge-idempotency-keys": {
        "task": "config.tasks.purge_idempotency_keys",
        "schedule": crontab(minute=17),
        "options": {"expires": 50 * 60},
    },
    # Funnel sweeps, early each morning (company time zone); no date argument: each
    # task takes today's local date. Expire before the next day's run.
    "funnel-return-idle-customers": {
        "task": "funnel.tasks.return_idle_customers",
        "schedule": crontab(hour=5, minute=30),
        "options": {"expires": 20 * 3600},
    },
    "funnel-scan-stagnation": {
        "task": "funnel.tasks.scan_stagnation",
        "schedule": crontab(hour=6, minute=0),
        "options": {"expires": 20 * 3600},
    },
    # ...and hourly without the digests: customers who pass their limit during the day
    # are on the alerts page within the hour, as they are on the funnel at once.
    "funnel-sync-stagnation-alerts": {
        "task": "funnel.tasks.scan_stagnation",
        "schedule": crontab(minute=7),
        "kwargs": {"notify": False},
        "options": {"expires": 50 * 60},
    },
    # Lifecycle stages moved by the passing of time (quarters rolling, buyers falling back).
    "crm-refresh-lifecycles": {
        "task": "crm.tasks.refresh_lifecycles",
        "schedule": crontab(hour=5, minute=0),
        "options": {"expires": 20 * 3600},
    },
    # Monday 02:30: the weekly rollup of the week that just ended (no argument: the
    # task takes the last complete week as of its start). Expires before the day's work.
    "reports-weekly-rollup": {
        "task": "reports.tasks.compute_weekly_rollup",
        "schedule": crontab(day_of_week="mon", hour=2, minute=30),
        "options": {"expires": 6 * 3600},
    },
    # Monday 02:45: the forecast as it stood when the week began (Monday 00:00).
    "reports-forecast-snapshot": {
        "task": "reports.tasks.snapshot_forecast",
        "schedule": crontab(day_of_week="mon", hour=2, minute=45),
        "options": {"expires": 6 * 3600},
    },
}

# --- Product settings -------------------------------------------------------
# Archived customers stay restorable this long; only then may an admin purge them.
ARCHIVE_RETENTION_DAYS = env.int("ARCHIVE_RETENTION_DAYS", default=90)
if ARCHIVE_RETENTION_DAYS < 90:
    raise ImproperlyConfigured(
        "ARCHIVE_RETENTION_DAYS must be at least 90: archived customers stay restorable for 90 days."
    )
BACKUP_DIR = Path(env("BACKUP_DIR", default=str(VAR_DIR / "backups")))
# A Fernet key: backups are written encrypted (….enc) and restored with it. Empty: plain (still 0600).
BACKUP_ENCRYPTION_KEY = env("BACKUP_ENCRYPTION_KEY", default="")
DEMO_PASSWORD = "funnel-demo"  # noqa: S105 - development demo only, refused in production
DEMO_USERS_ALLOWED = False
# The language of the demo data ``make run`` seeds (en or zh-hans): names, regions, notes.
DEMO_LANGUAGE = env("DEMO_LANGUAGE", default="en")
# The duplicate check names another team's owner (for conflict claims, 撞单) this many
# times an hour per user, each answer audited; after that it leaves the name out.
DUPLICATE_OWNER_NAMES_PER_HOUR = env.int("DUPLICATE_OWNER_NAMES_PER_HOUR", default=30)
# Spreadsheet imports: larger files are refused; files up to IMPORT_SYNC_MAX_BYTES are
# checked and imported within the request, larger ones by the worker (progress bar).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
IMPORT_SYNC_MAX_BYTES = env.int("IMPORT_SYNC_MAX_BYTES", default=256 * 1024)
# Idempotency-Key on API POSTs (config/idempotency.py): a key and its first answer are
# kept this many hours; a claim whose request has not answered after
# IDEMPOTENCY_ABANDONED_SECONDS (longer than any request runs: GUNICORN_TIMEOUT, 60 s) is
# taken over by a resend. A multipart body with a key is read to a temporary file to
# fingerprint it up to the largest upload any view accepts; a larger one goes on unclaimed
# to its view, which refuses it by its size.
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)
IDEMPOTENCY_ABANDONED_SECONDS = env.int("IDEMPOTENCY_ABANDONED_SECONDS", default=300)
IDEMPOTENCY_MAX_UPLOAD_BYTES = max(IMPORT_MAX_BYTES, VISIT_PHOTO_MAX_UPLOAD_BYTES) + 1024 * 1024
# Page forms carry a one-time token (static/js/app.js, config/form_tokens.py): a second
# post of the same form within this many seconds saves nothing.
FORM_TOKEN_SECONDS = 24 * 3600
# What one import may hold, refused with a message naming the cap before anything is
# written, at upload and again by the worker (crm/importing/limits.py): data rows below the
# header row, columns, characters in one cell; the used area of a sheet (rows × columns:
# the reader keeps a sheet as one dense grid) and what an .xlsx unpacks to (its parts, and
# the text its cells hold). With these, reading any file stays under 300 MB of memory.
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=50_000)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=200)
IMPORT_MAX_CELL_CHARS = env.int("IMPORT_MAX_CELL_CHARS", default=32_768)
IMPORT_MAX_CELLS = env.int("IMPORT_MAX_CELLS", default=1_000_000)
IMPORT_MAX_UNPACKED_BYTES = env.int("IMPORT_MAX_UNPACKED_BYTES", default=64 * 1024 * 1024)
# Tags are a shared vocabulary that admins curate: others pick from it, a customer has at
# most this many (so one request or import row gives at most this many).
MAX_TAGS_PER_CUSTOMER = env.int("MAX_TAGS_PER_CUSTOMER", default=20)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

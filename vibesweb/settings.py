"""Settings for vibesweb, read from the environment (django-environ).

Every variable has a default that runs on a laptop with no services: SQLite, a
filesystem Celery broker and a local-memory cache. Production sets them (README).
"""

from __future__ import annotations

import importlib.metadata
import sys
import warnings
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VIBESWEB_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

_DEV_SECRET_KEY = "dev-insecure-vibesweb-secret-key-change-me-in-production-0123456789"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# bin/run says it once and turns it off for the processes it starts (SECRET_KEY_WARNING).
_WARN_SECRET_KEY = env.bool("SECRET_KEY_WARNING", default=True) and "pytest" not in sys.modules
if SECRET_KEY == _DEV_SECRET_KEY and _WARN_SECRET_KEY:
    warnings.warn(
        "SECRET_KEY is the development default: set SECRET_KEY, DEBUG and ALLOWED_HOSTS "
        "before exposing vibesweb to anyone.",
        stacklevel=1,
    )

# HTTPS behind a proxy (README "Security"): all off by default so a laptop runs plain
# HTTP; `manage.py check --deploy` passes once production sets them.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# e.g. "HTTP_X_FORWARDED_PROTO,https": the header the proxy sets and the value meaning HTTPS.
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if _proxy_ssl_header else None
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from here, not a CDN
    "vibesweb.tenancy",
    "mobiledb",
    "campaigns",
    "wallet",
    "callbacks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "vibesweb.request_guard.RequestGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "vibesweb.middleware.PageMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "vibesweb.actors.ActingRequestMiddleware",
]

ROOT_URLCONF = "vibesweb.urls"
WSGI_APPLICATION = "vibesweb.wsgi.application"
# The API answers with and without a trailing slash; never redirect API calls.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web app, the worker and the scheduler read while one writes;
    # IMMEDIATE transactions take the write lock up front instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend plus a health check without a round trip and prepared statements
    # for the API's hot path (vibesweb/postgresql/base.py says why).
    DATABASES["default"]["ENGINE"] = "vibesweb.postgresql"
    if not env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        # behind a transaction-mode pooler older than PgBouncer 1.21
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
# Connections outlive a request: opening one cost more than the rest of a GET person
# (SQLite: connect, register functions, run the PRAGMAs, close, ~0.5 ms; PostgreSQL: a
# new backend). Health checks make a connection that died between requests (database
# restarted) be replaced instead of failing the next request; on PostgreSQL they poll the
# socket (a `SELECT 1` only when the server sent something), on SQLite they are free.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://vibesweb")}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="vibesweb <noreply@localhost>")

# Every password check (API Basic auth, admin login) is throttled (vibesweb.login_throttle).
AUTHENTICATION_BACKENDS = ["vibesweb.login_throttle.ThrottledModelBackend"]
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=900)
LOGIN_FAILURES_PER_USERNAME_ADDRESS = env.int("LOGIN_FAILURES_PER_USERNAME_ADDRESS", default=10)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=100)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
WHITENOISE_USE_FINDERS = True

# Bodies past this answer 413 with the errors body (vibesweb.api.parsers).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["vibesweb.api.authentication.CachedBasicAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "vibesweb.api.permissions.CompanyMemberPermission",
    ],
    "DEFAULT_VERSIONING_CLASS": "vibesweb.api.versioning.HeaderAPIVersioning",
    "DEFAULT_THROTTLE_CLASSES": ["vibesweb.api.throttling.CompanyRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "vibesweb.api.pagination.LinkHeaderCursorPagination",
    "DEFAULT_PARSER_CLASSES": [
        "vibesweb.api.parsers.BoundedJSONParser",
        "vibesweb.api.parsers.TextJSONParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["vibesweb.api.renderers.FastJSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "vibesweb.api.negotiation.FastContentNegotiation",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "vibesweb.api.schema.PlatformAutoSchema",
    "EXCEPTION_HANDLER": "vibesweb.api.exceptions.errors_body_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": False,
    "PAGE_SIZE": 100,
}

try:
    PRODUCT_VERSION = importlib.metadata.version("vibesweb")
except importlib.metadata.PackageNotFoundError:  # run from a checkout without `pip install`
    PRODUCT_VERSION = "0.0.0+source"

SPECTACULAR_SETTINGS = {
    "TITLE": "vibesweb API",
    "DESCRIPTION": (
        "Self-hosted Mobile Database speaking the Vibes Mobile Engagement Platform API. "
        "HTTP Basic auth; X-API-Version 1 (10-digit US MDNs) or 2 (E.164)."
    ),
    # the product's version; the wire versions are the X-API-Version header's 1 and 2
    "VERSION": PRODUCT_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["vibesweb.api.schema.drop_trailing_slash_duplicates"],
    # /api/schema, /api/docs and /api/redoc: public, or for signed-in users only
    # (API Basic auth, or an admin session for the browser pages).
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.AllowAny"
        if env.bool("API_DOCS_PUBLIC", default=True)
        else "rest_framework.permissions.IsAuthenticated"
    ],
    # The schema's own warnings (our header versioning is one spectacular does not know)
    # are not deployment problems: `check --deploy` stays about security settings, and
    # the schemathesis test (tests/hardening) fails on a schema that cannot be generated.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    "SERVE_AUTHENTICATION": [
        "vibesweb.api.authentication.CachedBasicAuthentication",  # first: 401, not 403
        "rest_framework.authentication.SessionAuthentication",
    ],
    # /api/docs and /api/redoc work without internet (issue 14).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Requests per second per company and rate class (seeds/003 "Rate Limiting").
API_RATE_LIMITS = {
    "inbound_events": env.int("RATE_LIMIT_INBOUND_EVENTS", default=300),
    "company": env.int("RATE_LIMIT_COMPANY", default=100),
    "mobile_app": env.int("RATE_LIMIT_MOBILE_APP", default=100),
    "other": env.int("RATE_LIMIT_OTHER", default=20),
}
API_RATE_LIMITS_ENABLED = env.bool("API_RATE_LIMITS_ENABLED", default=True)
# How long a verified Basic credential is trusted without re-hashing (seconds).
API_AUTH_CACHE_SECONDS = env.int("API_AUTH_CACHE_SECONDS", default=300)

# Person imports (mobiledb/imports): bounds that keep memory flat whatever the file.
PERSON_IMPORT_MAX_UPLOAD_BYTES = env.int("PERSON_IMPORT_MAX_UPLOAD_BYTES", default=2 * 1024**3)
PERSON_IMPORT_MAX_COLUMNS = env.int("PERSON_IMPORT_MAX_COLUMNS", default=1000)
PERSON_IMPORT_MAX_LINE_CHARS = env.int("PERSON_IMPORT_MAX_LINE_CHARS", default=1024 * 1024)
# A run renews its lease with every chunk; a lost worker's import resumes once it expires.
PERSON_IMPORT_LEASE_SECONDS = env.float("PERSON_IMPORT_LEASE_SECONDS", default=120.0)
PERSON_IMPORT_SWEEP_SECONDS = env.float("PERSON_IMPORT_SWEEP_SECONDS", default=30.0)

CALLBACK_ALLOW_PRIVATE_DESTINATIONS = env.bool("CALLBACK_ALLOW_PRIVATE_DESTINATIONS", default=False)
# Callback delivery (callbacks/, README "Callbacks").
CALLBACK_TIMEOUT_SECONDS = env.float("CALLBACK_TIMEOUT_SECONDS", default=10.0)
CALLBACK_BATCH_SIZE = env.int("CALLBACK_BATCH_SIZE", default=100)
CALLBACK_DRAIN_SECONDS = env.float("CALLBACK_DRAIN_SECONDS", default=20.0)
CALLBACK_SEND_THREADS = env.int("CALLBACK_SEND_THREADS", default=8)
CALLBACK_CONNECTIONS_PER_DESTINATION = env.int("CALLBACK_CONNECTIONS_PER_DESTINATION", default=4)
CALLBACK_GROUP_TIME_BUDGET_SECONDS = env.float("CALLBACK_GROUP_TIME_BUDGET_SECONDS", default=60.0)
CALLBACK_SWEEP_SECONDS = env.float("CALLBACK_SWEEP_SECONDS", default=5.0)
CALLBACK_STALE_SECONDS = env.float("CALLBACK_STALE_SECONDS", default=300.0)
CALLBACK_MAX_REOPENINGS = env.int("CALLBACK_MAX_REOPENINGS", default=3)
CALLBACK_DOWN_AFTER_FAILURES = env.int("CALLBACK_DOWN_AFTER_FAILURES", default=5)
CALLBACK_DOWN_BASE_SECONDS = env.float("CALLBACK_DOWN_BASE_SECONDS", default=30.0)
CALLBACK_DOWN_MAX_SECONDS = env.float("CALLBACK_DOWN_MAX_SECONDS", default=900.0)
CALLBACK_FAILURE_EMAIL_INTERVAL_SECONDS = env.int(
    "CALLBACK_FAILURE_EMAIL_INTERVAL_SECONDS", default=3600
)
CALLBACK_RETENTION_DAYS = env.int("CALLBACK_RETENTION_DAYS", default=30)

# Celery: the app is `vibesweb` (vibesweb/celery.py). With no broker configured a SQLite
# file under var/ is the broker (vibesweb/broker.py: no server, and a killed worker's
# tasks are delivered again), so one laptop runs everything.
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=f"sqlite:///{(VAR_DIR / 'broker.sqlite3').resolve()}"
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport, still accepted; it can lose a message (README).
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("out", "processed"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "polling_interval": 0.1,  # seconds; the default 1 s would delay every callback
        "control_folder": str(_broker_dir / "control"),  # not ./control in the cwd
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Each kind of work has its own queue, so a ten-million-row import never delays a
# callback (SPEC section 2); anything unrouted goes to "default".
CELERY_TASK_ROUTES = {
    "callbacks.*": {"queue": "callbacks"},
    "mobiledb.imports.*": {"queue": "imports"},
    "mobiledb.broadcast*": {"queue": "messaging"},
    "campaigns.incentives.code_upload": {"queue": "imports"},
    "campaigns.*": {"queue": "default"},
}
# Periodic work run by the scheduler (`celery -A vibesweb beat`, or `worker -B`):
CELERY_BEAT_SCHEDULE: dict = {}
# The sweep goes on the "default" queue, not behind the deliveries it recovers: in the
# 30-minute soak (benchmarks/soak.py) a backlog of delivery tasks on "callbacks" let
# every sweep expire unrun, so claims of a killed worker were never reopened.
CELERY_BEAT_SCHEDULE["callbacks-sweep"] = {
    "task": "callbacks.sweep",
    "schedule": CALLBACK_SWEEP_SECONDS,
    "options": {"queue": "default", "expires": CALLBACK_SWEEP_SECONDS * 2},
}
CELERY_BEAT_SCHEDULE["callbacks-prune"] = {
    "task": "callbacks.prune",
    "schedule": 600.0,
    "options": {"queue": "callbacks", "expires": 600.0},
}
CELERY_BEAT_SCHEDULE["imports-resume-stalled"] = {
    "task": "mobiledb.imports.resume_stalled",
    "schedule": PERSON_IMPORT_SWEEP_SECONDS,
    "options": {"queue": "imports", "expires": PERSON_IMPORT_SWEEP_SECONDS * 2},
}
# The persons list's search index (mobiledb.segments.search): indexed by the scheduler,
# never on the persons' write path. The mark stays LAG seconds behind each run's start
# (longer than any transaction writing persons); persons changed after it are scanned.
PERSON_SEARCH_INDEX_SECONDS = env.float("PERSON_SEARCH_INDEX_SECONDS", default=60.0)
PERSON_SEARCH_INDEX_LAG_SECONDS = env.int("PERSON_SEARCH_INDEX_LAG_SECONDS", default=120)
CELERY_BEAT_SCHEDULE["persons-search-index"] = {
    "task": "mobiledb.person_search_index",
    "schedule": PERSON_SEARCH_INDEX_SECONDS,
    "options": {"queue": "default", "expires": PERSON_SEARCH_INDEX_SECONDS * 2},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

LOGIN_URL = "admin:login"

# --- Subscriptions, campaigns, messaging and broadcasts (issue 5) ---
# Outbound SMS go through this backend (mobiledb.broadcasts.messaging); the default stores and logs.
MESSAGE_BACKEND = env.str(
    "MESSAGE_BACKEND", default="mobiledb.broadcasts.messaging.DatabaseMessageBackend"
)
# A double opt-in participation not confirmed within this many seconds expires.
ACQUISITION_PENDING_TTL_SECONDS = env.int("ACQUISITION_PENDING_TTL_SECONDS", default=24 * 3600)
# Persons per broadcast batch (one `messaging` task each).
BROADCAST_BATCH_SIZE = env.int("BROADCAST_BATCH_SIZE", default=1000)
# An in_progress broadcast with no progress for this long is resumed by the scheduler.
BROADCAST_STALL_SECONDS = env.int("BROADCAST_STALL_SECONDS", default=300)
# How often the scheduler looks for due broadcasts (and due time-zone passes).
BROADCAST_SCHEDULER_SECONDS = env.float("BROADCAST_SCHEDULER_SECONDS", default=15.0)
# A time-zone broadcast (send_schedule by_time_zone): the zone of persons without a valid
# one, unless the broadcast names its own; and the local hours no recipient is texted in.
BROADCAST_DEFAULT_TIME_ZONE = env.str("BROADCAST_DEFAULT_TIME_ZONE", default="UTC")
BROADCAST_QUIET_HOURS = env.str("BROADCAST_QUIET_HOURS", default="21:00-08:00")
CELERY_BEAT_SCHEDULE.update(
    {
        "broadcasts-start-due": {
            "task": "mobiledb.broadcasts_start_due",
            "schedule": BROADCAST_SCHEDULER_SECONDS,
        },
        "acquisition-expire-pending": {
            "task": "campaigns.participations_expire",
            "schedule": 60.0,
        },
        "acquisition-campaigns-roll-status": {
            "task": "campaigns.campaigns_roll_status",
            "schedule": 60.0,
        },
    }
)

# --- Wallet Manager (issue 11, SPEC section 10; README "Wallet") ---
# Absolute links (SmartLinks, webServiceURL); empty: the scheme and host of the request.
SITE_URL = env.str("SITE_URL", default="")
# Apple Wallet signing: all three files from Apple, or none (a development set is
# generated once under WALLET_DEV_CERT_DIR; iPhones refuse it, openssl verifies it).
WALLET_PASS_TYPE_ID = env.str("WALLET_PASS_TYPE_ID", default="pass.dev.vibesweb.wallet")
WALLET_TEAM_ID = env.str("WALLET_TEAM_ID", default="DEVTEAM000")
WALLET_PASS_CERT_FILE = env.str("WALLET_PASS_CERT_FILE", default="")
WALLET_PASS_KEY_FILE = env.str("WALLET_PASS_KEY_FILE", default="")
WALLET_PASS_KEY_PASSWORD = env.str("WALLET_PASS_KEY_PASSWORD", default="")
WALLET_WWDR_CERT_FILE = env.str("WALLET_WWDR_CERT_FILE", default="")
WALLET_DEV_CERT_DIR = env.str("WALLET_DEV_CERT_DIR", default=str(MEDIA_ROOT / "wallet-dev-keys"))
# Pushes to devices whose pass changed (wallet.push): database (default) or APNs.
WALLET_PUSH_BACKEND = env.str("WALLET_PUSH_BACKEND", default="wallet.push.DatabasePushBackend")
WALLET_APNS_URL = env.str("WALLET_APNS_URL", default="https://api.push.apple.com")
WALLET_APNS_CA_FILE = env.str("WALLET_APNS_CA_FILE", default="")
WALLET_APNS_TIMEOUT_SECONDS = env.float("WALLET_APNS_TIMEOUT_SECONDS", default=10.0)
# Items per wallet message batch (one `messaging` task each).
WALLET_MESSAGE_BATCH_SIZE = env.int("WALLET_MESSAGE_BATCH_SIZE", default=1000)
# Google Wallet: the issuer id and service account key file (JSON) of the Google Wallet
# API; empty: a development key is generated (Google refuses its links).
WALLET_GOOGLE_ISSUER_ID = env.str("WALLET_GOOGLE_ISSUER_ID", default="3388000000000000000")
WALLET_GOOGLE_SERVICE_ACCOUNT_FILE = env.str("WALLET_GOOGLE_SERVICE_ACCOUNT_FILE", default="")
# Google's callback signing keys (the JSON of https://pay.google.com/gp/m/issuer/keys),
# inline or as a file; callbacks cannot be verified (and are refused) without them.
WALLET_GOOGLE_CALLBACK_KEYS = env.str("WALLET_GOOGLE_CALLBACK_KEYS", default="")
WALLET_GOOGLE_CALLBACK_KEYS_FILE = env.str("WALLET_GOOGLE_CALLBACK_KEYS_FILE", default="")
CELERY_TASK_ROUTES["wallet.*"] = {"queue": "messaging"}

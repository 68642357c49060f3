"""Fieldline settings, read from the environment (12-factor).

SQLite under var/ by default; PostgreSQL when DATABASE_URL names it. With DEBUG off the
production hardening below applies and `manage.py check --deploy` is clean.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from fieldline.conf import environment_values

BASE_DIR = Path(__file__).resolve().parent.parent
ROOT_DIR = BASE_DIR.parent
VAR_DIR = ROOT_DIR / "var"

env = environ.Env()

# Off unless set: a deployment that forgets the variable runs as production (and then
# refuses to start without its own SECRET_KEY). `make demo` and the tests turn it on.
DEBUG = env.bool("DEBUG", default=False)
DEMO_SECRET_KEY = "insecure-demo-key-change-me-with-a-long-random-value-for-production-use"
SECRET_KEY = env.str("SECRET_KEY", default=DEMO_SECRET_KEY if DEBUG else "")
if not DEBUG and SECRET_KEY in ("", DEMO_SECRET_KEY):
    # Production never falls back to a built-in key: sessions, password reset tokens
    # and signed values would be forgeable by anyone who has read this file.
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value when DEBUG is false "
        "(for example: python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "sync",
    "stores",
    "surveys",
    # After surveys: photos register their sync entity after the surveys they belong to.
    "photos",
    "visits",
    "tasks",
    "planning",
    "crm",
    "reports",
    "hq",
    "demo",
    "fieldapp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "fieldline.middleware.BodySizeLimitMiddleware",
    "fieldline.middleware.InputGuardMiddleware",
    "fieldline.compression.CompressionMiddleware",
    "sync.device_middleware.DeviceHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "fieldline.locale.PageLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Sets the login brake's signed device cookie after a successful sign-in.
    "accounts.brake.DeviceCookieMiddleware",
    # Outside the views' reads: notes what a write left for the writer's next reads.
    "fieldline.replicas.ReadYourWritesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A strict Content-Security-Policy on every HTML page that sets none of its own.
    "fieldline.security.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "fieldline.urls"
WSGI_APPLICATION = "fieldline.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'fieldline.sqlite3'}"),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# Behind PgBouncer in transaction mode (DATABASE_POOLED=true) each transaction may run
# on another server connection: nothing may rely on session state. Django's server-side
# cursors (QuerySet.iterator() outside a transaction) are named cursors that live in a
# session, so they are off; and PgBouncer passes no startup options, so JIT is turned off
# on the database instead (`ALTER DATABASE fieldline SET jit = off`, see README).
DATABASE_POOLED = env.bool("DATABASE_POOLED", default=False)
if DATABASE_POOLED:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    # psycopg prepares a statement on the server once a connection has run it five times
    # (the server-bound cursors of sync/positions.py): a prepared statement is session
    # state too, and the next transaction may be on a server connection without it.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
if (
    DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    and not env.bool("DATABASE_JIT", default=False)
    and not DATABASE_POOLED
):
    # PostgreSQL's JIT compiles a query whose estimated cost is high; the completeness
    # scoring (one CASE branch per template, several subqueries per branch) looks costly to
    # the planner but runs in well under a second, while compiling it took ~30 s with 14,000
    # surveys. The app's queries are short OLTP/aggregate ones that JIT never pays off for.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["options"] = (
        DATABASES["default"]["OPTIONS"].get("options", "") + " -c jit=off"
    ).strip()
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # WAL lets readers go on while a push writes; IMMEDIATE avoids lock upgrades.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # Tests use a file too: live-server tests write from several threads at once, which an
    # in-memory database (table-level locks, no busy timeout) cannot take.
    # One per process, so that test runs side by side do not share it.
    DATABASES["default"].setdefault(
        "TEST", {"NAME": str(VAR_DIR / f"test-fieldline-{os.getpid()}.sqlite3")}
    )

# Read replicas: PostgreSQL streaming standbys of the primary, comma-separated. Each
# becomes an alias (replica_1, ...) that only the reads of a read context use (pulls,
# the rep's day, reports, HQ pages: fieldline/replicas.py); with none, all goes to the
# primary. A replica that does not answer within REPLICA_CONNECT_TIMEOUT_S seconds is
# taken out of rotation.
DATABASE_REPLICAS: list[str] = []
for _number, _url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[]), start=1):
    _alias = f"replica_{_number}"
    DATABASES[_alias] = environ.Env.db_url_config(_url)
    DATABASES[_alias]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES[_alias]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        **DATABASES[_alias].get("OPTIONS", {}),
        "connect_timeout": env.int("REPLICA_CONNECT_TIMEOUT_S", default=2),
    }
    # Pooled the same way as the primary (a pool per replica), or not at all.
    DATABASES[_alias]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASE_POOLED
    # Under test a replica is the test database itself (a mirror).
    DATABASES[_alias]["TEST"] = {"MIRROR": "default"}
    DATABASE_REPLICAS.append(_alias)
DATABASE_ROUTERS = ["fieldline.replicas.ReplicaRouter"]

# The HQ pages (hq/) log office users in with a session; the API uses tokens.
LOGIN_URL = "hq:login"
LOGIN_REDIRECT_URL = "hq:dashboard"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

AUTH_USER_MODEL = "accounts.User"
# Every sign-in (token API, HQ pages, admin) goes through the login brake.
AUTHENTICATION_BACKENDS = ["accounts.brake.BrakedModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Stored times are UTC (USE_TZ); pages show them in TIME_ZONE, the deployment's local
# time (`make demo`: Europe/Berlin). The HQ pages speak English and German: the browser's
# Accept-Language picks one, the language menu (set_language) overrides it.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English with a 24-hour clock and ISO dates (fieldline/formats/en); German as Django has it.
FORMAT_MODULE_PATH = ["fieldline.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Object storage: the local filesystem in the demo, S3 when a bucket is named.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=None)
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default=None)
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    STORAGES = {
        "default": {"BACKEND": "storages.backends.s3.S3Storage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
else:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

# Background jobs (fieldline/celery.py), on the broker CELERY_BROKER_URL names. Without
# one they run inline, in the process that enqueued them: the demo (DEBUG) needs no queue,
# and a run that wants that with DEBUG off says so (JOBS_INLINE=true: the tests' live
# servers, the bench). Otherwise a production process without a broker refuses to start
# rather than run every job inside the request that asked for it.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
JOBS_INLINE = env.bool("JOBS_INLINE", default=DEBUG)
if not CELERY_BROKER_URL and not JOBS_INLINE:
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL must name a broker when DEBUG is false "
        "(or set JOBS_INLINE=true to run background jobs inside the requests that enqueue them)."
    )
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# A job is acknowledged once it has finished, so a worker killed mid-job leaves it to be
# run again by another worker: jobs are written to be safe to repeat.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Periodic jobs, enqueued by `celery -A fieldline beat` (one scheduler per deployment):
# the nightly analytics recompute, then the call-center queues for the morning shift,
# and the housekeeping below.
CELERY_BEAT_SCHEDULE: dict = {
    "analytics-recompute": {
        "task": "crm.jobs.analytics_recompute_job",
        "schedule": crontab(hour=env.int("ANALYTICS_RECOMPUTE_HOUR", default=2), minute=0),
    },
    "call-queues": {
        "task": "crm.jobs.call_queues_generate_job",
        "schedule": crontab(hour=env.int("CALL_QUEUES_HOUR", default=5), minute=0),
    },
    "raise-followup-reminders": {
        "task": "visits.jobs.raise_followup_reminders",
        "schedule": crontab(minute=5),
    },
    # Thumbnails a lost or failed job did not make (bounded batch per run).
    "photo-thumbnails-sweep": {
        "task": "surveys.jobs.photo_thumbnails_sweep",
        "schedule": env.float("FIELDLINE_THUMBNAIL_SWEEP_EVERY_S", default=600.0),
    },
    # Coupons past their use window give their value back to the budget.
    "expire-coupons": {"task": "crm.jobs.expire_coupons", "schedule": crontab(minute="*/15")},
    # Records of WatermelonDB pull timestamps past WATERMELON_TIMESTAMP_RETENTION_DAYS.
    "watermelon-timestamps-prune": {
        "task": "sync.jobs.prune_watermelon_timestamps",
        "schedule": crontab(hour=4, minute=10),
    },
    # Export files, import uploads and deleted photos' bytes past their retention period.
    "storage-retention": {
        "task": "reports.storage_retention_sweep",
        "schedule": crontab(hour=env.int("STORAGE_RETENTION_HOUR", default=3), minute=30),
    },
}

# Request bodies: a sync push of 500 mutations fits well within this.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["knox.auth.TokenAuthentication"],
    "DEFAULT_PARSER_CLASSES": ["fieldline.parsers.JSONBodyParser"],
    # Client addresses come from X-Forwarded-For only behind this many trusted proxies;
    # otherwise a client could choose its own address and dodge the login brake.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "fieldline.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "fieldline.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": env.str("LOGIN_THROTTLE_RATE", default="10/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
if not DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer"]

REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("TOKEN_TTL_HOURS", default=24 * 30)),
    "AUTO_REFRESH": True,
    "TOKEN_LIMIT_PER_USER": None,
    "AUTH_HEADER_PREFIX": "Token",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Fieldline API",
    "DESCRIPTION": "Field sales backend with offline sync (see the sync endpoints).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "StoreStatusEnum": "stores.models.StoreStatus",
        "TaskStatusEnum": "tasks.models.TaskStatus",
        "SegmentEnum": "stores.models.Segment",
        "MutationStatusEnum": ["applied", "merged", "conflict", "rejected"],
        "PullChangeOpEnum": ["upsert", "delete"],
        "PushMutationOpEnum": ["create", "update", "delete"],
        "ExportKindEnum": "reports.models.ExportKind",
        "ExportStatusEnum": "reports.models.ExportStatus",
    },
}

# Business thresholds: each one's type, default and environment variable is declared in
# fieldline/conf.py, and code reads them through `fieldline.conf.fieldline_settings`. A key
# set below overrides the declared value; a key conf.py does not declare yet is kept.
FIELDLINE = {
    **environment_values(env),
    # The API's schema and docs need a login in production; the demo (DEBUG) shows them.
    "API_DOCS_LOGIN_REQUIRED": env.bool("FIELDLINE_API_DOCS_LOGIN_REQUIRED", default=not DEBUG),
    # The rep's app may send requests to these origins besides its own (CSP connect-src):
    # the object store that presigned photo uploads go to. Default: the S3 endpoint's
    # origin when a bucket is named (AWS itself without one).
    "APP_CONNECT_SRC": env.list(
        "FIELDLINE_APP_CONNECT_SRC",
        default=(
            []
            if not AWS_STORAGE_BUCKET_NAME
            else ["https://*.amazonaws.com"]
            if not AWS_S3_ENDPOINT_URL
            else ["{0.scheme}://{0.netloc}".format(urlsplit(AWS_S3_ENDPOINT_URL))]
        ),
    ),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

if not DEBUG:
    # Production runs behind a TLS-terminating proxy that sets X-Forwarded-Proto (and
    # strips any value a client sent); requests it forwarded as https count as secure.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Plain-http requests are redirected to https by Django. A deployment whose proxy
    # already redirects http to https may set SECURE_SSL_REDIRECT=false; that is a
    # declared choice, so the matching deploy-check warning (W008) is silenced with it.
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    if not SECURE_SSL_REDIRECT:
        SILENCED_SYSTEM_CHECKS = ["security.W008"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

"""Fieldline settings, read from the environment (12-factor).

SQLite under var/ by default; PostgreSQL when DATABASE_URL names it. With DEBUG off the
production hardening below applies and `manage.py check --deploy` is clean.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
ROOT_DIR = BASE_DIR.parent
VAR_DIR = ROOT_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)
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
    "crm",
    "reports",
    "hq",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "fieldline.middleware.BodySizeLimitMiddleware",
    "fieldline.compression.CompressionMiddleware",
    "sync.device_middleware.DeviceHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env.bool(
    "DATABASE_JIT", default=False
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

# The HQ pages (hq/) log office users in with a session; the API uses tokens.
LOGIN_URL = "hq:login"
LOGIN_REDIRECT_URL = "hq:dashboard"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
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

# Background jobs (fieldline/celery.py). With no broker named they run inline, in the
# process that enqueued them: the demo and the tests need no queue.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
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
        "ExportKindEnum": "reports.models.ExportKind",
        "ExportStatusEnum": "reports.models.ExportStatus",
    },
}

# Business thresholds; each is a default HQ may override through the environment.
FIELDLINE = {
    "GEOFENCE_RADIUS_M": env.float("FIELDLINE_GEOFENCE_RADIUS_M", default=150.0),
    # A check-in farther from the store than its fence: "off" measures only, "soft" flags
    # the visit for review, "hard" refuses it. Fences by trade-area type where the store
    # sets none (stations are large); the reported accuracy widens a fence by
    # ACCURACY_FACTOR x accuracy, at most MAX_SLACK_M.
    "GEOFENCE_MODE": env.str("FIELDLINE_GEOFENCE_MODE", default="soft"),
    "GEOFENCE_RADIUS_BY_TRADE_AREA": {"transit": 300.0},
    "GEOFENCE_ACCURACY_FACTOR": env.float("FIELDLINE_GEOFENCE_ACCURACY_FACTOR", default=1.0),
    "GEOFENCE_MAX_SLACK_M": env.float("FIELDLINE_GEOFENCE_MAX_SLACK_M", default=100.0),
    # Photo bytes: at most this many per upload (PUT /api/photos/{id}/content).
    "PHOTO_MAX_BYTES": env.int("FIELDLINE_PHOTO_MAX_BYTES", default=10 * 1024 * 1024),
    # Thumbnails of photo bytes (a background job): JPEG, longest edge at most this many px.
    "THUMBNAIL_MAX_EDGE_PX": env.int("FIELDLINE_THUMBNAIL_MAX_EDGE_PX", default=320),
    "THUMBNAIL_JPEG_QUALITY": env.int("FIELDLINE_THUMBNAIL_JPEG_QUALITY", default=85),
    # The periodic sweep makes at most this many missing thumbnails per run.
    "THUMBNAIL_SWEEP_BATCH": env.int("FIELDLINE_THUMBNAIL_SWEEP_BATCH", default=200),
    # Visit flags: a check-in farther than TRAVEL_TOLERANCE_M from the rep's previous or
    # next one, reached faster than MAX_TRAVEL_KMH, is impossible travel (within the
    # tolerance it is GPS jitter at the same place). Opening hours are read in the stores'
    # time zone.
    "VISIT_MAX_TRAVEL_KMH": env.float("FIELDLINE_VISIT_MAX_TRAVEL_KMH", default=120.0),
    "VISIT_TRAVEL_TOLERANCE_M": env.float("FIELDLINE_VISIT_TRAVEL_TOLERANCE_M", default=500.0),
    "STORE_TIME_ZONE": env.str("FIELDLINE_STORE_TIME_ZONE", default="Europe/Berlin"),
    "STALE_SURVEY_DAYS": env.int("FIELDLINE_STALE_SURVEY_DAYS", default=180),
    # A follow-up's owner is reminded this many days before it is due.
    "FOLLOWUP_REMIND_DAYS_BEFORE": env.int("FIELDLINE_FOLLOWUP_REMIND_DAYS_BEFORE", default=1),
    "LOGIN_FAILURE_LIMIT": env.int("FIELDLINE_LOGIN_FAILURE_LIMIT", default=5),
    "LOGIN_FAILURE_WINDOW_S": env.int("FIELDLINE_LOGIN_FAILURE_WINDOW_S", default=900),
    "PHONE_REGION": env.str("FIELDLINE_PHONE_REGION", default="DE"),
    "SYNC_MAX_MUTATIONS": 500,
    # Seconds a client is told to wait (Retry-After) when the database is unavailable.
    "RETRY_AFTER_S": env.int("FIELDLINE_RETRY_AFTER_S", default=5),
    # Larger bodies allowed on a few paths (photo bytes, order imports); everything else
    # uses DATA_UPLOAD_MAX_MEMORY_SIZE.
    "BODY_LIMITS": {
        "/api/imports/": env.int("FIELDLINE_IMPORT_MAX_BYTES", default=200 * 1024 * 1024),
        "/api/photos/": env.int("FIELDLINE_PHOTO_MAX_BYTES", default=10 * 1024 * 1024),
        # A WatermelonDB app pushes everything it changed offline in one request.
        "/api/sync/watermelon": env.int("FIELDLINE_WATERMELON_MAX_BYTES", default=20 * 1024 * 1024),
    },
    "SYNC_PULL_DEFAULT_LIMIT": 1000,
    "SYNC_PULL_MAX_LIMIT": 5000,
    # Orders import: CSV rows validated and written per chunk (a chunk ends at an order
    # boundary); at most this many rejected rows are listed in a report (all are counted).
    "ORDER_IMPORT_CHUNK_ROWS": env.int("FIELDLINE_ORDER_IMPORT_CHUNK_ROWS", default=5000),
    "ORDER_IMPORT_REJECTED_LISTED": env.int("FIELDLINE_ORDER_IMPORT_REJECTED_LISTED", default=1000),
    # RFM: F and M count the orders of this many days up to the as-of date.
    "RFM_WINDOW_DAYS": env.int("FIELDLINE_RFM_WINDOW_DAYS", default=90),
    # ABC grade = A when INTENT_WEIGHT * intent + (1 - INTENT_WEIGHT) * potential reaches
    # ABC_A_MIN, B from ABC_B_MIN, else C. Intent compares the orders of the last
    # ABC_TREND_DAYS with the ABC_TREND_DAYS before; potential comes from the latest survey
    # (footfall and area relative to the "full marks" values, key equipment, trade area).
    "ABC_TREND_DAYS": env.int("FIELDLINE_ABC_TREND_DAYS", default=45),
    "ABC_INTENT_WEIGHT": env.float("FIELDLINE_ABC_INTENT_WEIGHT", default=0.5),
    "ABC_A_MIN": env.float("FIELDLINE_ABC_A_MIN", default=0.65),
    "ABC_B_MIN": env.float("FIELDLINE_ABC_B_MIN", default=0.35),
    "ABC_FULL_FOOTFALL": env.int("FIELDLINE_ABC_FULL_FOOTFALL", default=1000),
    "ABC_FULL_AREA_M2": env.float("FIELDLINE_ABC_FULL_AREA_M2", default=120.0),
    # Churn warning: days since the last order above FACTOR x the store's average interval
    # between orders; stores with fewer than CHURN_MIN_ORDERS orders use their segment's.
    "CHURN_INTERVAL_FACTOR": env.float("FIELDLINE_CHURN_INTERVAL_FACTOR", default=2.0),
    "CHURN_MIN_ORDERS": env.int("FIELDLINE_CHURN_MIN_ORDERS", default=3),
    # A reactivation task for a flagged grade-A store is due this many days later.
    "REACTIVATION_DUE_DAYS": env.int("FIELDLINE_REACTIVATION_DUE_DAYS", default=7),
    # Anomalies: a drop of at least this share vs the same weekday a week before.
    "ANOMALY_DROP": env.float("FIELDLINE_ANOMALY_DROP", default=0.30),
    # ... and only when that earlier day's amount reached this much (below it is noise).
    "ANOMALY_MIN_BASELINE": env.float("FIELDLINE_ANOMALY_MIN_BASELINE", default=50.0),
    # Sales forecast: the comparable per-store sales of a trade-area type are averaged over
    # the orders of this many days up to the as-of date.
    "FORECAST_WINDOW_DAYS": env.int("FIELDLINE_FORECAST_WINDOW_DAYS", default=28),
    # Subsidies and coupons. A batch's claim window lasts at most (and by default)
    # COUPON_CLAIM_WINDOW_DAYS; a claimed coupon is usable for at most (and by default)
    # COUPON_USE_WINDOW_DAYS, and may still be redeemed COUPON_USE_GRACE_DAYS later for an
    # order dated within its window (orders arrive from the ERP a day or two late); a store
    # claims at most COUPON_PER_STORE_LIMIT coupons of a batch unless the batch says so.
    "COUPON_CLAIM_WINDOW_DAYS": env.int("FIELDLINE_COUPON_CLAIM_WINDOW_DAYS", default=90),
    "COUPON_USE_WINDOW_DAYS": env.int("FIELDLINE_COUPON_USE_WINDOW_DAYS", default=7),
    "COUPON_USE_GRACE_DAYS": env.int("FIELDLINE_COUPON_USE_GRACE_DAYS", default=2),
    "COUPON_PER_STORE_LIMIT": env.int("FIELDLINE_COUPON_PER_STORE_LIMIT", default=1),
    # Margin floor: orders carry no cost, so an order's margin is its amount x
    # COUPON_MARGIN_RATE (the gross margin rate); after the coupon it must stay at least
    # COUPON_MARGIN_FLOOR x the amount, i.e. a coupon is at most amount x (rate - floor).
    "COUPON_MARGIN_RATE": env.float("FIELDLINE_COUPON_MARGIN_RATE", default=0.30),
    "COUPON_MARGIN_FLOOR": env.float("FIELDLINE_COUPON_MARGIN_FLOOR", default=0.15),
    # Subsidy X = a + Y^t x (b - a): Y = weighted mean of the store's price sensitivity
    # (by RFM segment; stores without orders count as "") and its site potential (as in
    # the ABC grade); t is a campaign's default exponent.
    "SUBSIDY_SCORE_WEIGHTS": {"price_sensitivity": 0.5, "potential": 0.5},
    "SUBSIDY_PRICE_SENSITIVITY_BY_SEGMENT": {
        "head_active": 0.2,
        "head_warning": 0.6,
        "mid_growth": 0.5,
        "early_growth": 0.7,
        "mid_churn": 0.8,
        "tail_churn": 1.0,
        "": 0.5,
    },
    "SUBSIDY_EXPONENT_T": env.float("FIELDLINE_SUBSIDY_EXPONENT_T", default=1.0),
    # A campaign's default share of its target stores held out (no coupons) for comparison.
    "SUBSIDY_HOLDOUT_SHARE": env.float("FIELDLINE_SUBSIDY_HOLDOUT_SHARE", default=0.10),
    # Alerts: a budget with at least this share reserved or used is nearly spent ...
    "SUBSIDY_BUDGET_ALERT_SHARE": env.float("FIELDLINE_SUBSIDY_BUDGET_ALERT_SHARE", default=0.90),
    # ... and a campaign that has spent, running at least SUBSIDY_ALERT_MIN_DAYS, whose
    # treated stores' GMV growth beats the holdout's by less than SUBSIDY_ALERT_MIN_UPLIFT
    # (a fraction: 0.02 = two points of growth) is spending without effect.
    "SUBSIDY_ALERT_MIN_DAYS": env.int("FIELDLINE_SUBSIDY_ALERT_MIN_DAYS", default=14),
    "SUBSIDY_ALERT_MIN_UPLIFT": env.float("FIELDLINE_SUBSIDY_ALERT_MIN_UPLIFT", default=0.0),
    # Tags computed by the analytics recompute (crm/analytics/tags.py). Fact tags:
    # `new_customer` for a first order at most this many days ago; `high_footfall` from this
    # many weekday passers-by in the latest survey.
    "TAG_NEW_CUSTOMER_DAYS": env.int("FIELDLINE_TAG_NEW_CUSTOMER_DAYS", default=30),
    "TAG_HIGH_FOOTFALL": env.int("FIELDLINE_TAG_HIGH_FOOTFALL", default=500),
    # Model tags: a weighted sum of site and sales features (each in [0, 1]; names in
    # crm/analytics/tags.py MODEL_FEATURES) reaching `min_score`.
    "TAG_MODELS": {
        "lunch_potential": {
            "weights": {"footfall": 0.4, "lunch_trade_area": 0.3, "hot_food_equipment": 0.3},
            "min_score": env.float("FIELDLINE_TAG_LUNCH_POTENTIAL_MIN", default=0.6),
        },
        "growing": {
            "weights": {"intent": 0.7, "recent_order": 0.3},
            "min_score": env.float("FIELDLINE_TAG_GROWING_MIN", default=0.8),
        },
    },
    # Call center: the SLA of each queue (hours from a call's creation to its deadline).
    "CALL_SLA_HOURS": {
        "reactivation": env.int("FIELDLINE_CALL_SLA_HOURS_REACTIVATION", default=48),
        "survey_by_phone": env.int("FIELDLINE_CALL_SLA_HOURS_SURVEY", default=120),
        "new_customer_callback": env.int("FIELDLINE_CALL_SLA_HOURS_CALLBACK", default=24),
    },
    # A claimed call not completed within this many hours of its claim goes back to its
    # queue at the next periodic fill (an agent who left it would otherwise hold it forever).
    "CALL_CLAIM_TIMEOUT_HOURS": env.int("FIELDLINE_CALL_CLAIM_TIMEOUT_HOURS", default=8),
    # An open call nobody claimed this many hours past its deadline expires.
    "CALL_EXPIRE_AFTER_HOURS": env.int("FIELDLINE_CALL_EXPIRE_AFTER_HOURS", default=72),
    # A store gets no new reactivation or survey call within this many days of its last one.
    "CALL_REPEAT_AFTER_DAYS": env.int("FIELDLINE_CALL_REPEAT_AFTER_DAYS", default=30),
    # Survey by phone: stores whose latest survey is older than STALE_SURVEY_DAYS (or that
    # have none), at most this many new calls per run, the longest unsurveyed first.
    "CALL_SURVEY_PER_RUN": env.int("FIELDLINE_CALL_SURVEY_PER_RUN", default=200),
    # New customers are called back on these days after their first order, each within
    # a grace window of this many days (a day missed by the job is caught up).
    "NEW_CUSTOMER_CALLBACK_DAYS": env.list(
        "FIELDLINE_NEW_CUSTOMER_CALLBACK_DAYS", cast=int, default=[3, 14, 30]
    ),
    "NEW_CUSTOMER_CALLBACK_GRACE_DAYS": env.int(
        "FIELDLINE_NEW_CUSTOMER_CALLBACK_GRACE_DAYS", default=7
    ),
    # A follow-up date from a call outcome may lie at most this many days ahead.
    "CALL_NEXT_CONTACT_MAX_DAYS": env.int("FIELDLINE_CALL_NEXT_CONTACT_MAX_DAYS", default=365),
    # HQ map: a store whose latest survey scores below this is drawn as "poor".
    "MAP_SCORE_POOR_BELOW": env.float("FIELDLINE_MAP_SCORE_POOR_BELOW", default=0.5),
    # HQ analytics: the daily orders chart covers this many days.
    "ANALYTICS_CHART_DAYS": env.int("FIELDLINE_ANALYTICS_CHART_DAYS", default=28),
    # --- Sync on mobile networks ---
    # Answers on these paths are gzipped when Accept-Encoding allows it (streams as they
    # stream), at this zlib level (1 fastest .. 9 smallest).
    "COMPRESSED_PATHS": ("/api/sync/", "/api/exports/"),
    "COMPRESSION_LEVEL": env.int("FIELDLINE_COMPRESSION_LEVEL", default=6),
    # Pushes and pulls from an app older than this semantic version (X-App-Version) are
    # answered 426; empty: no minimum. Requests without the header are always served.
    "MIN_APP_VERSION": env.str("FIELDLINE_MIN_APP_VERSION", default=""),
    # A presigned photo upload URL (POST /api/photos/{id}/upload) works this many seconds.
    "PHOTO_UPLOAD_URL_TTL_S": env.int("FIELDLINE_PHOTO_UPLOAD_URL_TTL_S", default=900),
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

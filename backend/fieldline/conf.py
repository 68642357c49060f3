"""The FIELDLINE business thresholds: each one's type, default and environment variable in
one place, read through one typed accessor (the pattern of DRF's `api_settings`).

    from fieldline.conf import fieldline_settings
    fieldline_settings.GEOFENCE_RADIUS_M  # a float, whoever overrode it

Where a value comes from, last one wins: the default below; its environment variable
(`FIELDLINE_<NAME>` unless stated), read once by `environment_values` when the settings
load; a key of `settings.FIELDLINE` (a deployment's settings module, or a test's
`settings.FIELDLINE = {...}`: the accessor reloads when that setting changes). A key this
module does not declare yet is kept as given and readable as an attribute, so a new
threshold added to `settings.FIELDLINE` alone works before it is declared here.
"""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import environ

# Keys whose value does not come from one `FIELDLINE_<NAME>` variable: no variable at all
# (None), another name, or per-entry variables (the nested mappings, see below).
_ENV_NAMES: dict[str, str | None] = {
    "GEOFENCE_RADIUS_BY_TRADE_AREA": None,
    "SYNC_MAX_MUTATIONS": None,
    "SYNC_PULL_DEFAULT_LIMIT": None,
    "SYNC_PULL_MAX_LIMIT": None,
    "SUBSIDY_SCORE_WEIGHTS": None,
    "SUBSIDY_PRICE_SENSITIVITY_BY_SEGMENT": None,
    "BODY_LIMITS": None,
    "TAG_MODELS": None,
    "CALL_SLA_HOURS": None,
    # Computed from the object storage settings in settings.py, with its own variable there.
    "APP_CONNECT_SRC": None,
    "COMPRESSED_PATHS": None,
    "PLAN_FREQUENCY_WEEKS": None,
    "PLAN_VISIT_MINUTES": None,
}
# The nested thresholds' entries that have a variable of their own:
# (key, entry, field of the entry or None for the entry itself, variable, type).
_ENTRY_VARIABLES: tuple[tuple[str, str, str | None, str, type], ...] = (
    ("BODY_LIMITS", "/api/imports/", None, "FIELDLINE_IMPORT_MAX_BYTES", int),
    ("BODY_LIMITS", "/api/photos/", None, "FIELDLINE_PHOTO_MAX_BYTES", int),
    ("BODY_LIMITS", "/api/sync/watermelon", None, "FIELDLINE_WATERMELON_MAX_BYTES", int),
    ("TAG_MODELS", "lunch_potential", "min_score", "FIELDLINE_TAG_LUNCH_POTENTIAL_MIN", float),
    ("TAG_MODELS", "growing", "min_score", "FIELDLINE_TAG_GROWING_MIN", float),
    ("CALL_SLA_HOURS", "reactivation", None, "FIELDLINE_CALL_SLA_HOURS_REACTIVATION", int),
    ("CALL_SLA_HOURS", "survey_by_phone", None, "FIELDLINE_CALL_SLA_HOURS_SURVEY", int),
    ("CALL_SLA_HOURS", "new_customer_callback", None, "FIELDLINE_CALL_SLA_HOURS_CALLBACK", int),
)
MB = 1024 * 1024


@dataclass(frozen=True)
class FieldlineSettings:
    """Every threshold with its default; the comments say what each one decides."""

    # Geofences. A check-in farther from the store than its fence: "off" measures only,
    # "soft" flags the visit for review, "hard" refuses it. Fences by trade-area type where
    # the store sets none (stations are large); the reported accuracy widens a fence by
    # ACCURACY_FACTOR x accuracy, at most MAX_SLACK_M.
    GEOFENCE_RADIUS_M: float = 150.0
    GEOFENCE_MODE: str = "soft"
    GEOFENCE_RADIUS_BY_TRADE_AREA: dict[str, float] = field(
        default_factory=lambda: {"transit": 300.0}
    )
    GEOFENCE_ACCURACY_FACTOR: float = 1.0
    GEOFENCE_MAX_SLACK_M: float = 100.0
    # Photo bytes: at most this many per upload (PUT /api/photos/{id}/content).
    PHOTO_MAX_BYTES: int = 10 * MB
    # Thumbnails of photo bytes (a background job): JPEG, longest edge at most this many
    # px; the periodic sweep makes at most THUMBNAIL_SWEEP_BATCH missing ones per run.
    THUMBNAIL_MAX_EDGE_PX: int = 320
    THUMBNAIL_JPEG_QUALITY: int = 85
    THUMBNAIL_SWEEP_BATCH: int = 200
    # Visit flags: a check-in farther than TRAVEL_TOLERANCE_M from the rep's previous or
    # next one, reached faster than MAX_TRAVEL_KMH, is impossible travel (within the
    # tolerance it is GPS jitter at the same place). Opening hours are read in the stores'
    # time zone.
    VISIT_MAX_TRAVEL_KMH: float = 120.0
    VISIT_TRAVEL_TOLERANCE_M: float = 500.0
    STORE_TIME_ZONE: str = "Europe/Berlin"
    STALE_SURVEY_DAYS: int = 180
    # A follow-up's owner is reminded this many days before it is due.
    FOLLOWUP_REMIND_DAYS_BEFORE: int = 1
    # The login brake (accounts/brake.py): failures per name and address, per address for
    # any names, counted over the window since the last one; past LOGIN_FAILURE_LIMIT an
    # account waits LOGIN_DELAY_BASE_S, doubling per failure up to LOGIN_DELAY_MAX_S,
    # unless the right password comes from a device that signed in to it before (a signed
    # cookie, LOGIN_DEVICE_COOKIE_DAYS long).
    LOGIN_FAILURE_LIMIT: int = 5
    LOGIN_FAILURE_WINDOW_S: int = 900
    LOGIN_ADDRESS_FAILURE_LIMIT: int = 30
    LOGIN_DELAY_BASE_S: int = 2
    LOGIN_DELAY_MAX_S: int = 600
    LOGIN_DEVICE_COOKIE_DAYS: int = 180
    # /api/schema/ and /api/docs/ only for a signed-in user (a token, or an HQ session).
    # On by default; off with DEBUG unless FIELDLINE_API_DOCS_LOGIN_REQUIRED says otherwise
    # (settings.py), so the demo shows the docs to anyone.
    API_DOCS_LOGIN_REQUIRED: bool = True
    PHONE_REGION: str = "DE"
    SYNC_MAX_MUTATIONS: int = 500
    # Seconds a client is told to wait (Retry-After) when the database is unavailable.
    RETRY_AFTER_S: int = 5
    # Larger bodies allowed on a few paths (photo bytes, order imports); everything else
    # uses DATA_UPLOAD_MAX_MEMORY_SIZE. A WatermelonDB app pushes everything it changed
    # offline in one request.
    BODY_LIMITS: dict[str, int] = field(
        default_factory=lambda: {
            "/api/imports/": 200 * MB,
            "/api/photos/": 10 * MB,
            "/api/sync/watermelon": 20 * MB,
        }
    )
    # Every value a client sends (fieldline/inputs.py): JSON nested at most this deep (far
    # below PostgreSQL's jsonb limit), object keys (field names) at most this long; a list
    # in a filter (a query parameter's comma-separated or repeated values, a dispatch's
    # store selection) at most FILTER_MAX_ITEMS items; a query parameter value at most
    # QUERY_VALUE_MAX_LENGTH characters and a header at most HEADER_MAX_LENGTH.
    INPUT_MAX_DEPTH: int = 32
    INPUT_MAX_KEY_LENGTH: int = 100
    FILTER_MAX_ITEMS: int = 100
    QUERY_VALUE_MAX_LENGTH: int = 8192
    HEADER_MAX_LENGTH: int = 8192
    # Photo bytes whose image header declares more pixels than this (width x height) are
    # refused on upload and never decoded (a 445 KB PNG may declare 12,000 x 12,000).
    IMAGE_MAX_PIXELS: int = 50_000_000
    # Thumbnails are decoded in a worker process limited to this much memory and time.
    THUMBNAIL_WORKER_MAX_MB: int = 1024
    THUMBNAIL_WORKER_TIMEOUT_S: float = 60.0
    # GET /api/stores/duplicates: pairs and phone groups per page (default, most), and the
    # nearest neighbours each store is compared with by name (the work per store is
    # bounded, whatever the number of similar stores on one spot).
    DUPLICATES_PAGE_SIZE: int = 50
    DUPLICATES_MAX_PAGE_SIZE: int = 200
    DUPLICATES_MAX_CANDIDATES: int = 10
    SYNC_PULL_DEFAULT_LIMIT: int = 1000
    SYNC_PULL_MAX_LIMIT: int = 5000
    # WatermelonDB pull timestamps are recorded so that, after a restore, the server knows
    # which ones it issued; a daily job drops records older than this. A phone that last
    # pulled before then gets a replacement pull after a restore (safe, only larger).
    WATERMELON_TIMESTAMP_RETENTION_DAYS: int = 90
    # Orders import: CSV rows validated and written per chunk (a chunk ends at an order
    # boundary); at most this many rejected rows are listed in a report (all are counted).
    ORDER_IMPORT_CHUNK_ROWS: int = 5000
    ORDER_IMPORT_REJECTED_LISTED: int = 1000
    # RFM: F and M count the orders of this many days up to the as-of date.
    RFM_WINDOW_DAYS: int = 90
    # ABC grade = A when INTENT_WEIGHT * intent + (1 - INTENT_WEIGHT) * potential reaches
    # ABC_A_MIN, B from ABC_B_MIN, else C. Intent compares the orders of the last
    # ABC_TREND_DAYS with the ABC_TREND_DAYS before; potential comes from the latest survey
    # (footfall and area relative to the "full marks" values, key equipment, trade area).
    ABC_TREND_DAYS: int = 45
    ABC_INTENT_WEIGHT: float = 0.5
    ABC_A_MIN: float = 0.65
    ABC_B_MIN: float = 0.35
    ABC_FULL_FOOTFALL: int = 1000
    ABC_FULL_AREA_M2: float = 120.0
    # Churn warning: days since the last order above FACTOR x the store's average interval
    # between orders; stores with fewer than CHURN_MIN_ORDERS orders use their segment's.
    CHURN_INTERVAL_FACTOR: float = 2.0
    CHURN_MIN_ORDERS: int = 3
    # A reactivation task for a flagged grade-A store is due this many days later.
    REACTIVATION_DUE_DAYS: int = 7
    # A dispatch names a due date; the one offered (the HQ form's, and the API's when the
    # request leaves it out) is this many days after today.
    DISPATCH_DUE_DAYS: int = 7
    # Anomalies: a drop of at least this share vs the same weekday a week before, and only
    # when that earlier day's amount reached ANOMALY_MIN_BASELINE (below it is noise).
    ANOMALY_DROP: float = 0.30
    ANOMALY_MIN_BASELINE: float = 50.0
    # Sales forecast: the comparable per-store sales of a trade-area type are averaged over
    # the orders of this many days up to the as-of date.
    FORECAST_WINDOW_DAYS: int = 28
    # Subsidies and coupons. A batch's claim window lasts at most (and by default)
    # COUPON_CLAIM_WINDOW_DAYS; a claimed coupon is usable for at most (and by default)
    # COUPON_USE_WINDOW_DAYS, and may still be redeemed COUPON_USE_GRACE_DAYS later for an
    # order dated within its window (orders arrive from the ERP a day or two late); a store
    # claims at most COUPON_PER_STORE_LIMIT coupons of a batch unless the batch says so.
    COUPON_CLAIM_WINDOW_DAYS: int = 90
    COUPON_USE_WINDOW_DAYS: int = 7
    COUPON_USE_GRACE_DAYS: int = 2
    COUPON_PER_STORE_LIMIT: int = 1
    # Margin floor: orders carry no cost, so an order's margin is its amount x
    # COUPON_MARGIN_RATE (the gross margin rate); after the coupon it must stay at least
    # COUPON_MARGIN_FLOOR x the amount, i.e. a coupon is at most amount x (rate - floor).
    COUPON_MARGIN_RATE: float = 0.30
    COUPON_MARGIN_FLOOR: float = 0.15
    # Subsidy X = a + Y^t x (b - a): Y = weighted mean of the store's price sensitivity
    # (by RFM segment; stores without orders count as "") and its site potential (as in
    # the ABC grade); t is a campaign's default exponent.
    SUBSIDY_SCORE_WEIGHTS: dict[str, float] = field(
        default_factory=lambda: {"price_sensitivity": 0.5, "potential": 0.5}
    )
    SUBSIDY_PRICE_SENSITIVITY_BY_SEGMENT: dict[str, float] = field(
        default_factory=lambda: {
            "head_active": 0.2,
            "head_warning": 0.6,
            "mid_growth": 0.5,
            "early_growth": 0.7,
            "mid_churn": 0.8,
            "tail_churn": 1.0,
            "": 0.5,
        }
    )
    SUBSIDY_EXPONENT_T: float = 1.0
    # A campaign's default share of its target stores held out (no coupons) for comparison.
    SUBSIDY_HOLDOUT_SHARE: float = 0.10
    # Alerts: a budget with at least this share reserved or used is nearly spent, and a
    # campaign that has spent, running at least SUBSIDY_ALERT_MIN_DAYS, whose treated
    # stores' GMV growth beats the holdout's by less than SUBSIDY_ALERT_MIN_UPLIFT (a
    # fraction: 0.02 = two points of growth) is spending without effect.
    SUBSIDY_BUDGET_ALERT_SHARE: float = 0.90
    SUBSIDY_ALERT_MIN_DAYS: int = 14
    SUBSIDY_ALERT_MIN_UPLIFT: float = 0.0
    # Tags computed by the analytics recompute (crm/analytics/tags.py). Fact tags: a store
    # is a `new_customer` from its first order until this order, which makes it
    # `established` (the order from which the relationship has been found to be stable;
    # new-customer callbacks stop then); `high_footfall` from this many weekday passers-by
    # in the latest survey.
    ESTABLISHED_FROM_ORDER: int = 9
    TAG_HIGH_FOOTFALL: int = 500
    # Model tags: a weighted sum of site and sales features (each in [0, 1]; names in
    # crm/analytics/tags.py MODEL_FEATURES) reaching `min_score`.
    TAG_MODELS: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            "lunch_potential": {
                "weights": {"footfall": 0.4, "lunch_trade_area": 0.3, "hot_food_equipment": 0.3},
                "min_score": 0.6,
            },
            "growing": {"weights": {"intent": 0.7, "recent_order": 0.3}, "min_score": 0.8},
        }
    )
    # Call center: the SLA of each queue (hours from a call's creation to its deadline).
    CALL_SLA_HOURS: dict[str, int] = field(
        default_factory=lambda: {
            "reactivation": 48,
            "survey_by_phone": 120,
            "new_customer_callback": 24,
        }
    )
    # A claimed call not completed within this many hours of its claim goes back to its
    # queue at the next periodic fill (an agent who left it would otherwise hold it forever).
    CALL_CLAIM_TIMEOUT_HOURS: int = 8
    # An open call nobody claimed this many hours past its deadline expires.
    CALL_EXPIRE_AFTER_HOURS: int = 72
    # A store gets no new reactivation or survey call within this many days of its last one.
    CALL_REPEAT_AFTER_DAYS: int = 30
    # Survey by phone: stores whose latest survey is older than STALE_SURVEY_DAYS (or that
    # have none), at most this many new calls per run, the longest unsurveyed first.
    CALL_SURVEY_PER_RUN: int = 200
    # New customers are called back on these days after their first order, each within
    # a grace window of this many days (a day missed by the job is caught up).
    NEW_CUSTOMER_CALLBACK_DAYS: list[int] = field(default_factory=lambda: [3, 14, 30])
    NEW_CUSTOMER_CALLBACK_GRACE_DAYS: int = 7
    # A follow-up date from a call outcome may lie at most this many days ahead.
    CALL_NEXT_CONTACT_MAX_DAYS: int = 365
    # A store that said "not interested" on a call gets no reactivation call for this long.
    CALL_NOT_INTERESTED_PAUSE_DAYS: int = 90
    # Storage retention (reports.retention, daily): export files are removed this many days
    # after they were made, order-import uploads after their import finished, the bytes and
    # thumbnails of deleted photos after the deletion; at most RETENTION_BATCH of each a run.
    EXPORT_RETENTION_DAYS: int = 7
    IMPORT_UPLOAD_RETENTION_DAYS: int = 30
    DELETED_PHOTO_RETENTION_DAYS: int = 30
    RETENTION_BATCH: int = 1000
    # Sync on mobile networks. Answers on these paths are gzipped when Accept-Encoding
    # allows it (streams as they stream), at this zlib level (1 fastest .. 9 smallest).
    COMPRESSED_PATHS: list[str] = field(default_factory=lambda: ["/api/sync/", "/api/exports/"])
    COMPRESSION_LEVEL: int = 6
    # Pushes and pulls from an app older than this semantic version (X-App-Version) are
    # answered 426; empty: no minimum. Requests without the header are always served.
    MIN_APP_VERSION: str = ""
    # A presigned photo upload URL (POST /api/photos/{id}/upload) works this many seconds.
    PHOTO_UPLOAD_URL_TTL_S: int = 900
    # The rep's app (/app/). The semantic version it sends as X-App-Version: raise it with
    # every release of the app's files, so a server's minimum version can turn old copies
    # away. While open and online it syncs every APP_SYNC_EVERY_S (and on start, on
    # reconnect, on demand). APP_CONNECT_SRC: origins besides its own it may send requests
    # to (the object store of presigned photo uploads; settings.py derives the default).
    APP_VERSION: str = "1.0.0"
    APP_SYNC_EVERY_S: int = 180
    APP_CONNECT_SRC: list[str] = field(default_factory=list)
    # HQ map: a store whose latest survey scores below this is drawn as "poor".
    MAP_SCORE_POOR_BELOW: float = 0.5
    # HQ map base layer: a tile URL template ({z}/{x}/{y}, optionally {s} and {r}) and the
    # attribution its provider asks for (HTML, shown in the map's corner), at most
    # MAP_TILES_MAX_ZOOM. OpenStreetMap's standard tiles by default (mind their usage
    # policy: a busy deployment points this at its own or a commercial tile server);
    # empty: no base map and no request to any other host (the tests).
    MAP_TILES_URL: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    MAP_TILES_ATTRIBUTION: str = (
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    )
    MAP_TILES_MAX_ZOOM: int = 19
    # The currency of order amounts (ISO 4217), shown with every amount on the HQ pages.
    CURRENCY: str = "EUR"
    # HQ analytics: the daily orders chart covers this many days.
    ANALYTICS_CHART_DAYS: int = 28
    # Visit plans: the defaults of a region's plan rules until its manager sets its own
    # (PUT /api/plans/rules). Weeks between visits by grade (a store without a grade as C),
    # prospects every PLAN_PROSPECT_WEEKS (0: not planned), minutes a visit takes by grade,
    # a rep's working minutes a day (visits plus the drive between them at
    # PLAN_TRAVEL_KMH), working ISO weekdays (Monday = 1). A plan covers at most
    # PLAN_MAX_WEEKS weeks.
    PLAN_FREQUENCY_WEEKS: dict[str, int] = field(default_factory=lambda: {"A": 1, "B": 2, "C": 4})
    PLAN_PROSPECT_WEEKS: int = 0
    PLAN_VISIT_MINUTES: dict[str, int] = field(default_factory=lambda: {"A": 30, "B": 20, "C": 15})
    PLAN_DAY_MINUTES: int = 420
    PLAN_WORK_DAYS: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5])
    PLAN_TRAVEL_KMH: float = 25.0
    PLAN_MAX_WEEKS: int = 12
    # Read replicas (DATABASE_REPLICA_URLS, fieldline/replicas.py). A replica whose replay
    # is more than REPLICA_MAX_LAG_S behind, or that does not answer, is out of rotation
    # and its reads go to the primary; each process asks a replica how it is at most every
    # REPLICA_HEALTH_TTL_S. What a user has seen (the WAL position of their last push or
    # read) is remembered in the shared cache for REPLICA_SEEN_TTL_S, so that their next
    # reads come from a replica that has replayed it, or from the primary.
    REPLICA_MAX_LAG_S: float = 10.0
    REPLICA_HEALTH_TTL_S: float = 2.0
    REPLICA_SEEN_TTL_S: int = 3600
    # Keys of settings.FIELDLINE not declared above, as given.
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __getattr__(self, name: str) -> Any:
        """A key not declared above reads from the settings as given."""
        extra = self.__dict__.get("extra", {})
        if name in extra:
            return extra[name]
        raise AttributeError(f"FIELDLINE has no setting {name!r}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "FieldlineSettings":
        declared = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {key: value for key, value in values.items() if key in declared}
        extra = {key: value for key, value in values.items() if key not in declared}
        return cls(**known, extra=extra)


DECLARED = tuple(f for f in dataclasses.fields(FieldlineSettings) if f.name != "extra")


def _default(spec: dataclasses.Field) -> Any:
    if spec.default_factory is not dataclasses.MISSING:
        return spec.default_factory()
    return spec.default


def environment_values(env: environ.Env) -> dict[str, Any]:
    """Every declared threshold: its default, or the value of its environment variable.
    The settings module puts these in `FIELDLINE`."""
    values: dict[str, Any] = {}
    for spec in DECLARED:
        default = _default(spec)
        name = _ENV_NAMES.get(spec.name, f"FIELDLINE_{spec.name}")
        if name is None:
            values[spec.name] = default
        elif isinstance(default, list):
            values[spec.name] = env.list(name, cast=int, default=default)
        else:
            values[spec.name] = env.get_value(name, cast=type(default), default=default)
    for key, entry, field_name, variable, cast_to in _ENTRY_VARIABLES:
        holder = values[key][entry] if field_name else values[key]
        name = field_name or entry
        holder[name] = env.get_value(variable, cast=cast_to, default=holder[name])
    return values


class _Accessor:
    """`fieldline_settings`: the thresholds as a FieldlineSettings, built from
    settings.FIELDLINE on first use and again whenever that setting changes."""

    _loaded: FieldlineSettings | None = None

    def _settings(self) -> FieldlineSettings:
        if self._loaded is None:
            from django.conf import settings

            self._loaded = FieldlineSettings.from_mapping(getattr(settings, "FIELDLINE", {}))
        return self._loaded

    def __getattr__(self, name: str) -> Any:
        return getattr(self._settings(), name)

    def reload(self) -> None:
        self._loaded = None


# Typed as what it reads: attribute access goes to a FieldlineSettings.
fieldline_settings = cast(FieldlineSettings, _Accessor())


def _reload_on_change(*, setting: str, **kwargs: Any) -> None:
    if setting == "FIELDLINE":
        cast(_Accessor, fieldline_settings).reload()


def connect_reload() -> None:
    from django.core.signals import setting_changed

    setting_changed.connect(_reload_on_change, dispatch_uid="fieldline-conf-reload")


connect_reload()

"""Deploy checks of the deployment's shape (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Error

PROCESS_LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def shared_cache_check(app_configs=None, **kwargs) -> list[Error]:
    """A deployment that says it has several app servers (replicas, a pool) must share its
    cache: the login brake, the login throttle and the read-your-writes notes live there,
    and a per-process cache would give each server its own (a guesser gets a brake per
    server; a phone's pull on another server would not know its push)."""
    several = bool(getattr(settings, "DATABASE_REPLICAS", [])) or getattr(
        settings, "DATABASE_POOLED", False
    )
    backend = settings.CACHES["default"]["BACKEND"]
    if several and backend in PROCESS_LOCAL_CACHES:
        return [
            Error(
                "The cache is in-process memory, but this deployment runs several app "
                "servers (DATABASE_REPLICA_URLS or DATABASE_POOLED is set).",
                hint="Set CACHE_URL to a shared cache: rediscache://host:6379/1, or "
                "dbcache://fieldline_cache after `manage.py createcachetable`.",
                id="fieldline.E001",
            )
        ]
    return []

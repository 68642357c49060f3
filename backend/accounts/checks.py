"""Deployment checks of the accounts app."""

from django.conf import settings
from django.core.checks import Warning as CheckWarning
from django.core.checks import register


@register("security", deploy=True)
def login_brake_cache(app_configs, **kwargs):
    """The login brake counts in the cache: a per-process cache lets each app server (and
    worker) count apart, so a guesser gets the limits once per process."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend.endswith(("LocMemCache", "DummyCache")):
        return [
            CheckWarning(
                "The login brake's counters are in a per-process cache.",
                hint="Set CACHE_URL to the shared Redis (rediscache://host:6379/1).",
                id="accounts.W001",
            )
        ]
    return []

"""The Content-Security-Policy of the HQ map page: its scripts and styles from this server
only, images also from the configured tile server (`FIELDLINE["MAP_TILES_URL"]`), so the
base map loads and nothing else from outside does."""

import re
from urllib.parse import urlsplit

from fieldline.conf import fieldline_settings

PLACEHOLDER = re.compile(r"\{[^}]*\}")


def tile_origin(url: str) -> str | None:
    """The CSP source of a tile URL template: its scheme and host, a `{s}` subdomain label
    as `*` (`https://{s}.tile.example.org/...` -> `https://*.tile.example.org`)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    labels = parts.netloc.split(".")
    labels = [
        "*" if index == 0 and PLACEHOLDER.search(label) else label
        for index, label in enumerate(labels)
    ]
    host = ".".join(labels)
    if PLACEHOLDER.search(host):
        # A placeholder past the first label cannot be a CSP wildcard: allow the scheme's
        # hosts rather than break the map (the operator chose that tile server).
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{host}"


def map_policy() -> str:
    tiles = tile_origin(fieldline_settings.MAP_TILES_URL)
    images = " ".join(filter(None, ["'self'", "data:", tiles]))
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            # Leaflet positions its panes with style attributes.
            "style-src 'self' 'unsafe-inline'",
            f"img-src {images}",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )

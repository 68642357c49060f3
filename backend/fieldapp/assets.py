"""The app's files as the server hands them out: read once, hashed, gzipped once.

The app is served by Django itself under /app/ (not by the proxy's /static/), with DEBUG
on or off: a service worker controls only the paths under its own, and the app must
open offline from its first visit whatever the deployment's static-file setup. The
files are few and small, and the service worker caches them, so a worker reads each once
per process; the build id (a hash of every file) names the service worker's cache, so a
deployment with changed files replaces the phone's copy on its next visit.
"""

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fieldline.conf import fieldline_settings

APP_ROOT = Path(__file__).resolve().parent / "static" / "fieldapp"
TEMPLATE_ROOT = Path(__file__).resolve().parent / "templates" / "fieldapp"
URL_PREFIX = "/app/"
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
COMPRESSIBLE = (".js", ".css", ".json", ".svg", ".txt")
# Not part of the app shell: the vendored files' checksums and licences are for people.
NOT_IN_SHELL = ("SHA256SUMS", "LICENSE")


@dataclass(frozen=True)
class AppFile:
    name: str
    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str


@cache
def app_file(name: str) -> AppFile | None:
    """The file `name` (relative to the app's root), or None when there is no such file."""
    path = (APP_ROOT / name).resolve()
    if not path.is_relative_to(APP_ROOT) or not path.is_file():
        return None
    suffix = path.suffix
    content_type = CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0]
    if content_type is None:
        return None
    body = path.read_bytes()
    gzipped = gzip.compress(body, compresslevel=9, mtime=0) if suffix in COMPRESSIBLE else None
    if gzipped is not None and len(gzipped) >= len(body):
        gzipped = None
    digest = hashlib.sha256(body).hexdigest()[:20]
    return AppFile(name, body, gzipped, content_type, f'"{digest}"')


@cache
def shell_files() -> tuple[str, ...]:
    """Every file the service worker caches at install, as paths under /app/."""
    names = sorted(
        path.relative_to(APP_ROOT).as_posix()
        for path in APP_ROOT.rglob("*")
        if path.is_file() and path.suffix in CONTENT_TYPES and path.name not in NOT_IN_SHELL
    )
    return tuple(names)


@cache
def build_id() -> str:
    """One hash of every file of the app and its version: changes whenever any of them
    does (the version is in the cached config.json the app reports itself by)."""
    digest = hashlib.sha256(fieldline_settings.APP_VERSION.encode() + b"\0")
    for name in shell_files():
        file = app_file(name)
        assert file is not None
        digest.update(name.encode() + b"\0" + file.etag.encode())
    for template in sorted(TEMPLATE_ROOT.iterdir()):
        digest.update(template.name.encode() + b"\0" + template.read_bytes())
    return digest.hexdigest()[:16]

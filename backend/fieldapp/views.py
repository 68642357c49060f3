"""The rep's app: one HTML shell, its service worker, manifest, settings and files.

Everything here is public (the app signs in with a token from JavaScript); none of it
carries data. Every answer has a strict Content-Security-Policy of its own: no inline
script or style anywhere in the app, so none is allowed.
"""

import json

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_safe

from fieldapp.assets import URL_PREFIX, app_file, build_id, shell_files
from fieldline import security
from fieldline.conf import fieldline_settings


def content_security_policy() -> str:
    """Own origin only (fieldline.security, as every page); photo bytes may go straight to
    object storage (presigned URLs)."""
    return security.content_security_policy(
        connect_src=fieldline_settings.APP_CONNECT_SRC, app=True
    )


def fresh_in_development() -> None:
    """With DEBUG on, edits to the app's files show on the next reload."""
    if settings.DEBUG:
        for cached in (app_file, shell_files, build_id):
            cached.cache_clear()


def with_app_headers(response: HttpResponse, *, cache: str = "no-cache") -> HttpResponse:
    response["Content-Security-Policy"] = content_security_policy()
    # The app asks for the position (check-in, surveys) and the camera (photos), nothing else.
    response["Permissions-Policy"] = "geolocation=(self), camera=(self), microphone=()"
    response["Referrer-Policy"] = "same-origin"
    response["X-Content-Type-Options"] = "nosniff"
    # Revalidated on every network visit; offline, the service worker's copy answers.
    response["Cache-Control"] = cache
    return response


@require_safe
@gzip_page
def app_shell(request: HttpRequest) -> HttpResponse:
    fresh_in_development()
    html = render_to_string("fieldapp/index.html", {"build": build_id()})
    return with_app_headers(HttpResponse(html, content_type="text/html; charset=utf-8"))


@require_safe
@gzip_page
def service_worker(request: HttpRequest) -> HttpResponse:
    """The worker lists the shell's files and is named by the build, so any change to the
    app installs a new cache and drops the old one."""
    fresh_in_development()
    files = ["/app/", "/app/manifest.webmanifest", "/app/config.json"]
    files += [f"{URL_PREFIX}{name}" for name in shell_files()]
    body = render_to_string("fieldapp/sw.js", {"build": build_id(), "files": json.dumps(files)})
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = URL_PREFIX
    return with_app_headers(response)


@require_safe
def manifest(request: HttpRequest) -> HttpResponse:
    body = {
        "name": "Fieldline",
        "short_name": "Fieldline",
        "description": "Your day, your stores, surveys and visits — online or not.",
        "id": URL_PREFIX,
        "start_url": URL_PREFIX,
        "scope": URL_PREFIX,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0b3d91",
        "icons": [
            {"src": f"{URL_PREFIX}icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": f"{URL_PREFIX}icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {
                "src": f"{URL_PREFIX}icons/icon-maskable-512.png",
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    response = JsonResponse(body, content_type="application/manifest+json")
    return with_app_headers(response)


@require_safe
def app_config(request: HttpRequest) -> HttpResponse:
    """The server's settings the app mirrors (geofences, photo size, sync period)."""
    config = fieldline_settings
    body = {
        "app_version": config.APP_VERSION,
        "build": build_id(),
        "sync_every_s": config.APP_SYNC_EVERY_S,
        "geofence": {
            "radius_m": config.GEOFENCE_RADIUS_M,
            "radius_by_trade_area": config.GEOFENCE_RADIUS_BY_TRADE_AREA,
            "accuracy_factor": config.GEOFENCE_ACCURACY_FACTOR,
            "max_slack_m": config.GEOFENCE_MAX_SLACK_M,
        },
        "photo_max_bytes": config.PHOTO_MAX_BYTES,
    }
    return with_app_headers(JsonResponse(body))


@require_safe
def app_file_view(request: HttpRequest, name: str) -> HttpResponse:
    fresh_in_development()
    file = app_file(name)
    if file is None:
        raise Http404("No such file in the app.")
    if request.headers.get("If-None-Match") == file.etag:
        response = HttpResponse(status=304)
    else:
        accepts_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
        body = file.gzipped if file.gzipped is not None and accepts_gzip else file.body
        response = HttpResponse(body, content_type=file.content_type)
        if body is file.gzipped:
            response["Content-Encoding"] = "gzip"
    response["ETag"] = file.etag
    if file.gzipped is not None:
        response["Vary"] = "Accept-Encoding"
    return with_app_headers(response)

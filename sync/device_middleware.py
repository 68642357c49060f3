"""Device headers on sync requests: too-old apps get 426, every request updates its
device's health row.

Phones send X-Device-Id (stable per installation), X-App-Version (semantic version) and
may send X-Pending-Mutations (their outbox size). Requests without them are served as in
version 1 of the protocol.
"""

import logging
from dataclasses import dataclass

import orjson
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.utils import timezone
from knox.auth import TokenAuthentication
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from fieldline.conf import fieldline_settings
from sync.app_versions import AppVersion, AppVersionInvalid
from sync.device_services import DeviceReport, device_seen

logger = logging.getLogger(__name__)

MAX_DEVICE_ID = 64
MAX_PENDING = 10_000_000


@dataclass(frozen=True)
class DeviceHeaders:
    device_id: str
    app_version: AppVersion | None
    app_version_text: str
    pending_mutations: int | None


class DeviceHeadersInvalid(ValueError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(str(errors))
        self.errors = errors


def sync_request_kind(request: HttpRequest) -> str | None:
    """ "push" or "pull" for the sync protocol's and WatermelonDB's endpoints, else None."""
    path = request.path
    if path == "/api/sync/push" and request.method == "POST":
        return "push"
    if path == "/api/sync/pull" and request.method == "GET":
        return "pull"
    if path == "/api/sync/watermelon":
        return {"GET": "pull", "POST": "push"}.get(request.method or "")
    return None


def read_device_headers(request: HttpRequest) -> DeviceHeaders:
    errors: dict[str, list[str]] = {}
    device_id = request.headers.get("X-Device-Id", "").strip()
    if len(device_id) > MAX_DEVICE_ID or not device_id.isprintable():
        errors["X-Device-Id"] = [f"At most {MAX_DEVICE_ID} printable characters."]
    if not device_id:
        # WatermelonDB apps may name the device in the query instead; its view checks it.
        given = request.GET.get("device_id", "").strip()
        if len(given) <= MAX_DEVICE_ID and given.isprintable():
            device_id = given
    version_text = request.headers.get("X-App-Version", "").strip()
    version = None
    if version_text:
        try:
            version = AppVersion.parse(version_text)
        except AppVersionInvalid as error:
            errors["X-App-Version"] = [str(error)]
    pending_text = request.headers.get("X-Pending-Mutations", "").strip()
    pending = None
    if pending_text:
        if not pending_text.isdigit() or int(pending_text) > MAX_PENDING:
            errors["X-Pending-Mutations"] = ["A whole number of mutations, 0 or more."]
        else:
            pending = int(pending_text)
    if errors:
        raise DeviceHeadersInvalid(errors)
    return DeviceHeaders(
        device_id=device_id,
        app_version=version,
        app_version_text=version_text if version else "",
        pending_mutations=pending,
    )


def minimum_app_version() -> AppVersion | None:
    text = fieldline_settings.MIN_APP_VERSION or ""
    return AppVersion.parse(text) if text else None


def error_text(response: HttpResponseBase) -> str:
    """`<status> <detail>` of an answer that is not a success, for the device's last error."""
    if response.status_code < 400:
        return ""
    detail = ""
    if not response.streaming and response.get("Content-Type", "").startswith("application/json"):
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("detail"), str):
            detail = body["detail"]
        elif body is not None:
            detail = orjson.dumps(body).decode()[:250]
    return f"{response.status_code} {detail}".strip()


def authenticated_user(request: HttpRequest):
    """The token's user of a request no view has authenticated (a refused one), or None."""
    try:
        found = TokenAuthentication().authenticate(Request(request))
    except APIException:
        return None
    return found[0] if found else None


class DeviceHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        kind = sync_request_kind(request)
        if kind is None:
            return self.get_response(request)
        try:
            headers = read_device_headers(request)
        except DeviceHeadersInvalid as invalid:
            return JsonResponse(invalid.errors, status=400)
        minimum = minimum_app_version()
        version = headers.app_version
        if version is not None and minimum is not None and version < minimum:
            response: HttpResponseBase = JsonResponse(
                {"detail": "upgrade", "min_version": fieldline_settings.MIN_APP_VERSION},
                status=426,
            )
            user = authenticated_user(request) if headers.device_id else None
        else:
            response = self.get_response(request)
            user = getattr(request, "user", None)
        if headers.device_id and user is not None and user.is_authenticated:
            report = DeviceReport(
                device_id=headers.device_id,
                app_version=headers.app_version_text,
                pending_mutations=headers.pending_mutations,
                kind=kind,
                status_code=response.status_code,
                error=error_text(response),
                cursor=getattr(request, "sync_cursor_position", None),
            )
            try:
                device_seen(user=user, report=report, at=timezone.now())
            except DatabaseError:
                # Health is bookkeeping: a sync answer never fails for it.
                logger.exception("device health not recorded for %s", headers.device_id)
        return response

"""The login brake: one for every way to sign in (the token API, the HQ pages, the admin's
login page and any door that calls Django's `authenticate`), because it sits in the
authentication backend (`accounts.brake.BrakedModelBackend`) that they all go through.

It slows a password guesser without handing them a way to lock the real user out:

- **Per address** (the client's IP, from X-Forwarded-For only behind NUM_PROXIES trusted
  proxies): after LOGIN_FAILURE_LIMIT failures for one name, or LOGIN_ADDRESS_FAILURE_LIMIT
  for any names, within LOGIN_FAILURE_WINDOW_S, that address is refused for that name (or
  for all) until the window has passed since its last failure.
- **Per account**, from anywhere: after LOGIN_FAILURE_LIMIT failures, each attempt must
  wait a delay that doubles with every further failure (LOGIN_DELAY_BASE_S, 2×, 4×, … up
  to LOGIN_DELAY_MAX_S) after the last one; an attempt inside it is refused unchecked. A
  guesser spread over many addresses gets a few dozen guesses an hour at most.
- **A known device passes both** with the right password: a browser or app that signed in
  to this account before holds a signed device cookie (`fieldline_device`, set after every
  successful sign-in, LOGIN_DEVICE_COOKIE_DAYS long). Its own failures are counted apart
  (LOGIN_FAILURE_LIMIT per window), so a stolen cookie is no unlimited guesser either.

The counters live in Django's cache, shared by every app server when CACHE_URL points at
Redis (as in production); the local-memory default holds per process only.
"""

import hashlib
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.settings import api_settings

from fieldline.conf import fieldline_settings

DEVICE_COOKIE = "fieldline_device"
DEVICE_SALT = "fieldline.accounts.device"
DEVICE_USERS_MAX = 10
# The request attributes the backend leaves for the door and for the cookie middleware.
THROTTLED_ATTR = "fieldline_login_retry_after"
SIGNED_IN_ATTR = "fieldline_signed_in_user_id"


class LoginThrottled(PermissionDenied):
    """The brake refused the attempt before the password was looked at. A PermissionDenied,
    so Django's `authenticate` stops at it and answers None like a wrong password: a door
    that does not know the brake still refuses."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(retry_after_s)
        self.retry_after_s = retry_after_s


# --- who is asking ---------------------------------------------------------------------


def client_ip(request: HttpRequest | None) -> str:
    """The client's address: REMOTE_ADDR, or with NUM_PROXIES trusted proxies in front the
    address the nearest of them saw (a client cannot pick its own)."""
    if request is None:
        return ""
    remote = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    proxies = api_settings.NUM_PROXIES
    if proxies and forwarded:
        addresses = [address.strip() for address in forwarded.split(",")]
        return addresses[-min(proxies, len(addresses))][:64]
    return remote[:64]


def _device_users(request: HttpRequest | None) -> list[int]:
    raw = request.COOKIES.get(DEVICE_COOKIE) if request is not None else None
    if not raw:
        return []
    max_age = fieldline_settings.LOGIN_DEVICE_COOKIE_DAYS * 86400
    try:
        users = signing.loads(raw, salt=DEVICE_SALT, max_age=max_age)
    except signing.BadSignature:
        return []
    if not isinstance(users, list):
        return []
    return [pk for pk in users if isinstance(pk, int) and not isinstance(pk, bool)]


def _user_id(username: str) -> int | None:
    model = get_user_model()
    try:
        return model._default_manager.get_by_natural_key(username).pk
    except (model.DoesNotExist, ValueError):
        return None


def known_device(request: HttpRequest | None, username: str) -> bool:
    """The request carries a device cookie that signed in to this account before."""
    users = _device_users(request)
    return bool(users) and _user_id(username) in users


# --- counters ----------------------------------------------------------------------------


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _keys(username: str, ip: str, request: HttpRequest | None) -> dict[str, str]:
    name = _digest(username.lower())
    device = (request.COOKIES.get(DEVICE_COOKIE) or "") if request is not None else ""
    return {
        "name_address": f"brake:na:{name}:{_digest(ip)}",
        "address": f"brake:a:{_digest(ip)}",
        "name": f"brake:n:{name}",
        "name_last": f"brake:nl:{name}",
        "device": f"brake:d:{name}:{_digest(device)}",
    }


def _count(key: str, window: int) -> int:
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=window)
        count = 1
    cache.touch(key, window)  # the window runs from the last failure
    return count


def account_delay_s(failures: int) -> int:
    """How long after its last failure an account waits, with `failures` in the window."""
    limit = fieldline_settings.LOGIN_FAILURE_LIMIT
    if failures < limit:
        return 0
    step = min(failures - limit, 30)
    return int(
        min(fieldline_settings.LOGIN_DELAY_BASE_S * 2**step, fieldline_settings.LOGIN_DELAY_MAX_S)
    )


def check(*, request: HttpRequest | None, username: str) -> None:
    """Raise `LoginThrottled` when this attempt may not be made now."""
    conf = fieldline_settings
    ip = client_ip(request)
    keys = _keys(username, ip, request)
    window = conf.LOGIN_FAILURE_WINDOW_S
    if known_device(request, username):
        if cache.get(keys["device"], 0) >= conf.LOGIN_FAILURE_LIMIT:
            raise LoginThrottled(retry_after_s=window)
        return
    if cache.get(keys["name_address"], 0) >= conf.LOGIN_FAILURE_LIMIT:
        raise LoginThrottled(retry_after_s=window)
    if cache.get(keys["address"], 0) >= conf.LOGIN_ADDRESS_FAILURE_LIMIT:
        raise LoginThrottled(retry_after_s=window)
    delay = account_delay_s(cache.get(keys["name"], 0))
    if delay:
        waited = time.time() - float(cache.get(keys["name_last"], 0.0))
        if waited < delay:
            raise LoginThrottled(retry_after_s=max(1, int(delay - waited + 0.999)))


def failure(*, request: HttpRequest | None, username: str) -> None:
    conf = fieldline_settings
    keys = _keys(username, client_ip(request), request)
    window = conf.LOGIN_FAILURE_WINDOW_S
    if known_device(request, username):
        _count(keys["device"], window)
    else:
        _count(keys["name_address"], window)
        _count(keys["address"], window)
    _count(keys["name"], window)
    cache.set(keys["name_last"], time.time(), timeout=window)


def success(*, request: HttpRequest | None, username: str, user_id: int) -> None:
    """A right password clears its address's count for the name (not the account's: the
    account's delay is the guesser's, who may still be at it) and marks the request so
    that its answer sets the device cookie."""
    keys = _keys(username, client_ip(request), request)
    cache.delete_many([keys["name_address"], keys["device"]])
    if request is not None:
        setattr(request, SIGNED_IN_ATTR, user_id)


# --- the backend and the cookie ------------------------------------------------------------


class BrakedModelBackend(ModelBackend):
    """Django's model backend behind the brake (AUTHENTICATION_BACKENDS)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        username = str(username)
        try:
            check(request=request, username=username)
        except LoginThrottled as throttled:
            if request is not None:
                setattr(request, THROTTLED_ATTR, throttled.retry_after_s)
            raise
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            failure(request=request, username=username)
            return None
        success(request=request, username=username, user_id=user.pk)
        return user


def throttled_for(request: HttpRequest | None) -> int | None:
    """Seconds to wait when the brake refused this request's sign-in, else None."""
    return getattr(request, THROTTLED_ATTR, None) if request is not None else None


class DeviceCookieMiddleware:
    """Sets the signed device cookie on the answer to a successful sign-in, whatever door
    it came through."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user_id = getattr(request, SIGNED_IN_ATTR, None)
        if user_id is not None:
            users = [pk for pk in _device_users(request) if pk != user_id]
            users = [user_id, *users][:DEVICE_USERS_MAX]
            response.set_cookie(
                DEVICE_COOKIE,
                signing.dumps(users, salt=DEVICE_SALT),
                max_age=fieldline_settings.LOGIN_DEVICE_COOKIE_DAYS * 86400,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

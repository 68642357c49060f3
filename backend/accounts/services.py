"""Sign-in: tokens for devices, and a brake on password guessing."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from knox.models import AuthToken

from accounts.models import User


class LoginThrottled(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(retry_after_s)
        self.retry_after_s = retry_after_s


class InvalidCredentials(Exception):
    pass


@dataclass(frozen=True)
class IssuedToken:
    user: User
    token: str


def _failure_key(*, username: str, client_ip: str) -> str:
    return f"login-failures:{username.lower()}:{client_ip}"


def token_issue(*, username: str, password: str, client_ip: str) -> IssuedToken:
    """A new token for one device; repeated failures for a name from one address lock it
    out for a while, even when the password is then right."""
    limit = settings.FIELDLINE["LOGIN_FAILURE_LIMIT"]
    window = settings.FIELDLINE["LOGIN_FAILURE_WINDOW_S"]
    key = _failure_key(username=username, client_ip=client_ip)
    if cache.get(key, 0) >= limit:
        raise LoginThrottled(retry_after_s=window)
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=window)
        raise InvalidCredentials
    cache.delete(key)
    _, token = AuthToken.objects.create(user=user)
    return IssuedToken(user=user, token=token)

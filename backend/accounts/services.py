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


def _failure_keys(*, username: str, client_ip: str) -> tuple[str, str]:
    name = username.lower()
    return f"login-failures:{name}:{client_ip}", f"login-failures:{name}"


def _count_failure(key: str, window: int) -> None:
    cache.add(key, 0, timeout=window)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window)


def token_issue(*, username: str, password: str, client_ip: str) -> IssuedToken:
    """A new token for one device. Repeated failures for a name from one address lock it
    out for a while, even when the password is then right; so do many failures for a name
    from anywhere (a guesser spread over many addresses)."""
    limit = settings.FIELDLINE["LOGIN_FAILURE_LIMIT"]
    window = settings.FIELDLINE["LOGIN_FAILURE_WINDOW_S"]
    per_address, per_name = _failure_keys(username=username, client_ip=client_ip)
    if cache.get(per_address, 0) >= limit or cache.get(per_name, 0) >= limit * 4:
        raise LoginThrottled(retry_after_s=window)
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        _count_failure(per_address, window)
        _count_failure(per_name, window)
        raise InvalidCredentials
    cache.delete(per_address)
    _, token = AuthToken.objects.create(user=user)
    return IssuedToken(user=user, token=token)

"""Sign-in: tokens for devices, and a brake on password guessing."""

from dataclasses import dataclass

from django.contrib.auth import authenticate
from django.core.cache import cache
from knox.models import AuthToken

from accounts.models import User
from fieldline.conf import fieldline_settings


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


def login_brake_check(*, username: str, client_ip: str) -> None:
    """Raise `LoginThrottled` while a name is locked out: too many failures from one
    address, or many for the name from anywhere (a guesser spread over many addresses).
    Every sign-in door (token API, HQ pages) checks the same counters."""
    limit = fieldline_settings.LOGIN_FAILURE_LIMIT
    per_address, per_name = _failure_keys(username=username, client_ip=client_ip)
    if cache.get(per_address, 0) >= limit or cache.get(per_name, 0) >= limit * 4:
        raise LoginThrottled(retry_after_s=fieldline_settings.LOGIN_FAILURE_WINDOW_S)


def login_failure_record(*, username: str, client_ip: str) -> None:
    window = fieldline_settings.LOGIN_FAILURE_WINDOW_S
    for key in _failure_keys(username=username, client_ip=client_ip):
        _count_failure(key, window)


def login_success_record(*, username: str, client_ip: str) -> None:
    """A right password from an address clears that address's count (not the name's)."""
    per_address, _ = _failure_keys(username=username, client_ip=client_ip)
    cache.delete(per_address)


def token_issue(*, username: str, password: str, client_ip: str) -> IssuedToken:
    """A new token for one device. Repeated failures for a name lock it out for a while,
    even when the password is then right (`login_brake_check`)."""
    login_brake_check(username=username, client_ip=client_ip)
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        login_failure_record(username=username, client_ip=client_ip)
        raise InvalidCredentials
    login_success_record(username=username, client_ip=client_ip)
    _, token = AuthToken.objects.create(user=user)
    return IssuedToken(user=user, token=token)

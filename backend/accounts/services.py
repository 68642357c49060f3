"""Sign-in: tokens for devices, and a brake on password guessing."""

from dataclasses import dataclass

from django.contrib.auth import authenticate
from django.http import HttpRequest
from knox.models import AuthToken

from accounts.brake import LoginThrottled, throttled_for
from accounts.models import User

__all__ = ["InvalidCredentials", "IssuedToken", "LoginThrottled", "token_issue", "tokens_revoke"]


class InvalidCredentials(Exception):
    pass


@dataclass(frozen=True)
class IssuedToken:
    user: User
    token: str


def token_issue(*, username: str, password: str, request: HttpRequest | None) -> IssuedToken:
    """A new token for one device, through the login brake (`accounts.brake`): while it
    holds the name or the address, `LoginThrottled` is raised and the password is not
    even looked at."""
    user = authenticate(request, username=username, password=password)
    retry_after = throttled_for(request)
    if retry_after is not None:
        raise LoginThrottled(retry_after_s=retry_after)
    if user is None or not user.is_active:
        raise InvalidCredentials
    _, token = AuthToken.objects.create(user=user)
    return IssuedToken(user=user, token=token)


def tokens_revoke(*, user_id: int) -> int:
    """Every token of a user, gone: after a password change or reset, a device signed in
    with the old password must sign in again."""
    deleted, _ = AuthToken.objects.filter(user_id=user_id).delete()
    return deleted

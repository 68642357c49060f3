"""Who may use the HQ pages: managers and HQ, logged in with a session."""

from collections.abc import Callable
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Role
from accounts.services import _count_failure, _failure_keys

OFFICE_ROLES = (Role.MANAGER, Role.HQ)
REFUSED = "These pages are for regional managers and HQ. Reps work in the Fieldline phone app."


class OfficeLoginForm(AuthenticationForm):
    """Django's login form, refusing reps with a message that says why. Failed logins
    count against the same brake as the token API's, so neither door allows more guesses."""

    def clean(self):
        limit = settings.FIELDLINE["LOGIN_FAILURE_LIMIT"]
        window = settings.FIELDLINE["LOGIN_FAILURE_WINDOW_S"]
        client_ip = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        per_address, per_name = _failure_keys(
            username=self.cleaned_data.get("username") or "", client_ip=client_ip
        )
        if cache.get(per_address, 0) >= limit or cache.get(per_name, 0) >= limit * 4:
            raise forms.ValidationError(
                "Too many failed logins for this name; try again later.", code="throttled"
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError as error:
            if getattr(error, "code", None) == "invalid_login":
                _count_failure(per_address, window)
                _count_failure(per_name, window)
            raise
        cache.delete(per_address)
        return cleaned

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if user.role not in OFFICE_ROLES:
            raise forms.ValidationError(REFUSED, code="not_office")


def office_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors go to the login page; a logged-in rep gets a page saying these
    pages are not for them (403)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request.user.role not in OFFICE_ROLES or not request.user.is_active:
            return render(request, "hq/refused.html", {"message": REFUSED}, status=403)
        return view(request, *args, **kwargs)

    return wrapped

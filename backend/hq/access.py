"""Who may use the HQ pages: managers and HQ, logged in with a session."""

from collections.abc import Callable
from functools import wraps

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from accounts.models import OFFICE_ROLES
from accounts.services import (
    LoginThrottled,
    login_brake_check,
    login_failure_record,
    login_success_record,
)

REFUSED = gettext_lazy(
    "These pages are for regional managers and HQ. Reps work in the Fieldline phone app."
)


class OfficeLoginForm(AuthenticationForm):
    """Django's login form, refusing reps with a message that says why. Failed logins
    count against the same brake as the token API's, so neither door allows more guesses."""

    def clean(self):
        client_ip = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        username = self.cleaned_data.get("username") or ""
        try:
            login_brake_check(username=username, client_ip=client_ip)
        except LoginThrottled as throttled:
            raise forms.ValidationError(
                gettext_lazy("Too many failed logins for this name; try again later."),
                code="throttled",
            ) from throttled
        try:
            cleaned = super().clean()
        except forms.ValidationError as error:
            if getattr(error, "code", None) == "invalid_login":
                login_failure_record(username=username, client_ip=client_ip)
            raise
        login_success_record(username=username, client_ip=client_ip)
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

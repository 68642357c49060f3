"""Who may use the HQ pages: managers and HQ, logged in with a session."""

from collections.abc import Callable
from functools import wraps

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from accounts.forms import BrakedLoginFormMixin
from accounts.models import OFFICE_ROLES

REFUSED = gettext_lazy(
    "These pages are for regional managers and HQ. Reps work in the Fieldline phone app."
)


class OfficeLoginForm(BrakedLoginFormMixin, AuthenticationForm):
    """Django's login form, refusing reps with a message that says why. The login brake
    holds it as every other door (it is in the authentication backend)."""

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

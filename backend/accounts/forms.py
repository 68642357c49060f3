"""Sign-in forms for the session doors (HQ pages, the admin): Django's own, saying so when
the login brake (`accounts.brake`, in the authentication backend) refused the attempt."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm

from accounts.brake import throttled_for


def throttled_message(retry_after_s: int) -> str:
    wait = f"{-(-retry_after_s // 60)} minutes" if retry_after_s >= 90 else f"{retry_after_s} s"
    return (
        f"Too many failed logins for this name; try again in {wait}. On a device you "
        "signed in with before, the right password still works."
    )


class BrakedLoginFormMixin:
    """Turns a sign-in the brake refused into a message that says to wait (instead of
    "wrong password", which would send the user guessing)."""

    request = None

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError as error:
            retry_after = throttled_for(self.request)
            if retry_after is not None:
                raise forms.ValidationError(
                    throttled_message(retry_after), code="throttled"
                ) from error
            raise


class BrakedAdminLoginForm(BrakedLoginFormMixin, AdminAuthenticationForm):
    """The admin's login form (`admin.site.login_form`), through the same brake."""

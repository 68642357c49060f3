"""A password change or reset revokes the user's tokens: a phone signed in with the old
password (perhaps the reason for the change) must sign in again. Sessions need nothing of
this: Django ends them itself when the password hash changes."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import User
from accounts.services import tokens_revoke


@receiver(post_save, sender=User, dispatch_uid="accounts.password_change_revokes_tokens")
def password_change_revokes_tokens(sender, instance: User, created: bool, **kwargs) -> None:
    # `_password` is set by `set_password` until the save that stores it (the admin's
    # password forms, a reset, `changepassword`); a hash upgrade at sign-in clears it
    # before saving, so re-hashing the same password revokes nothing.
    if not created and getattr(instance, "_password", None) is not None:
        tokens_revoke(user_id=instance.pk)

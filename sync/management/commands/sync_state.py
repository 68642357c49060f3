"""Inspect a user's sync state: devices, their mutations, conflicts, and the scope size."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from sync.selectors import sync_state


class Command(BaseCommand):
    help = "Show what the server knows of a user's devices and scope (for support)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        state = sync_state(user=user)
        self.stdout.write(f"{user.username} ({user.role}, region {user.region_id or '-'})")
        self.stdout.write("scope: " + ", ".join(f"{e} {n}" for e, n in state.scope.items()))
        if not state.devices:
            self.stdout.write("no device has pushed yet")
        for device in state.devices:
            statuses = ", ".join(f"{s} {n}" for s, n in sorted(device.statuses.items()))
            last_push = device.last_push.strftime("%Y-%m-%d %H:%M:%SZ")
            self.stdout.write(
                f"device {device.device_id or '(none)'}: last push {last_push}; "
                f"{statuses}; {device.conflicts} conflicts"
            )

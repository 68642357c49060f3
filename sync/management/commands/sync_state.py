"""Inspect a user's sync state: devices, their mutations, conflicts, and the scope size."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from sync.device_selectors import DeviceHealth, device_health
from sync.models import Device
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
        self.write_health(user)

    def write_health(self, user: User) -> None:
        """The health rows the phones' own requests keep (as GET /api/sync/devices)."""
        devices = Device.objects.filter(user=user).select_related("user").order_by("device_id")
        for health in device_health(devices=devices, now=timezone.now()):
            self.stdout.write(health_line(health))


def health_line(health: DeviceHealth) -> str:
    def when(moment) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment else "never"

    line = (
        f"health {health.device_id}: app {health.app_version or '-'}; "
        f"first seen {when(health.first_seen)}, last seen {when(health.last_seen)}; "
        f"last push {when(health.last_push_at)}, last pull {when(health.last_pull_at)}; "
        f"behind {health.behind}; pending {health.pending_mutations}; "
        f"rejected 7d {health.rejected_7d}, conflicts 7d {health.conflicts_7d}"
    )
    if health.last_error:
        line += f"; last error {health.last_error} at {when(health.last_error_at)}"
    if health.stale:
        line += "; STALE (changes waiting, no successful push for 24 h)"
    return line

"""Reads of device health: each device's sync figures, scoped like everything else."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import Role, User
from sync.models import AppliedMutation, ConflictLog, Device
from sync.pull import pull_backlog

HEALTH_WINDOW = dt.timedelta(days=7)
STALE_AFTER = dt.timedelta(hours=24)
# "behind" is counted up to this many changes; a device further behind shows this figure.
BACKLOG_CAP = 100_000


@dataclass(frozen=True)
class DeviceHealth:
    device_id: str
    user: int
    username: str
    app_version: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    last_push_at: dt.datetime | None
    last_pull_at: dt.datetime | None
    behind: int
    pending_mutations: int | None
    rejected_7d: int
    conflicts_7d: int
    last_error: str
    last_error_at: dt.datetime | None
    stale: bool


def device_list(*, actor: User) -> QuerySet[Device]:
    """Devices the actor may see: a rep their own, a manager their region's, HQ all; those
    without a successful push for longest (or ever) first."""
    devices = Device.objects.select_related("user")
    if actor.role == Role.REP:
        devices = devices.filter(user=actor)
    elif actor.role == Role.MANAGER:
        devices = devices.filter(user__region_id=actor.region_id)
    elif actor.role != Role.HQ or not actor.is_active:
        devices = devices.none()
    return devices.order_by(F("last_push_at").asc(nulls_first=True), "-last_seen", "id")


def device_is_stale(*, pending: int | None, last_push_at: dt.datetime | None, now: dt.datetime):
    """Changes waiting on the phone, and no successful push for more than 24 hours."""
    return bool(pending) and (last_push_at is None or last_push_at < now - STALE_AFTER)


def device_health(*, devices: QuerySet[Device], now: dt.datetime) -> list[DeviceHealth]:
    """The health figures of these devices (a page of them): one query for the rows and
    their 7-day counts, and one count of changes behind per device."""
    since = now - HEALTH_WINDOW
    rejected = (
        AppliedMutation.objects.filter(
            user=OuterRef("user"), device_id=OuterRef("device_id"), status="rejected", at__gte=since
        )
        .order_by()
        .values("user")
        .annotate(n=Count("pk"))
        .values("n")
    )
    conflicts = (
        ConflictLog.objects.filter(
            actor=OuterRef("user"), device_id=OuterRef("device_id"), at__gte=since
        )
        .order_by()
        .values("actor")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = devices.annotate(
        rejected_7d=Coalesce(Subquery(rejected, output_field=IntegerField()), 0),
        conflicts_7d=Coalesce(Subquery(conflicts, output_field=IntegerField()), 0),
    )
    out = []
    for device in rows:
        after = None
        if device.cursor_txid is not None:
            after = (device.cursor_txid, device.cursor_seq)
        out.append(
            DeviceHealth(
                device_id=device.device_id,
                user=device.user_id,
                username=device.user.username,
                app_version=device.app_version,
                first_seen=device.first_seen,
                last_seen=device.last_seen,
                last_push_at=device.last_push_at,
                last_pull_at=device.last_pull_at,
                behind=pull_backlog(user=device.user, after=after, cap=BACKLOG_CAP),
                pending_mutations=device.pending_mutations,
                rejected_7d=device.rejected_7d,
                conflicts_7d=device.conflicts_7d,
                last_error=device.last_error,
                last_error_at=device.last_error_at,
                stale=device_is_stale(
                    pending=device.pending_mutations, last_push_at=device.last_push_at, now=now
                ),
            )
        )
    return out


def stale_filter(*, now: dt.datetime) -> Q:
    return Q(pending_mutations__gt=0) & (
        Q(last_push_at__isnull=True) | Q(last_push_at__lt=now - STALE_AFTER)
    )

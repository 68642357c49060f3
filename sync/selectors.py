"""Reads of syncable records, always through the actor's scope."""

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Count, Max, QuerySet

from accounts.models import User
from accounts.scope import scope_filter
from sync.models import AppliedMutation, ChangeLog, ConflictLog
from sync.registry import EntitySpec, all_entities


def record_list(*, actor: User, spec: EntitySpec, include_deleted: bool = False) -> QuerySet:
    queryset = spec.model.objects.filter(scope_filter(user=actor))
    if not include_deleted:
        queryset = queryset.filter(deleted=False)
    return queryset.order_by("-updated_at", "id")


@dataclass(frozen=True)
class DeviceState:
    device_id: str
    last_push: dt.datetime
    statuses: dict[str, int]
    conflicts: int


@dataclass(frozen=True)
class SyncState:
    scope: dict[str, int]
    devices: list[DeviceState]


def sync_state(*, user: User) -> SyncState:
    """Per device: when it last pushed, its mutations by status, and its conflicts; and how
    many live records the user's scope holds per entity."""
    scope = {spec.name: record_list(actor=user, spec=spec).count() for spec in all_entities()}
    per_device: dict[str, dict] = {}
    rows = (
        AppliedMutation.objects.filter(user=user)
        .values("device_id", "status")
        .annotate(count=Count("pk"), last=Max("at"))
    )
    for row in rows:
        device = per_device.setdefault(row["device_id"], {"statuses": {}, "last": row["last"]})
        device["statuses"][row["status"]] = row["count"]
        device["last"] = max(device["last"], row["last"])
    conflicts = dict(
        ConflictLog.objects.filter(actor=user)
        .values_list("device_id")
        .annotate(count=Count("pk"))
        .values_list("device_id", "count")
    )
    devices = [
        DeviceState(
            device_id=device_id,
            last_push=info["last"],
            statuses=info["statuses"],
            conflicts=conflicts.get(device_id, 0),
        )
        for device_id, info in sorted(per_device.items(), key=lambda item: item[1]["last"])
    ]
    return SyncState(scope=scope, devices=devices)


@dataclass(frozen=True)
class AuditFilter:
    """Which changes: each criterion narrows; an unset one does not apply."""

    entity: str | None = None
    record_id: uuid.UUID | None = None
    actor_id: int | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def audit_log(*, filters: AuditFilter) -> QuerySet[ChangeLog]:
    """Every accepted change matching `filters`, newest first (HQ's audit trail).

    A record's history is served by the (entity, record_id, version) index; the rest by
    the index on `at`.
    """
    changes = ChangeLog.objects.all()
    if filters.entity:
        changes = changes.filter(entity=filters.entity)
    if filters.record_id is not None:
        changes = changes.filter(record_id=filters.record_id)
    if filters.actor_id is not None:
        changes = changes.filter(actor_id=filters.actor_id)
    if filters.since is not None:
        changes = changes.filter(at__gte=filters.since)
    if filters.until is not None:
        changes = changes.filter(at__lt=filters.until)
    return changes.order_by("-at", "-seq", "-id")

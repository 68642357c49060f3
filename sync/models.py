"""Storage of the sync engine: the syncable base, the changelog and its companions.

A record's place in the change stream is its position `(sync_txid, sync_seq)`: on
PostgreSQL the writing transaction's id and a sequence number, on SQLite (one writer at a
time) the sequence number twice. A pull only reads positions whose transaction id is
below the oldest transaction still in flight, so it never moves past a change that has
not committed yet (see `sync.positions`).
"""

import uuid

from django.conf import settings
from django.db import models


class SyncableModel(models.Model):
    """Base of every record phones replicate: client ids, versions, stamps, tombstones."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    deleted = models.BooleanField(default=False)
    # {wire field: [version, clock stamp in ms, device id]} of each field's last change.
    field_stamps = models.JSONField(default=dict, blank=True)
    sync_txid = models.BigIntegerField(default=0)
    sync_seq = models.BigIntegerField(default=0)
    scope_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    scope_region = models.ForeignKey(
        "accounts.Region",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    class Meta:
        abstract = True
        indexes = [
            models.Index(
                fields=["scope_owner", "sync_txid", "sync_seq"], name="%(class)s_owner_pos"
            ),
            models.Index(
                fields=["scope_region", "sync_txid", "sync_seq"], name="%(class)s_region_pos"
            ),
            models.Index(fields=["sync_txid", "sync_seq"], name="%(class)s_pos"),
        ]


class SyncCounter(models.Model):
    """The sequence of change positions on databases without sequences (SQLite)."""

    name = models.CharField(primary_key=True, max_length=32)
    value = models.BigIntegerField(default=0)


class WatermelonTimestamp(models.Model):
    """A `timestamp` this database gave a WatermelonDB pull, in the sync epoch it gave it.

    A WatermelonDB `last_pulled_at` is a bare number and carries no epoch. After a restore
    (`sync_restored`), a phone may hold one the lost part of the history gave it: served
    incrementally, it would keep records the restored database no longer has. So each
    issued timestamp is kept here; after a restore, one this database never issued (in
    the backup's epoch, or since) is answered with a replacement pull from scratch."""

    epoch = models.BigIntegerField()
    timestamp = models.BigIntegerField()
    issued_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["epoch", "timestamp"], name="watermelon_issued_once")
        ]
        indexes = [models.Index(fields=["issued_at"], name="watermelon_issued_at")]


class ChangeSource(models.TextChoices):
    # Each member is its value (a str); Django's choices are written (value, label), which
    # a type checker without Django's stubs reads as a tuple.
    PUSH: str = "push", "Phone push"  # type: ignore[assignment]
    REST: str = "rest", "REST edit"  # type: ignore[assignment]
    DISPATCH: str = "dispatch", "Bulk dispatch"  # type: ignore[assignment]
    IMPORT: str = "import", "Import"  # type: ignore[assignment]
    SYSTEM: str = "system", "System"  # type: ignore[assignment]


class ChangeLog(models.Model):
    """Append-only history of every accepted change, with old and new field values."""

    seq = models.BigIntegerField()
    txid = models.BigIntegerField()
    entity = models.CharField(max_length=32)
    record_id = models.UUIDField()
    version = models.PositiveIntegerField()
    op = models.CharField(max_length=16)
    new_values = models.JSONField(default=dict)
    old_values = models.JSONField(default=dict)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    device_id = models.CharField(max_length=64, blank=True)
    mutation_id = models.UUIDField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=ChangeSource.choices)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["entity", "record_id", "version"], name="changelog_record"),
            models.Index(fields=["at"], name="changelog_at"),
        ]


class AppliedMutation(models.Model):
    """A phone mutation seen once; retries answer from here (idempotency for ever)."""

    mutation_id = models.UUIDField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    device_id = models.CharField(max_length=64, blank=True)
    entity = models.CharField(max_length=32)
    record_id = models.UUIDField(null=True)
    status = models.CharField(max_length=16)
    result = models.JSONField(default=dict)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            # A device's rejected mutations of the last days (device health); partial, so
            # the push's inserts of accepted mutations do not maintain it.
            models.Index(
                fields=["user", "device_id", "at"],
                condition=models.Q(status="rejected"),
                name="appliedmutation_rejected",
            ),
        ]


class ConflictLog(models.Model):
    """A field resolved against a phone's value: both values kept, so nothing is lost."""

    entity = models.CharField(max_length=32)
    record_id = models.UUIDField()
    field = models.CharField(max_length=64)
    policy = models.CharField(max_length=16)
    client_value = models.JSONField(null=True)
    server_value = models.JSONField(null=True)
    resolved_value = models.JSONField(null=True)
    kept = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    device_id = models.CharField(max_length=64, blank=True)
    mutation_id = models.UUIDField(null=True)
    client_ts = models.DateTimeField(null=True)
    at = models.DateTimeField()
    scope_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    scope_region = models.ForeignKey(
        "accounts.Region", null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["entity", "record_id"], name="conflict_record"),
            models.Index(fields=["at"], name="conflict_at"),
            models.Index(fields=["actor", "device_id", "at"], name="conflict_device_at"),
        ]


class ScopeExit(models.Model):
    """A record left an owner's or a region's scope; their next pull sends a delete."""

    entity = models.CharField(max_length=32)
    record_id = models.UUIDField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+"
    )
    region = models.ForeignKey(
        "accounts.Region", null=True, on_delete=models.CASCADE, related_name="+"
    )
    sync_txid = models.BigIntegerField()
    sync_seq = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["owner", "sync_txid", "sync_seq"], name="scopeexit_owner_pos"),
            models.Index(fields=["region", "sync_txid", "sync_seq"], name="scopeexit_region_pos"),
        ]


class Device(models.Model):
    """A phone's app installation as its sync requests report it (X-Device-Id and friends):
    one row per user and device, written once per sync request by one upsert, so that
    support sees which phone is stuck without asking the rep."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    device_id = models.CharField(max_length=64)
    app_version = models.CharField(max_length=64, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    # The last push and pull the server answered 200.
    last_push_at = models.DateTimeField(null=True, blank=True)
    last_pull_at = models.DateTimeField(null=True, blank=True)
    # The position of the last cursor handed to the device: how far behind the head it is.
    cursor_txid = models.BigIntegerField(null=True, blank=True)
    cursor_seq = models.BigIntegerField(null=True, blank=True)
    # Mutations waiting in the phone's outbox, as it last reported (X-Pending-Mutations).
    pending_mutations = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "device_id"], name="device_user_device_id")
        ]
        indexes = [models.Index(fields=["last_seen"], name="device_last_seen")]

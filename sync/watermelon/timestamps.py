"""Which WatermelonDB `last_pulled_at` values this database can serve incrementally.

Cursors of the sync protocol carry the database's epoch; WatermelonDB's timestamps are
bare numbers. So the timestamps given to pulls are recorded with their epoch
(`WatermelonTimestamp`), and after `sync_restored` one is served incrementally only if
this database issued it: in the backup's epoch (the backup holds the record, so the
phone's copy is no newer than the backup) or since the restore. Any other one came from
the history the restore lost; the phone gets a replacement pull from scratch, after which
WatermelonDB drops the records the restored database does not have.

Before any restore every timestamp below the watermark is this database's own, and none
is looked up.
"""

import datetime as dt

from django.utils import timezone

from fieldline.conf import fieldline_settings
from sync.models import SyncCounter, WatermelonTimestamp
from sync.pull import restore_point, sync_epoch


def record_issued(timestamp: int) -> None:
    """Remember a timestamp given to a pull (one row per epoch and value)."""
    WatermelonTimestamp.objects.bulk_create(
        [WatermelonTimestamp(epoch=sync_epoch(), timestamp=timestamp, issued_at=timezone.now())],
        ignore_conflicts=True,
    )


def issued_here(timestamp: int) -> bool:
    """Whether this database's history holds what a phone pulled up to `timestamp`."""
    if not SyncCounter.objects.filter(name="restored_to_epoch").exists():
        return True  # never restored: the history is whole
    epochs = [sync_epoch()]
    point = restore_point()
    if point is not None:  # restored into another cluster: no earlier timestamp holds
        epochs.append(point.epoch)
    return WatermelonTimestamp.objects.filter(epoch__in=epochs, timestamp=timestamp).exists()


def prune_issued(*, now: dt.datetime) -> int:
    """Drop records older than WATERMELON_TIMESTAMP_RETENTION_DAYS; returns how many.
    Without its record a timestamp only costs a replacement pull after a restore."""
    days = int(fieldline_settings.WATERMELON_TIMESTAMP_RETENTION_DAYS)
    cutoff = now - dt.timedelta(days=days)
    deleted, _ = WatermelonTimestamp.objects.filter(issued_at__lt=cutoff).delete()
    return deleted

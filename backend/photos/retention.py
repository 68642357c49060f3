"""Bytes that no photo needs any more: those of photos deleted (by a rep, or as the
duplicate of a store merge) longer ago than the retention period, and their thumbnails.

The retention sweep (`reports.retention`) runs this and keeps the record of what went.
"""

import datetime as dt
from dataclasses import dataclass

from django.core.files.storage import default_storage

from surveys.models import Photo, PhotoThumbnail


@dataclass(frozen=True)
class RemovedFile:
    """A file a retention step removed from storage, for the audit record."""

    kind: str
    name: str
    size_bytes: int | None
    subject_id: str
    reason: str


def stored_size(name: str) -> int | None:
    try:
        return default_storage.size(name)
    except Exception:
        # Gone already, or the storage cannot say (S3 answers with botocore's own errors):
        # the file is removed all the same.
        return None


def remove_stored(name: str) -> int | None:
    """Delete one file from the default storage (local or S3); its size before, if known."""
    size = stored_size(name)
    default_storage.delete(name)
    return size


def photo_bytes_of_deleted_remove(*, deleted_before: dt.datetime, limit: int) -> list[RemovedFile]:
    """Remove the bytes and thumbnails of photos deleted before `deleted_before` (at most
    `limit` photos a run; the next run takes the rest)."""
    photos = list(
        Photo.objects.filter(deleted=True, updated_at__lt=deleted_before)
        .exclude(content="")
        .order_by("updated_at", "pk")
        .values_list("pk", "content")[:limit]
    )
    removed: list[RemovedFile] = []
    reason = "photo deleted before the retention period"
    thumbnails = dict(
        PhotoThumbnail.objects.filter(photo_id__in=[pk for pk, _ in photos])
        .exclude(name="")
        .values_list("photo_id", "name")
    )
    for pk, name in photos:
        removed.append(RemovedFile("photo", name, remove_stored(name), str(pk), reason))
        if (thumbnail := thumbnails.get(pk)) is not None:
            removed.append(
                RemovedFile("thumbnail", thumbnail, remove_stored(thumbnail), str(pk), reason)
            )
    ids = [pk for pk, _ in photos]
    # The content name is not a synced field and a tombstone syncs nothing: phones learn
    # nothing from this, so it is no change for the engine to log.
    Photo.objects.filter(pk__in=ids).update(content="", size_bytes=None)
    PhotoThumbnail.objects.filter(photo_id__in=ids).delete()
    return removed

"""Thumbnails of photo bytes, made by a background job (`photos.jobs`).

A thumbnail is a JPEG no larger than `THUMBNAIL_MAX_EDGE_PX` on its longest edge, turned
upright by the photo's EXIF orientation, stored through the default storage next to the
photo (`photos/<id>.thumb.jpg`). Whether it exists is kept in `PhotoThumbnail`, a table
the sync engine does not know: a thumbnail changes nothing a phone syncs, so making one
writes no syncable record. Making one again is harmless: the job checks first.
"""

import uuid
from enum import StrEnum
from typing import IO

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from fieldline.conf import fieldline_settings
from photos.content import photo_content_open
from photos.imaging import HEADER_BYTES, ImageRefused, check_pixels, thumbnail_in_worker
from photos.upload_state import photo_thumbnail_ready_mark
from surveys.models import Photo, PhotoThumbnail


class ThumbnailOutcome(StrEnum):
    MADE = "made"
    ALREADY_THERE = "already_there"
    NO_BYTES = "no_bytes"  # the photo is gone or its bytes have not arrived
    UNDECODABLE = "undecodable"


def thumbnail_max_edge() -> int:
    return int(fieldline_settings.THUMBNAIL_MAX_EDGE_PX)


def thumbnail_storage_name(photo_id: uuid.UUID | str) -> str:
    return f"photos/{photo_id}.thumb.jpg"


def _current(photo: Photo) -> PhotoThumbnail | None:
    try:
        return photo.thumbnail
    except PhotoThumbnail.DoesNotExist:
        return None


def photo_thumbnail_make(*, photo_id: uuid.UUID | str) -> ThumbnailOutcome:
    """Make the photo's thumbnail unless one made from its current bytes is there."""
    photo = Photo.objects.filter(pk=photo_id, deleted=False).select_related("thumbnail").first()
    if photo is None:
        return ThumbnailOutcome.NO_BYTES
    existing = _current(photo)
    if existing is not None and existing.source_sha256 == photo.sha256:
        return ThumbnailOutcome.ALREADY_THERE
    source = photo_content_open(photo)
    if source is None:
        return ThumbnailOutcome.NO_BYTES
    name, error, image = "", "", None
    options = fieldline_settings
    try:
        with source:
            # Bounded: the photo's own byte limit, read once; decoded in a worker.
            data = source.read(options.PHOTO_MAX_BYTES + 1)
        if len(data) > options.PHOTO_MAX_BYTES:
            raise ImageRefused("More bytes than a photo may have.")
        check_pixels(data[:HEADER_BYTES], max_pixels=options.IMAGE_MAX_PIXELS)
        image = thumbnail_in_worker(
            data=data,
            max_edge=thumbnail_max_edge(),
            quality=int(options.THUMBNAIL_JPEG_QUALITY),
            max_pixels=options.IMAGE_MAX_PIXELS,
            max_memory_bytes=options.THUMBNAIL_WORKER_MAX_MB * 1024 * 1024,
            timeout_s=options.THUMBNAIL_WORKER_TIMEOUT_S,
        )
    except (ImageRefused, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:200]
    if image is not None:
        name = thumbnail_storage_name(photo.pk)
        if default_storage.exists(name):
            default_storage.delete(name)  # an older thumbnail: keep the exact name
        name = default_storage.save(name, ContentFile(image.jpeg))
    PhotoThumbnail.objects.update_or_create(
        photo=photo,
        defaults={
            "source_sha256": photo.sha256,
            "name": name,
            "width": image.width if image else None,
            "height": image.height if image else None,
            "error": error,
            "made_at": timezone.now(),
        },
    )
    if image is None:
        return ThumbnailOutcome.UNDECODABLE
    photo_thumbnail_ready_mark(photo_id=photo.pk)
    return ThumbnailOutcome.MADE


def photos_missing_thumbnails(*, limit: int) -> QuerySet[Photo]:
    """Live photos whose bytes are stored but that have no thumbnail of those bytes yet
    (nor a failed attempt at them), oldest upload first, at most `limit`."""
    made = PhotoThumbnail.objects.filter(photo=OuterRef("pk"), source_sha256=OuterRef("sha256"))
    return (
        Photo.objects.filter(deleted=False, uploaded_at__isnull=False)
        .exclude(content="")
        .filter(~Exists(made))
        .order_by("uploaded_at", "pk")[:limit]
    )


def photo_thumbnail_open(photo: Photo) -> IO[bytes] | None:
    """The stored thumbnail of the photo's current bytes, or None when there is none."""
    thumbnail = PhotoThumbnail.objects.filter(
        photo=photo, source_sha256=photo.sha256, error=""
    ).first()
    if thumbnail is None or not thumbnail.name or photo.uploaded_at is None:
        return None
    try:
        return default_storage.open(thumbnail.name, "rb")
    except FileNotFoundError:
        return None

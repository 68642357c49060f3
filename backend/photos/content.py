"""Photo bytes: checked against the photo's synced metadata, stored in object storage.

The metadata travels with a phone's push; the bytes follow when a network is there. The
server stores them only when they are what the metadata promised (type and SHA-256), and
records their arrival (`uploaded_at`) through the sync engine, so phones and
completeness see it. New bytes queue their thumbnail (`photos.thumbnails`).
"""

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from fieldline.conf import fieldline_settings
from photos.imaging import HEADER_BYTES, ImageRefused, check_pixels
from photos.jobs import photo_thumbnail
from surveys.models import Photo
from sync.bulk import bulk_update_records
from sync.models import ChangeSource

# Only these are ever stored or served; none of them can carry script.
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


class PhotoContentErrorCode(StrEnum):
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_AN_IMAGE = "not_an_image"
    TYPE_MISMATCH = "type_mismatch"
    TOO_MANY_PIXELS = "too_many_pixels"
    SHA256_MISMATCH = "sha256_mismatch"


class PhotoContentRejected(Exception):
    def __init__(self, code: PhotoContentErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class StoredContent:
    created: bool  # False: the same bytes were already there
    size_bytes: int


def photo_max_bytes() -> int:
    return fieldline_settings.PHOTO_MAX_BYTES


def sniff_image_type(head: bytes) -> str | None:
    """The image type the first bytes declare (JPEG, PNG, WebP), else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_image_pixels(head: bytes) -> None:
    """Refuse an image whose header declares more than IMAGE_MAX_PIXELS pixels, from its
    header alone (nothing is decoded)."""
    try:
        check_pixels(head, max_pixels=fieldline_settings.IMAGE_MAX_PIXELS)
    except ImageRefused as error:
        raise PhotoContentRejected(PhotoContentErrorCode.TOO_MANY_PIXELS, str(error)) from error


def photo_storage_name(photo: Photo) -> str:
    return f"photos/{photo.pk}"


def read_limited(stream: Any, *, limit: int) -> bytes:
    """At most `limit` bytes of a request body; raises when there are more."""
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise PhotoContentRejected(
            PhotoContentErrorCode.TOO_LARGE, f"A photo may have at most {limit} bytes."
        )
    return body


def photo_content_store(*, actor: User, photo: Photo, body: bytes) -> StoredContent:
    """Check the bytes against the photo's metadata, store them under photos/<id> and
    record their arrival; the same bytes again change nothing."""
    limit = photo_max_bytes()
    if not body:
        raise PhotoContentRejected(PhotoContentErrorCode.EMPTY, "The request body is empty.")
    if len(body) > limit:
        raise PhotoContentRejected(
            PhotoContentErrorCode.TOO_LARGE, f"A photo may have at most {limit} bytes."
        )
    sniffed = sniff_image_type(body[:16])
    if sniffed is None:
        raise PhotoContentRejected(
            PhotoContentErrorCode.NOT_AN_IMAGE, "The bytes are not a JPEG, PNG or WebP image."
        )
    if sniffed != photo.content_type:
        raise PhotoContentRejected(
            PhotoContentErrorCode.TYPE_MISMATCH,
            f"The bytes are {sniffed}, the photo's content_type is {photo.content_type}.",
        )
    check_image_pixels(body[:HEADER_BYTES])
    digest = hashlib.sha256(body).hexdigest()
    if digest != photo.sha256:
        raise PhotoContentRejected(
            PhotoContentErrorCode.SHA256_MISMATCH,
            f"The bytes' SHA-256 is {digest}, the photo's sha256 is {photo.sha256}.",
        )
    name = photo_storage_name(photo)
    if (
        photo.uploaded_at is not None
        and photo.content.name == name
        and photo.size_bytes == len(body)
    ):
        return StoredContent(created=False, size_bytes=len(body))
    if default_storage.exists(name):
        default_storage.delete(name)  # a half-finished earlier upload: keep the exact name
    stored_name = default_storage.save(name, ContentFile(body))
    with transaction.atomic():
        bulk_update_records(
            entity="photo",
            values_by_id={photo.pk: {"uploaded_at": timezone.now(), "upload_state": "uploaded"}},
            attrs_by_id={photo.pk: {"size_bytes": len(body), "content": stored_name}},
            actor=actor,
            source=ChangeSource.REST,
            device_id=f"rest-{actor.pk}",
        )
        photo_thumbnail.delay_on_commit(photo_id=str(photo.pk))
    return StoredContent(created=True, size_bytes=len(body))


def photo_content_open(photo: Photo) -> IO[bytes] | None:
    """The stored bytes of a photo, or None when they have not arrived."""
    if photo.uploaded_at is None or not photo.content.name:
        return None
    try:
        return default_storage.open(photo.content.name, "rb")
    except FileNotFoundError:
        return None

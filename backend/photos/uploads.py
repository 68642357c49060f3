"""Photo bytes straight to object storage: where a phone sends them, and the check after.

With S3 the phone gets a presigned PUT signed for the photo's SHA-256
(`x-amz-checksum-sha256` is one of its signed headers), so the store takes those bytes
and no others, and the app servers never carry them; `photo_upload_confirm` then reads
the stored object's size and checksum (not its bytes) and records the arrival through the
sync engine. With local storage the target is the app's own `PUT /api/photos/{id}/content`.
"""

import base64
import datetime as dt
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from fieldline.conf import fieldline_settings
from photos.content import (
    PhotoContentErrorCode,
    PhotoContentRejected,
    check_image_pixels,
    photo_max_bytes,
    photo_storage_name,
    sniff_image_type,
)
from photos.imaging import HEADER_BYTES
from photos.jobs import photo_thumbnail
from surveys.models import Photo, PhotoUploadState
from sync.bulk import bulk_update_records
from sync.models import ChangeSource


@dataclass(frozen=True)
class UploadTarget:
    method: str
    url: str
    headers: dict[str, str]
    expires_at: dt.datetime | None


class PhotoNotUploaded(Exception):
    """No bytes are stored for the photo yet."""


def object_storage():
    """The S3 storage, or None when photos are kept on the local filesystem."""
    return default_storage if hasattr(default_storage, "bucket_name") else None


def _s3_client(storage):
    """A client for the storage's bucket that signs with SigV4: SigV4 signs the checksum
    header into a presigned URL (older signatures would leave it out)."""
    session = boto3.session.Session(
        aws_access_key_id=storage.access_key or None,
        aws_secret_access_key=storage.secret_key or None,
        aws_session_token=storage.security_token or None,
    )
    return session.client(
        "s3",
        endpoint_url=storage.endpoint_url or None,
        region_name=storage.region_name or None,
        config=Config(signature_version="s3v4"),
    )


def sha256_base64(photo: Photo) -> str:
    return base64.b64encode(bytes.fromhex(photo.sha256)).decode()


def photo_upload_target(*, photo: Photo, content_url: str) -> UploadTarget:
    """Where and how the phone sends the photo's bytes; `content_url` is the app's own
    upload URL, used with local storage."""
    headers = {"Content-Type": photo.content_type}
    storage = object_storage()
    if storage is None:
        return UploadTarget(method="PUT", url=content_url, headers=headers, expires_at=None)
    ttl = fieldline_settings.PHOTO_UPLOAD_URL_TTL_S
    checksum = sha256_base64(photo)
    url = _s3_client(storage).generate_presigned_url(
        "put_object",
        Params={
            "Bucket": storage.bucket_name,
            "Key": storage._normalize_name(photo_storage_name(photo)),
            "ContentType": photo.content_type,
            "ChecksumAlgorithm": "SHA256",
            "ChecksumSHA256": checksum,
        },
        ExpiresIn=ttl,
    )
    return UploadTarget(
        method="PUT",
        url=url,
        headers=headers
        | {"x-amz-sdk-checksum-algorithm": "SHA256", "x-amz-checksum-sha256": checksum},
        expires_at=timezone.now() + dt.timedelta(seconds=ttl),
    )


def photo_upload_confirm(*, actor: User, photo: Photo) -> Photo:
    """Check the stored object against the photo (size, SHA-256, image type) and record
    the arrival; refused bytes are deleted, so the phone uploads again. Raises
    PhotoNotUploaded when nothing is stored, PhotoContentRejected when it is not the photo."""
    storage = object_storage()
    name = photo_storage_name(photo)
    if storage is None:
        # Local storage: PUT /content has checked and recorded the bytes already.
        if photo.uploaded_at is None or not default_storage.exists(photo.content.name or name):
            raise PhotoNotUploaded
        return photo
    client = _s3_client(storage)
    key = storage._normalize_name(name)
    try:
        head = client.head_object(Bucket=storage.bucket_name, Key=key, ChecksumMode="ENABLED")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise PhotoNotUploaded from error
        raise
    size = head["ContentLength"]
    try:
        _check_stored(photo=photo, size=size, checksum=head.get("ChecksumSHA256"))
        head_range = f"bytes=0-{HEADER_BYTES - 1}"
        head_bytes = client.get_object(Bucket=storage.bucket_name, Key=key, Range=head_range)
        head = head_bytes["Body"].read()
        sniffed = sniff_image_type(head[:16])
        if sniffed != photo.content_type:
            raise PhotoContentRejected(
                PhotoContentErrorCode.TYPE_MISMATCH,
                f"The stored bytes are {sniffed or 'not an image'}, the photo's content_type "
                f"is {photo.content_type}.",
            )
        check_image_pixels(head)
    except PhotoContentRejected:
        client.delete_object(Bucket=storage.bucket_name, Key=key)
        raise
    if photo.uploaded_at is not None and photo.content.name == name and photo.size_bytes == size:
        return photo  # confirmed before: nothing changes
    with transaction.atomic():
        bulk_update_records(
            entity="photo",
            values_by_id={
                photo.pk: {
                    "uploaded_at": timezone.now(),
                    "upload_state": PhotoUploadState.UPLOADED.value,
                }
            },
            attrs_by_id={photo.pk: {"size_bytes": size, "content": name}},
            actor=actor,
            source=ChangeSource.REST,
            device_id=f"rest-{actor.pk}",
        )
        photo_thumbnail.delay_on_commit(photo_id=str(photo.pk))
    photo.refresh_from_db()
    return photo


def _check_stored(*, photo: Photo, size: int, checksum: str | None) -> None:
    limit = photo_max_bytes()
    if size == 0:
        raise PhotoContentRejected(PhotoContentErrorCode.EMPTY, "The stored object is empty.")
    if size > limit:
        raise PhotoContentRejected(
            PhotoContentErrorCode.TOO_LARGE, f"A photo may have at most {limit} bytes."
        )
    if checksum != sha256_base64(photo):
        raise PhotoContentRejected(
            PhotoContentErrorCode.SHA256_MISMATCH,
            f"The stored object's SHA-256 is {checksum or 'unknown'}, the photo's is "
            f"{sha256_base64(photo)} (base64).",
        )

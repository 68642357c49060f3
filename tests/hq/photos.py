"""Photos with real bytes and thumbnails, for the review page's tests."""

import hashlib
import io
import uuid

from PIL import Image

from accounts.models import User
from photos.content import photo_content_store
from photos.thumbnails import photo_thumbnail_make
from surveys.models import Photo
from tests.conftest import create


def jpeg(colour: tuple[int, int, int], size: tuple[int, int] = (1200, 900)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG", quality=90)
    return out.getvalue()


def photo_with_bytes(
    *, actor: User, survey: uuid.UUID, section: str, colour=(30, 120, 200), thumbnail=True
) -> uuid.UUID:
    """A photo whose bytes arrived through the upload service, thumbnail made."""
    data = jpeg(colour)
    photo_id = create(
        "photo",
        survey=survey,
        section=section,
        sha256=hashlib.sha256(data).hexdigest(),
        content_type="image/jpeg",
    )
    photo_content_store(actor=actor, photo=Photo.objects.get(pk=photo_id), body=data)
    if thumbnail:
        photo_thumbnail_make(photo_id=photo_id)
    return photo_id

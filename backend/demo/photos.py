"""Real, small JPEGs for the demo's photos, generated from the seed (same seed, same bytes),
so the review queue, the map and the thumbnails show pictures and templates that require
photos can be met.

Each picture is a plain sketch of what its section shows (a shop front, shelves, ...) in
colours drawn from the seed, with the photo's id written on it, so no two photos share
their bytes (a shared SHA-256 would flag them as reused at another store).
"""

import datetime as dt
import hashlib
import io
import random
import uuid
from collections.abc import Callable, Mapping, MutableSequence, Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image, ImageDraw

from photos.thumbnails import photo_thumbnail_make
from sync.bulk import bulk_update_records
from sync.models import ChangeSource

# The picture's size: a phone's photo scaled down, a few kilobytes as a JPEG.
SIZE = (320, 240)
JPEG_QUALITY = 70
# Of the photos the seed plans, this share has its bytes uploaded; the rest are still on
# the phone (completeness counts only uploaded photos).
UPLOADED_SHARE = 0.85
# Visits with a check-in fix that also took a photo of the shop front.
VISIT_PHOTO_SHARE = 0.2


def demo_jpeg(*, rng: random.Random, section: str, label: str) -> bytes:
    """A sketch of `section` in seed-drawn colours, with `label` written on it."""
    sky = tuple(rng.randint(150, 230) for _ in range(3))
    wall = tuple(rng.randint(60, 200) for _ in range(3))
    image = Image.new("RGB", SIZE, sky)
    draw = ImageDraw.Draw(image)
    width, height = SIZE
    if section in ("storefront", "surroundings"):
        draw.rectangle((20, 60, width - 20, height - 20), fill=wall)
        draw.rectangle((40, 30, width - 40, 60), fill=tuple(255 - c for c in wall))
        draw.rectangle((width // 2 - 25, height - 100, width // 2 + 25, height - 20), fill=sky)
        for x in (50, width - 110):
            draw.rectangle((x, 90, x + 60, 140), fill=(200, 220, 240))
    else:
        for row in range(4):
            top = 30 + row * 50
            draw.rectangle((15, top + 35, width - 15, top + 42), fill=wall)
            x = 20
            while x < width - 30:
                item = rng.randint(12, 30)
                colour = tuple(rng.randint(30, 250) for _ in range(3))
                draw.rectangle((x, top + rng.randint(5, 20), x + item, top + 34), fill=colour)
                x += item + rng.randint(2, 6)
    draw.text((8, 6), f"{section} {label}", fill=(0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()


def plan_photo_bytes(*, rng: random.Random, photos: Sequence[dict[str, Any]]) -> dict[str, bytes]:
    """Bytes for a share of the planned photos; their `sha256` is set to match them."""
    uploaded = {}
    for row in photos:
        if rng.random() < UPLOADED_SHARE:
            body = demo_jpeg(
                rng=rng, section=row.get("section", "storefront"), label=str(row["id"])[:8]
            )
            row["sha256"] = hashlib.sha256(body).hexdigest()
            uploaded[str(row["id"])] = body
    return uploaded


def plan_visit_photos(
    *,
    rng: random.Random,
    visits: Sequence[Mapping[str, Any]],
    new_id: Callable[[], uuid.UUID],
    photos: MutableSequence[dict[str, Any]],
) -> None:
    """A shop-front photo for a share of the visits that have a check-in fix."""
    for visit in visits:
        if "check_in_lat" not in visit or rng.random() >= VISIT_PHOTO_SHARE:
            continue
        taken_at: dt.datetime = visit["check_in_at"] + dt.timedelta(minutes=rng.randint(1, 5))
        photos.append(
            {
                "id": new_id(),
                "visit": str(visit["id"]),
                "section": "storefront",
                # Replaced by the bytes' own digest when the seed uploads them.
                "sha256": hashlib.sha256(rng.randbytes(32)).hexdigest(),
                "content_type": "image/jpeg",
                "taken_at": taken_at,
                "lat": visit["check_in_lat"],
                "lon": visit["check_in_lon"],
            }
        )


def store_photo_bytes(*, uploaded: Mapping[str, bytes], at: dt.datetime) -> list[str]:
    """Put the bytes in the default storage and record their arrival through the sync
    engine, as an upload would; thumbnails are made once the seed has committed."""
    names = {
        photo_id: default_storage.save(f"photos/{photo_id}", ContentFile(body))
        for photo_id, body in uploaded.items()
    }
    for start in range(0, len(names), 1000):
        chunk = list(names.items())[start : start + 1000]
        bulk_update_records(
            entity="photo",
            values_by_id={photo_id: {"uploaded_at": at} for photo_id, _ in chunk},
            attrs_by_id={
                photo_id: {"content": name, "size_bytes": len(uploaded[photo_id])}
                for photo_id, name in chunk
            },
            source=ChangeSource.SYSTEM,
            device_id="demo-seed",
            at=at,
        )
    ids = sorted(names)
    transaction.on_commit(lambda: [photo_thumbnail_make(photo_id=pk) for pk in ids])
    return ids

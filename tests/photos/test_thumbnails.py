"""Thumbnails: made by a background job when a photo's bytes arrive, served in scope."""

import hashlib
import io
import os

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from photos.jobs import photo_thumbnail, photo_thumbnails_sweep
from photos.thumbnails import ThumbnailOutcome, photo_thumbnail_make
from surveys.models import PhotoThumbnail
from tests.conftest import create

RED, BLUE = (220, 20, 20), (20, 20, 220)


def sideways_jpeg(width: int = 1200, height: int = 800) -> bytes:
    """A landscape JPEG, red on the left and blue on the right, whose EXIF orientation (6)
    says: turn me 90 degrees clockwise to show me. Shown upright, red is on top."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def transparent_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (900, 300), (0, 0, 0, 0)).save(out, format="PNG")
    return out.getvalue()


PHOTO = sideways_jpeg()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_photo(world, data: bytes = PHOTO, content_type: str = "image/jpeg", who="rep_north"):
    return create("photo", survey=world[who]["survey"], sha256=sha(data), content_type=content_type)


def upload(client, photo, data: bytes = PHOTO, content_type: str = "image/jpeg") -> None:
    response = client.put(f"/api/photos/{photo}/content", data=data, content_type=content_type)
    assert response.status_code == 201, response.content


def thumbnail_of(client, photo) -> Image.Image:
    response = client.get(f"/api/photos/{photo}/thumbnail")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    image.load()
    return image


def near(pixel, colour, tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def test_arriving_bytes_get_an_upright_thumbnail(
    media, client_for, world, django_capture_on_commit_callbacks
):
    client = client_for("rep_north")
    photo = new_photo(world)
    with django_capture_on_commit_callbacks(execute=True) as jobs:
        upload(client, photo)
    assert len(jobs) == 1

    image = thumbnail_of(client, photo)

    assert image.format == "JPEG"
    assert image.size == (213, 320)  # 800 x 1200 upright, longest edge 320
    assert near(image.getpixel((106, 10)), RED)
    assert near(image.getpixel((106, 310)), BLUE)
    # Stored next to the photo's bytes.
    assert sorted(os.listdir(media / "photos")) == [str(photo), f"{photo}.thumb.jpg"]
    row = PhotoThumbnail.objects.get(photo_id=photo)
    assert (row.width, row.height, row.error, row.source_sha256) == (213, 320, "", sha(PHOTO))


def test_no_thumbnail_before_the_job_ran(media, client_for, world):
    client = client_for("rep_north")
    photo = new_photo(world)
    before = client.get(f"/api/photos/{photo}/thumbnail")
    assert before.status_code == 404
    assert "no thumbnail yet" in before.json()["detail"]

    upload(client, photo)  # the job is queued for after the commit, which has not come

    assert client.get(f"/api/photos/{photo}/thumbnail").status_code == 404
    assert not PhotoThumbnail.objects.exists()


def test_thumbnails_follow_the_photos_scope(
    media, client_for, world, django_capture_on_commit_callbacks
):
    photo = new_photo(world)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client_for("rep_north"), photo)
    assert client_for("rep_south").get(f"/api/photos/{photo}/thumbnail").status_code == 404
    assert client_for("manager_south").get(f"/api/photos/{photo}/thumbnail").status_code == 404
    assert thumbnail_of(client_for("manager_north"), photo).size == (213, 320)
    assert thumbnail_of(client_for("hq"), photo).size == (213, 320)


def test_the_longest_edge_is_a_setting_and_small_images_are_not_enlarged(
    settings, media, client_for, world
):
    settings.FIELDLINE = {**settings.FIELDLINE, "THUMBNAIL_MAX_EDGE_PX": 90}
    client = client_for("rep_north")
    photo = new_photo(world)
    upload(client, photo)
    small_bytes = sideways_jpeg(60, 40)
    small = new_photo(world, data=small_bytes)
    upload(client, small, small_bytes)

    assert photo_thumbnail_make(photo_id=photo) == ThumbnailOutcome.MADE
    assert photo_thumbnail_make(photo_id=small) == ThumbnailOutcome.MADE

    assert thumbnail_of(client, photo).size == (60, 90)
    assert thumbnail_of(client, small).size == (40, 60)


def test_a_transparent_png_becomes_a_jpeg_on_white(media, client_for, world):
    client = client_for("rep_north")
    data = transparent_png()
    photo = new_photo(world, data=data, content_type="image/png")
    upload(client, photo, data, "image/png")
    photo_thumbnail.delay(photo_id=str(photo))
    image = thumbnail_of(client, photo)
    assert image.size == (320, 107)
    assert near(image.getpixel((160, 50)), (255, 255, 255), tolerance=5)


def test_bytes_pillow_cannot_read_get_no_thumbnail_and_no_retries(
    media, client_for, world, django_capture_on_commit_callbacks
):
    client = client_for("rep_north")
    garbage = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(3000) + b"\xff\xd9"
    photo = new_photo(world, data=garbage)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, photo, garbage)

    response = client.get(f"/api/photos/{photo}/thumbnail")
    assert response.status_code == 404
    row = PhotoThumbnail.objects.get(photo_id=photo)
    assert (row.name, row.error != "") == ("", True)
    assert photo_thumbnails_sweep.delay().get() == 0
    assert sorted(os.listdir(media / "photos")) == [str(photo)]


def test_making_a_thumbnail_again_changes_nothing(media, client_for, world):
    client = client_for("rep_north")
    photo = new_photo(world)
    upload(client, photo)
    assert photo_thumbnail_make(photo_id=photo) == ThumbnailOutcome.MADE
    made_at = PhotoThumbnail.objects.get(photo_id=photo).made_at

    assert photo_thumbnail_make(photo_id=photo) == ThumbnailOutcome.ALREADY_THERE

    assert PhotoThumbnail.objects.get(photo_id=photo).made_at == made_at
    assert sorted(os.listdir(media / "photos")) == [str(photo), f"{photo}.thumb.jpg"]


def test_photos_without_bytes_get_none(media, world):
    photo = new_photo(world)
    assert photo_thumbnail_make(photo_id=photo) == ThumbnailOutcome.NO_BYTES
    assert not PhotoThumbnail.objects.exists()


def test_the_sweep_makes_missing_thumbnails_a_bounded_batch_at_a_time(
    settings, media, client_for, world
):
    settings.FIELDLINE = {**settings.FIELDLINE, "THUMBNAIL_SWEEP_BATCH": 2}
    client = client_for("rep_north")
    photos = []
    for size in (300, 400, 500):
        data = sideways_jpeg(size, size // 2)
        photos.append(new_photo(world, data=data))
        upload(client, photos[-1], data)
    never_uploaded = new_photo(world, data=sideways_jpeg(10, 10))

    assert [photo_thumbnails_sweep.delay().get() for _ in range(3)] == [2, 1, 0]

    assert PhotoThumbnail.objects.filter(photo_id__in=photos, error="").count() == 3
    assert not PhotoThumbnail.objects.filter(photo_id=never_uploaded).exists()
    for photo in photos:
        assert max(thumbnail_of(client, photo).size) <= 320


def test_the_sweep_is_scheduled(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "surveys.jobs.photo_thumbnails_sweep" in tasks
    assert photo_thumbnails_sweep.name == "surveys.jobs.photo_thumbnails_sweep"


@pytest.mark.django_db(transaction=True)
def test_thumbnails_go_to_s3_compatible_storage(s3, client_for, world):
    client = client_for("rep_north")
    photo = new_photo(world)

    upload(client, photo)  # committed for real: the job runs inline after the commit

    stored = s3.get_object(Bucket="fieldline-photos", Key=f"photos/{photo}.thumb.jpg")
    assert Image.open(io.BytesIO(stored["Body"].read())).size == (213, 320)
    assert thumbnail_of(client, photo).size == (213, 320)
    assert default_storage.exists(f"photos/{photo}")


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height (a 12,000 x 12,000 PNG of 445 KB took
    1.1 GB to thumbnail); what follows the header is irrelevant: it must never be decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


HUGE = png_header_only(12_000, 12_000)


def test_an_image_over_the_pixel_limit_is_refused_on_upload(media, client_for, world):
    client = client_for("rep_north")
    photo = new_photo(world, HUGE, content_type="image/png")

    response = client.put(f"/api/photos/{photo}/content", data=HUGE, content_type="image/png")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "too_many_pixels"
    assert not default_storage.exists(f"photos/{photo}")


def test_an_image_over_the_pixel_limit_is_never_decoded_for_a_thumbnail(media, world, monkeypatch):
    """Bytes already stored (an earlier limit, another path) get no thumbnail, and the
    decoder is never started."""
    from photos import imaging
    from surveys.models import Photo

    photo_id = new_photo(world, HUGE, content_type="image/png")
    name = default_storage.save(f"photos/{photo_id}", io.BytesIO(HUGE))
    Photo.objects.filter(pk=photo_id).update(
        content=name, size_bytes=len(HUGE), uploaded_at="2026-12-01T09:00:00Z"
    )

    def never(**kwargs):
        raise AssertionError("decoded an image over the pixel limit")

    monkeypatch.setattr(imaging, "thumbnail_in_worker", never)
    monkeypatch.setattr("photos.thumbnails.thumbnail_in_worker", never)

    assert photo_thumbnail_make(photo_id=photo_id) == ThumbnailOutcome.UNDECODABLE
    assert "pixels" in PhotoThumbnail.objects.get(photo_id=photo_id).error


def test_the_worker_refuses_what_exceeds_its_memory_limit():
    from photos.imaging import ImageRefused, thumbnail_in_worker

    out = io.BytesIO()
    Image.new("RGB", (6000, 6000), RED).save(out, format="PNG")  # 120 KB, 108 MB decoded
    data = out.getvalue()
    with pytest.raises(ImageRefused):
        thumbnail_in_worker(
            data=data,
            max_edge=320,
            quality=85,
            max_pixels=50_000_000,
            max_memory_bytes=128 * 1024 * 1024,
            timeout_s=30,
        )
    made = thumbnail_in_worker(
        data=data,
        max_edge=320,
        quality=85,
        max_pixels=50_000_000,
        max_memory_bytes=1024 * 1024 * 1024,
        timeout_s=30,
    )
    assert max(made.width, made.height) == 320

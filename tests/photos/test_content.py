"""Photo bytes: PUT/GET /api/photos/{id}/content, checked against the synced metadata."""

import hashlib
import os

import pytest
from django.core.files.storage import default_storage

from surveys.models import Photo
from sync.models import ChangeLog
from tests.conftest import create
from tests.sync.phone import Phone

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(3000) + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(500)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(client, photo_id, body: bytes, content_type="image/jpeg"):
    return client.put(f"/api/photos/{photo_id}/content", data=body, content_type=content_type)


def new_photo(world, who="rep_north", data: bytes = JPEG, content_type="image/jpeg"):
    return create("photo", survey=world[who]["survey"], sha256=sha(data), content_type=content_type)


# Pulls see committed transactions only (on PostgreSQL), so this test commits.
@pytest.mark.django_db(transaction=True)
def test_offline_first_metadata_then_bytes(media, client_for, world):
    phone = Phone(client_for("rep_north"))
    survey = phone.create("survey", store=str(world["rep_north"]["store"]))
    photo = phone.create(
        "photo", survey=survey, section="storefront", sha256=sha(JPEG), content_type="image/jpeg"
    )
    phone.sync()
    assert phone.records("photo")[photo]["uploaded_at"] is None

    response = put(phone.client, photo, JPEG)

    assert response.status_code == 201, response.content
    stored = Photo.objects.get(pk=photo)
    assert stored.size_bytes == len(JPEG)
    assert stored.uploaded_at is not None
    assert stored.content.name == f"photos/{photo}"
    with default_storage.open(f"photos/{photo}") as f:
        assert f.read() == JPEG
    phone.pull()
    assert phone.records("photo")[photo]["uploaded_at"] is not None
    served = phone.client.get(f"/api/photos/{photo}/content")
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == JPEG
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"


def test_a_retried_upload_is_a_no_op(media, client_for, world):
    client = client_for("rep_north")
    photo = new_photo(world)
    assert put(client, photo, JPEG).status_code == 201
    version = Photo.objects.get(pk=photo).version
    changes = ChangeLog.objects.filter(record_id=photo).count()

    again = put(client, photo, JPEG)

    assert again.status_code == 200
    assert Photo.objects.get(pk=photo).version == version
    assert ChangeLog.objects.filter(record_id=photo).count() == changes
    assert sorted(os.listdir(media / "photos")) == [str(photo)]


def test_wrong_sha256_is_refused(media, client_for, world):
    photo = new_photo(world)
    other = JPEG[:-3] + b"xyz"
    response = put(client_for("rep_north"), photo, other)
    assert response.status_code == 400
    assert response.json()["code"] == "sha256_mismatch"
    assert sha(other) in response.json()["detail"]
    assert Photo.objects.get(pk=photo).uploaded_at is None
    assert not default_storage.exists(f"photos/{photo}")


@pytest.mark.parametrize(
    ("body", "code"),
    [(PNG, "type_mismatch"), (b"<html><script>x</script></html>", "not_an_image"), (b"", "empty")],
)
def test_bytes_that_are_not_the_promised_image_are_refused(media, client_for, world, body, code):
    photo = new_photo(world, data=body)
    response = put(client_for("rep_north"), photo, body)
    assert response.status_code == 400
    assert response.json()["code"] == code
    photo_row = Photo.objects.get(pk=photo)
    assert (photo_row.uploaded_at, photo_row.size_bytes) == (None, None)


def test_webp_and_png_are_accepted_when_declared(media, client_for, world):
    webp = b"RIFF\x00\x00\x00\x00WEBPVP8 " + os.urandom(100)
    client = client_for("rep_north")
    assert (
        put(client, new_photo(world, data=webp, content_type="image/webp"), webp).status_code == 201
    )
    assert put(client, new_photo(world, data=PNG, content_type="image/png"), PNG).status_code == 201


def test_oversized_bytes_are_refused(settings, media, client_for, world):
    settings.FIELDLINE = {**settings.FIELDLINE, "PHOTO_MAX_BYTES": 1000}
    photo = new_photo(world)
    response = put(client_for("rep_north"), photo, JPEG)
    assert response.status_code == 413
    assert Photo.objects.get(pk=photo).uploaded_at is None


def test_a_body_over_the_path_limit_is_refused_before_the_view(settings, media, client_for, world):
    settings.FIELDLINE = {**settings.FIELDLINE, "BODY_LIMITS": {"/api/photos/": 1000}}
    response = put(client_for("rep_north"), new_photo(world), JPEG)
    assert response.status_code == 413


def test_photos_bigger_than_the_default_upload_limit_are_accepted(
    settings, media, client_for, world
):
    big = b"\xff\xd8\xff\xe0" + os.urandom(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    response = put(client_for("rep_north"), new_photo(world, data=big), big)
    assert response.status_code == 201, response.content


def test_another_scopes_photo_is_not_found(media, client_for, world):
    photo = new_photo(world, who="rep_south")
    client = client_for("rep_north")
    assert put(client, photo, JPEG).status_code == 404
    assert client.get(f"/api/photos/{photo}/content").status_code == 404
    assert Photo.objects.get(pk=photo).uploaded_at is None


def test_content_before_upload_is_not_found(media, client_for, world):
    assert client_for("rep_north").get(f"/api/photos/{new_photo(world)}/content").status_code == 404


def test_a_manager_may_read_but_not_upload(media, client_for, world):
    photo = new_photo(world)
    assert put(client_for("rep_north"), photo, JPEG).status_code == 201
    manager = client_for("manager_north")
    assert put(manager, photo, JPEG).status_code == 403
    assert manager.get(f"/api/photos/{photo}/content").status_code == 200


def test_bytes_go_to_s3_compatible_storage(s3, client_for, world):
    client = client_for("rep_north")
    photo = new_photo(world)

    assert put(client, photo, JPEG).status_code == 201
    assert put(client, photo, JPEG).status_code == 200

    stored = s3.get_object(Bucket="fieldline-photos", Key=f"photos/{photo}")
    assert stored["Body"].read() == JPEG
    served = client.get(f"/api/photos/{photo}/content")
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == JPEG
    assert Photo.objects.get(pk=photo).size_bytes == len(JPEG)

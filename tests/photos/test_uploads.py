"""Photo bytes straight to object storage: POST /api/photos/{id}/upload gives where to send
them, POST /api/photos/{id}/uploaded checks what arrived; `upload_state` syncs."""

import base64
import hashlib
import io
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from PIL import Image

from surveys.models import Photo
from sync.models import ChangeLog
from tests.conftest import create
from tests.sync.phone import Phone

# The thumbnail job runs once the upload's transaction has committed.
pytestmark = pytest.mark.django_db(transaction=True)


def jpeg(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, format="JPEG")
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_photo(world, data: bytes) -> str:
    return str(
        create(
            "photo",
            survey=world["rep_north"]["survey"],
            sha256=sha(data),
            content_type="image/jpeg",
        )
    )


def test_presigned_put_to_s3_then_uploaded_marks_the_photo(s3, client_for, world):
    data = jpeg()
    photo = new_photo(world, data)
    phone = Phone(client_for("rep_north"))
    phone.pull()
    assert phone.records("photo")[photo]["upload_state"] == "pending"

    target = phone.client.post(f"/api/photos/{photo}/upload").json()
    put = requests.put(target["url"], data=data, headers=target["headers"], timeout=30)
    done = phone.client.post(f"/api/photos/{photo}/uploaded")

    assert target["method"] == "PUT"
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert target["headers"] == {
        "Content-Type": "image/jpeg",
        "x-amz-sdk-checksum-algorithm": "SHA256",
        "x-amz-checksum-sha256": digest,
    }
    query = parse_qs(urlsplit(target["url"]).query)
    # The checksum is one of the headers the URL is signed for: other bytes need another URL.
    assert "x-amz-checksum-sha256" in query["X-Amz-SignedHeaders"][0].split(";")
    assert target["expires_at"] is not None
    assert put.status_code == 200, put.text
    assert done.status_code == 200, done.content
    stored = s3.get_object(Bucket="fieldline-photos", Key=f"photos/{photo}")["Body"].read()
    assert stored == data
    row = Photo.objects.get(pk=photo)
    assert (row.size_bytes, row.content.name) == (len(data), f"photos/{photo}")
    assert row.uploaded_at is not None
    # The thumbnail job ran after the commit: the state moved on, and phones pull it.
    assert done.json()["upload_state"] == "thumbnail_ready"
    phone.pull()
    assert phone.records("photo")[photo]["upload_state"] == "thumbnail_ready"


def test_other_bytes_in_the_store_are_refused_deleted_and_change_nothing(s3, client_for, world):
    data, other = jpeg("red"), jpeg("blue")
    photo = new_photo(world, data)
    client = client_for("rep_north")
    target = client.post(f"/api/photos/{photo}/upload").json()
    # A client that ignores the headers it was given and sends other bytes with their own
    # checksum (S3 refuses this for the signature; the check after catches it regardless).
    own = base64.b64encode(hashlib.sha256(other).digest()).decode()
    requests.put(
        target["url"],
        data=other,
        headers=target["headers"] | {"x-amz-checksum-sha256": own},
        timeout=30,
    )
    logged = ChangeLog.objects.filter(record_id=photo).count()

    refused = client.post(f"/api/photos/{photo}/uploaded")

    assert refused.status_code == 400
    assert refused.json()["code"] == "sha256_mismatch"
    row = Photo.objects.get(pk=photo)
    assert (row.upload_state, row.uploaded_at, row.size_bytes) == ("pending", None, None)
    assert ChangeLog.objects.filter(record_id=photo).count() == logged
    listed = s3.list_objects_v2(Bucket="fieldline-photos", Prefix=f"photos/{photo}")
    assert listed["KeyCount"] == 0


def test_uploaded_before_the_bytes_is_409(s3, client_for, world):
    photo = new_photo(world, jpeg())

    response = client_for("rep_north").post(f"/api/photos/{photo}/uploaded")

    assert response.status_code == 409
    assert response.json()["code"] == "not_uploaded"
    assert Photo.objects.get(pk=photo).upload_state == "pending"


def test_with_local_storage_the_target_is_the_content_endpoint(media, client_for, world):
    data = jpeg()
    photo = new_photo(world, data)
    client = client_for("rep_north")
    before = client.post(f"/api/photos/{photo}/uploaded")

    target = client.post(f"/api/photos/{photo}/upload").json()
    put = client.put(urlsplit(target["url"]).path, data=data, content_type="image/jpeg")
    done = client.post(f"/api/photos/{photo}/uploaded")

    assert before.status_code == 409
    assert target == {
        "method": "PUT",
        "url": f"http://testserver/api/photos/{photo}/content",
        "headers": {"Content-Type": "image/jpeg"},
        "expires_at": None,
    }
    assert put.status_code == 201
    assert done.status_code == 200
    assert done.json()["upload_state"] == "thumbnail_ready"


def test_uploads_are_scoped_and_for_field_roles(media, client_for, world):
    photo = new_photo(world, jpeg())

    assert client_for("rep_north_2").post(f"/api/photos/{photo}/upload").status_code == 404
    assert client_for("rep_south").post(f"/api/photos/{photo}/uploaded").status_code == 404
    assert client_for("manager_north").post(f"/api/photos/{photo}/upload").status_code == 403

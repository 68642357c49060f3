"""Reused photos: the same bytes already used at another store flag the photo and its visit."""

import hashlib
import io

import pytest
from PIL import Image

from surveys.models import Photo
from sync.models import ChangeLog
from tests.conftest import create
from tests.sync.phone import Phone
from visits.jobs import visit_photo_flags_refresh
from visits.models import Visit


def jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, format="JPEG")
    return out.getvalue()


SHELF = jpeg((200, 30, 30))
OTHER = jpeg((30, 200, 30))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def shops(people) -> dict[str, str]:
    """Two stores of rep_north in Hamburg, each with a survey, and a visit at the second."""
    rep = people["rep_north"].pk
    ids = {}
    for name, lat, lon in (("a", 53.5511, 9.9937), ("b", 53.5627, 9.9631)):
        store = create("store", name=f"Kiosk {name}", lat=lat, lon=lon, region="north", owner=rep)
        ids[name] = str(store)
        ids[f"survey_{name}"] = str(create("survey", store=store))
    ids["visit_b"] = str(create("visit", store=ids["b"], check_in_at="2026-11-02T09:00:00Z"))
    return ids


def add_photo(phone: Phone, data: bytes, **owner: str) -> str:
    return phone.create("photo", sha256=sha(data), content_type="image/jpeg", **owner)


def flags_of(photo_id: str) -> list[str]:
    return Photo.objects.get(pk=photo_id).flags


def test_the_same_photo_bytes_at_two_stores(media, client_for, shops):
    phone = Phone(client_for("rep_north"))
    first = add_photo(phone, SHELF, survey=shops["survey_a"])
    (stored,) = phone.push()
    assert (
        phone.client.put(
            f"/api/photos/{first}/content", data=SHELF, content_type="image/jpeg"
        ).status_code
        == 201
    )
    second = add_photo(phone, SHELF, survey=shops["survey_b"])
    fresh = add_photo(phone, OTHER, survey=shops["survey_b"])

    reused, other = phone.push()

    assert stored["record"]["flags"] == []
    assert reused["record"]["flags"] == ["photo_reused"]
    assert other["record"]["flags"] == []
    assert (flags_of(first), flags_of(second), flags_of(fresh)) == ([], ["photo_reused"], [])
    # The bytes themselves are what the metadata promised: they are stored all the same.
    assert (
        phone.client.put(
            f"/api/photos/{second}/content", data=SHELF, content_type="image/jpeg"
        ).status_code
        == 201
    )
    served = client_for("manager_north").get(f"/api/photos/{second}/")
    assert served.json()["flags"] == ["photo_reused"]


def test_the_same_bytes_twice_at_one_store_are_not_flagged(client_for, shops):
    phone = Phone(client_for("rep_north"))
    add_photo(phone, SHELF, survey=shops["survey_a"])
    again = add_photo(phone, SHELF, survey=str(create("survey", store=shops["a"])))
    phone.push()
    assert flags_of(again) == []


def test_in_one_push_the_later_photo_is_flagged(client_for, shops):
    phone = Phone(client_for("rep_north"))
    first = add_photo(phone, SHELF, survey=shops["survey_a"])
    second = add_photo(phone, SHELF, survey=shops["survey_b"])
    results = phone.push()
    assert [r["record"]["flags"] for r in results] == [[], ["photo_reused"]]
    assert (flags_of(first), flags_of(second)) == ([], ["photo_reused"])


def test_a_deleted_photo_does_not_count(client_for, shops):
    phone = Phone(client_for("rep_north"))
    first = add_photo(phone, SHELF, survey=shops["survey_a"])
    phone.push()
    phone.delete("photo", first)
    phone.push()
    second = add_photo(phone, SHELF, survey=shops["survey_b"])
    phone.push()
    assert flags_of(second) == []


def test_a_reused_photo_flags_its_visit(client_for, shops, django_capture_on_commit_callbacks):
    phone = Phone(client_for("rep_north"))
    add_photo(phone, SHELF, survey=shops["survey_a"])
    phone.push()
    visit_changes = ChangeLog.objects.filter(record_id=shops["visit_b"]).count()

    with django_capture_on_commit_callbacks(execute=True):
        photo = add_photo(phone, SHELF, visit=shops["visit_b"])
        phone.push()

    assert flags_of(photo) == ["photo_reused"]
    visit = Visit.objects.get(pk=shops["visit_b"])
    assert visit.flags == ["photo_reused"]
    # Written through the sync engine: a new version that phones pull.
    assert ChangeLog.objects.filter(record_id=shops["visit_b"]).count() == visit_changes + 1
    served = client_for("manager_north").get("/api/visits/", {"flag": "photo_reused"})
    assert [v["id"] for v in served.json()["results"]] == [shops["visit_b"]]

    # The job is safe to repeat, and a recomputation of the check-in keeps the flag.
    assert visit_photo_flags_refresh.delay(visit_ids=[shops["visit_b"]]).get() == 0
    moved = phone.client.patch(
        f"/api/visits/{shops['visit_b']}/", {"check_in_at": "2026-11-02T22:30:00Z"}, format="json"
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["flags"] == ["photo_reused"]


def test_a_fresh_visit_photo_leaves_the_visit_alone(
    client_for, shops, django_capture_on_commit_callbacks
):
    phone = Phone(client_for("rep_north"))
    with django_capture_on_commit_callbacks(execute=True):
        add_photo(phone, OTHER, visit=shops["visit_b"])
        phone.push()
    assert Visit.objects.get(pk=shops["visit_b"]).flags == []


def test_a_push_may_not_set_photo_flags(client_for, shops):
    phone = Phone(client_for("rep_north"))
    photo = add_photo(phone, SHELF, survey=shops["survey_a"])
    phone.queue[-1]["fields"]["flags"] = []
    (result,) = phone.push()
    assert result["status"] == "rejected"
    assert result["errors"] == {"flags": ["Unknown field."]}
    assert not Photo.objects.filter(pk=photo).exists()

"""Storage that does not only grow: export files, import uploads and the bytes of deleted
photos are removed after their retention period, on local storage and S3 alike, and each
removal is recorded."""

import datetime as dt
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from crm.orders.models import OrderImportJob, OrderImportStatus
from reports.models import ExportJob, ExportKind, ExportStatus, StoredFileRemoval
from reports.retention import storage_retention_sweep
from surveys.models import Photo, PhotoThumbnail
from tests.conftest import create, push_one

pytestmark = pytest.mark.django_db

NOW = timezone.now()
LONG_AGO = NOW - dt.timedelta(days=45)
LATELY = NOW - dt.timedelta(days=2)


@pytest.fixture(params=["local", "s3"])
def storage(request, settings, tmp_path):
    """The sweep runs against the default storage: a folder, or an S3 server on loopback."""
    if request.param == "local":
        return request.getfixturevalue("media")
    return request.getfixturevalue("s3")


def stored(name: str, body: bytes) -> str:
    return default_storage.save(name, ContentFile(body))


def export_job(people, *, finished_at) -> ExportJob:
    job = ExportJob.objects.create(
        kind=ExportKind.SURVEYS_CSV,
        requested_by=people["hq"],
        status=ExportStatus.DONE,
        created_at=finished_at,
        finished_at=finished_at,
    )
    job.file_name = stored(f"exports/{job.pk}/surveys.csv", b"id;store\n1;2\n")
    job.save(update_fields=["file_name"])
    return job


def import_job(people, *, finished_at) -> OrderImportJob:
    job_id = uuid.uuid4()
    return OrderImportJob.objects.create(
        id=job_id,
        file_name=stored(f"imports/orders/{job_id}.csv", b"order_id,store_id\n"),
        sha256="0" * 64,
        size_bytes=18,
        requested_by=people["hq"],
        status=OrderImportStatus.DONE,
        created_at=finished_at,
        finished_at=finished_at,
    )


def photo_with_bytes(world, people, who: str, *, deleted_at=None) -> Photo:
    photo_id = create("photo", survey=world[who]["survey"], sha256="b" * 64)
    name = stored(f"photos/2026/11/{photo_id}.jpg", b"\xff\xd8jpeg bytes")
    Photo.objects.filter(pk=photo_id).update(content=name, size_bytes=12)
    PhotoThumbnail.objects.create(
        photo_id=photo_id,
        source_sha256="b" * 64,
        name=stored(f"thumbnails/{photo_id}.jpg", b"\xff\xd8thumb"),
        made_at=NOW,
    )
    if deleted_at is not None:
        result = push_one(people[who], "photo", "delete", photo_id)
        assert result.status == "applied", result
        Photo.objects.filter(pk=photo_id).update(updated_at=deleted_at)
    return Photo.objects.get(pk=photo_id)


def test_files_past_their_retention_go_and_the_rest_stay(storage, people, world, client_for):
    old_export, new_export = (export_job(people, finished_at=at) for at in (LONG_AGO, LATELY))
    old_import, new_import = (import_job(people, finished_at=at) for at in (LONG_AGO, LATELY))
    gone_photo = photo_with_bytes(world, people, "rep_north", deleted_at=LONG_AGO)
    just_deleted = photo_with_bytes(world, people, "rep_north", deleted_at=LATELY)
    live_photo = photo_with_bytes(world, people, "rep_south")
    old_names = {
        old_export.file_name,
        old_import.file_name,
        gone_photo.content.name,
        gone_photo.thumbnail.name,
    }
    kept_names = {
        new_export.file_name,
        new_import.file_name,
        just_deleted.content.name,
        live_photo.content.name,
        live_photo.thumbnail.name,
    }

    counts = storage_retention_sweep(now=NOW)

    assert counts == {"export": 1, "order_import": 1, "photo": 1, "thumbnail": 1}
    assert not any(default_storage.exists(name) for name in old_names)
    assert all(default_storage.exists(name) for name in kept_names)
    old_export.refresh_from_db()
    assert (old_export.status, old_export.file_name) == ("expired", "")
    assert OrderImportJob.objects.get(pk=old_import.pk).file_name == ""
    gone_photo.refresh_from_db()
    assert gone_photo.content.name == ""
    assert not PhotoThumbnail.objects.filter(photo=gone_photo).exists()
    # The audit keeps what went, with its size and what it belonged to.
    removals = {r.name: r for r in StoredFileRemoval.objects.all()}
    assert set(removals) == old_names
    assert removals[gone_photo_name(old_names, "photos/")].subject_id == str(gone_photo.pk)
    assert removals[old_export_name(old_names)].size_bytes == len(b"id;store\n1;2\n")

    # The download of an expired export says what to do.
    download = client_for("hq").get(f"/api/exports/jobs/{old_export.pk}/download")
    assert download.status_code == 410
    assert "request the export again" in download.json()["detail"]

    # A second run finds nothing left to remove.
    assert sum(storage_retention_sweep(now=NOW).values()) == 0
    assert StoredFileRemoval.objects.count() == 4


def gone_photo_name(names, prefix: str) -> str:
    return next(name for name in names if name.startswith(prefix))


def old_export_name(names) -> str:
    return gone_photo_name(names, "exports/")


def test_retention_periods_are_settings(media, people, settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "EXPORT_RETENTION_DAYS": 1}
    job = export_job(people, finished_at=LATELY)

    storage_retention_sweep(now=NOW)

    job.refresh_from_db()
    assert job.status == "expired"


def test_a_run_takes_a_bounded_batch(media, people, settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "RETENTION_BATCH": 2}
    jobs = [export_job(people, finished_at=LONG_AGO) for _ in range(3)]

    first = storage_retention_sweep(now=NOW)
    second = storage_retention_sweep(now=NOW)

    assert (first["export"], second["export"]) == (2, 1)
    assert {j.status for j in ExportJob.objects.filter(pk__in=[j.pk for j in jobs])} == {"expired"}


def test_the_sweep_is_a_periodic_job(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["storage-retention"]
    assert entry["task"] == "reports.storage_retention_sweep"

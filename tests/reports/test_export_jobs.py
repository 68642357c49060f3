"""Background exports: the job writes the same rows as the streamed export, through the
default storage, with progress; it is its requester's alone and safe to run again."""

import csv
import io
import json

import pytest
from django.core.files.storage import default_storage

from reports import exports
from reports.jobs import run_export_job
from reports.models import ExportJob
from tests.surveys import scenario
from tests.surveys.conftest import s3  # noqa: F401 (the moto S3 fixture)


@pytest.fixture
def scene(people):
    return scenario.build(people)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


def start(client, kind, filters=None, *, capture):
    with capture(execute=True):
        return client.post(
            "/api/exports/jobs", {"kind": kind, "filters": filters or {}}, format="json"
        )


@pytest.mark.django_db
def test_a_job_writes_what_the_streamed_export_gives(
    scene, client_for, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(exports, "PAGE", 3)
    client = client_for("manager_north")

    started = start(client, "surveys_csv", capture=django_capture_on_commit_callbacks)
    job = client.get(f"/api/exports/jobs/{started.json()['id']}").json()
    download = client.get(job["download"])
    streamed = body(client.get("/api/exports/surveys.csv"))

    assert started.status_code == 202
    assert (job["status"], job["rows_done"], job["rows_total"], job["progress"]) == (
        "done",
        7,
        7,
        1.0,
    )
    assert job["download"] == f"/api/exports/jobs/{job['id']}/download"
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv"
    assert b"".join(download.streaming_content).decode() == streamed
    assert len(list(csv.DictReader(io.StringIO(streamed)))) == 7
    assert default_storage.exists(f"exports/{job['id']}/surveys.csv")


@pytest.mark.django_db
def test_filters_apply_and_bad_ones_are_refused(
    scene, client_for, django_capture_on_commit_callbacks
):
    client = client_for("hq")

    started = start(
        client,
        "stores_geojson",
        {"trade_area_type": "residential"},
        capture=django_capture_on_commit_callbacks,
    )
    geojson = json.loads(
        b"".join(client.get(f"/api/exports/jobs/{started.json()['id']}/download").streaming_content)
    )
    unknown = start(
        client, "stores_geojson", {"colour": "red"}, capture=django_capture_on_commit_callbacks
    )
    malformed = start(
        client,
        "surveys_csv",
        {"captured_after": "yesterday"},
        capture=django_capture_on_commit_callbacks,
    )
    bad_kind = start(client, "photos_zip", capture=django_capture_on_commit_callbacks)

    assert sorted(f["properties"]["name"] for f in geojson["features"]) == ["Kiosk 3", "Kiosk 5"]
    assert unknown.status_code == 400
    assert unknown.json()["filters"] == {"colour": ["Not a filter of this export."]}
    assert malformed.status_code == 400
    assert "captured_after" in malformed.json()["filters"]
    assert bad_kind.status_code == 400
    assert ExportJob.objects.count() == 1


@pytest.mark.django_db
def test_jobs_are_their_requesters_and_reps_may_not_export(
    scene, client_for, django_capture_on_commit_callbacks
):
    started = start(client_for("hq"), "surveys_csv", capture=django_capture_on_commit_callbacks)
    job_id = started.json()["id"]

    other = client_for("manager_north")
    rep = client_for("rep_north")
    assert other.get(f"/api/exports/jobs/{job_id}").status_code == 404
    assert other.get(f"/api/exports/jobs/{job_id}/download").status_code == 404
    assert rep.post("/api/exports/jobs", {"kind": "surveys_csv"}, format="json").status_code == 403
    assert rep.get(f"/api/exports/jobs/{job_id}").status_code == 403


@pytest.mark.django_db
def test_a_job_not_done_has_no_download(scene, client_for, people):
    job = ExportJob.objects.create(
        kind="surveys_csv", requested_by=people["hq"], created_at="2026-11-30T10:00:00Z"
    )
    client = client_for("hq")

    state = client.get(f"/api/exports/jobs/{job.pk}").json()
    download = client.get(f"/api/exports/jobs/{job.pk}/download")

    assert (state["status"], state["progress"], state["download"]) == ("queued", None, None)
    assert download.status_code == 409


@pytest.mark.django_db
def test_running_a_job_again_is_safe(scene, people, monkeypatch):
    job = ExportJob.objects.create(
        kind="stores_geojson",
        requested_by=people["manager_north"],
        created_at="2026-11-30T10:00:00Z",
    )
    progress = []
    original = exports.store_geojson

    def spy(rows, *, on_page=None):
        def counting(n):
            on_page(n)
            progress.append(ExportJob.objects.get(pk=job.pk).rows_done)

        return original(rows, on_page=counting)

    monkeypatch.setattr(exports, "PAGE", 2)
    monkeypatch.setattr("reports.services.store_geojson", spy)

    assert run_export_job(job_id=str(job.pk)) == 5
    # An interrupted run (a worker lost mid-job) is marked running; redelivery redoes it.
    ExportJob.objects.filter(pk=job.pk).update(status="running", rows_done=2)
    assert run_export_job(job_id=str(job.pk)) == 5
    assert run_export_job(job_id=str(job.pk)) == 5  # done: left alone

    job.refresh_from_db()
    assert progress == [2, 4, 5, 2, 4, 5]
    assert job.file_name == f"exports/{job.pk}/stores.geojson"
    with default_storage.open(job.file_name) as handle:
        assert len(json.load(handle)["features"]) == 5
    assert default_storage.listdir(f"exports/{job.pk}")[1] == ["stores.geojson"]


@pytest.mark.django_db
def test_the_file_goes_to_s3_compatible_storage(
    s3,  # noqa: F811
    scene,
    client_for,
    django_capture_on_commit_callbacks,
):
    client = client_for("hq")

    started = start(client, "surveys_csv", capture=django_capture_on_commit_callbacks)
    job = client.get(f"/api/exports/jobs/{started.json()['id']}").json()
    stored = s3.get_object(Bucket="fieldline-photos", Key=f"exports/{job['id']}/surveys.csv")
    download = client.get(job["download"])

    assert job["status"] == "done"
    body_bytes = stored["Body"].read()
    assert body_bytes.decode().count("\n") == 9  # header + 8 surveys
    assert b"".join(download.streaming_content) == body_bytes

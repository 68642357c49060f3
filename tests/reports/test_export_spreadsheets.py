"""Exports for spreadsheets: `?dialect=excel` (UTF-8 with a BOM, `;`, decimal commas) on
the streamed CSV and on background jobs, files named by content and date, and the region
filter, through the API and the HQ exports page."""

import csv
import io
import re

import pytest
from django.test import Client
from django.utils import timezone

from reports.exports import export_download_name
from reports.models import ExportJob
from tests.surveys import scenario


@pytest.fixture
def scene(people):
    return scenario.build(people)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def raw(response) -> bytes:
    return b"".join(response.streaming_content)


def file_name(response) -> str:
    match = re.fullmatch(r'attachment; filename="([^"]+)"', response["Content-Disposition"])
    assert match, response["Content-Disposition"]
    return match.group(1)


def today() -> str:
    return timezone.localdate().isoformat()


@pytest.mark.django_db
def test_excel_dialect_has_a_bom_semicolons_and_decimal_commas(scene, client_for):
    client = client_for("manager_north")
    excel = raw(client.get("/api/exports/surveys.csv", {"dialect": "excel"}))
    standard = raw(client.get("/api/exports/surveys.csv"))

    assert excel.startswith(b"\xef\xbb\xbf")
    assert not standard.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(excel.decode("utf-8-sig")), delimiter=";"))
    same = list(csv.DictReader(io.StringIO(standard.decode())))
    assert [row["id"] for row in rows] == [row["id"] for row in same]
    assert rows[0].keys() == same[0].keys()
    by_id = {row["id"]: row for row in rows}
    a = by_id[str(scene["surveys"]["A"])]
    assert a["score"] == "0,75"
    assert a["lat"] == "53,559"
    assert a["footfall_weekday"] == "300"
    assert a["store_name"] == "Kiosk 1"
    # Everything but the decimal point is as in the standard file.
    for standard_row, excel_row in zip(same, rows, strict=True):
        for name, value in standard_row.items():
            decimal = re.fullmatch(r"-?\d+\.\d+", value)
            assert excel_row[name] == (value.replace(".", ",") if decimal else value), name


@pytest.mark.django_db
def test_an_unknown_dialect_is_a_400_that_says_what_to_use(scene, client_for):
    response = client_for("hq").get("/api/exports/surveys.csv", {"dialect": "lotus"})

    assert response.status_code == 400
    assert "standard, excel" in response.json()["dialect"][0]


@pytest.mark.django_db
def test_download_names_say_what_and_when(scene, client_for):
    manager = client_for("manager_north")
    hq = client_for("hq")

    assert file_name(manager.get("/api/exports/surveys.csv")) == f"surveys-north-{today()}.csv"
    assert file_name(hq.get("/api/exports/surveys.csv")) == f"surveys-all-regions-{today()}.csv"
    assert (
        file_name(
            hq.get("/api/exports/surveys.csv", {"region": "south", "review_status": "pending"})
        )
        == f"surveys-south-pending-{today()}.csv"
    )
    assert (
        file_name(manager.get("/api/exports/stores.geojson", {"status": "active"}))
        == f"stores-north-active-{today()}.geojson"
    )


def test_download_names_are_safe_file_names():
    import datetime as dt

    name = export_download_name(
        kind="surveys_csv",
        filters={"review_status": '../"x y"', "trade_area_type": "office"},
        region="Nord Ost",
        on=dt.date(2026, 12, 4),
    )
    assert name == "surveys-nord-ost-x-y-office-2026-12-04.csv"


@pytest.mark.django_db
def test_the_region_filter_narrows_surveys_and_stores(scene, client_for):
    hq = client_for("hq")

    south = list(
        csv.DictReader(
            io.StringIO(raw(hq.get("/api/exports/surveys.csv", {"region": "south"})).decode())
        )
    )
    stores = hq.get("/api/exports/stores.geojson", {"region": "north"})

    assert [row["id"] for row in south] == [str(scene["surveys"]["G"])]
    assert b'"region":"south"' not in raw(stores)


@pytest.mark.django_db
def test_a_background_job_in_excel_dialect_is_named_by_content_and_date(
    scene, client_for, django_capture_on_commit_callbacks
):
    client = client_for("hq")
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            "/api/exports/jobs",
            {"kind": "surveys_csv", "filters": {"region": "north"}, "dialect": "excel"},
            format="json",
        )
    job = client.get(f"/api/exports/jobs/{started.json()['id']}").json()
    download = client.get(job["download"])
    content = raw(download)

    assert (started.status_code, job["status"], job["dialect"]) == (202, "done", "excel")
    assert file_name(download) == f"surveys-north-{today()}.csv"
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 7
    assert {row["region"] for row in rows} == {"north"}


@pytest.mark.django_db
def test_a_bad_dialect_for_a_job_is_refused_and_nothing_is_queued(scene, client_for):
    response = client_for("hq").post(
        "/api/exports/jobs", {"kind": "surveys_csv", "dialect": "lotus"}, format="json"
    )

    assert response.status_code == 400
    assert "dialect" in response.json()
    assert not ExportJob.objects.exists()


@pytest.mark.django_db
def test_the_exports_page_offers_region_and_excel(
    scene, people, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(people["hq"])
    page = client.get("/hq/exports/").content.decode()

    assert 'name="dialect" value="excel"' in page
    assert '<option value="south">' in page
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            "/hq/exports/", {"kind": "surveys_csv", "region": "south", "dialect": "excel"}
        )
    job = ExportJob.objects.get()
    download = client.get(started["Location"] + "download")

    assert (job.filters, job.dialect) == ({"region": "south"}, "excel")
    assert file_name(download) == f"surveys-south-{today()}.csv"
    body = b"".join(download.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    assert body.decode("utf-8-sig").count("\n") == 2  # the header and survey G


@pytest.mark.django_db
def test_a_manager_cannot_pick_another_region_on_the_page(scene, people):
    client = Client()
    client.force_login(people["manager_north"])

    response = client.post("/hq/exports/", {"kind": "surveys_csv", "region": "south"})

    assert response.status_code == 400
    assert not ExportJob.objects.exists()

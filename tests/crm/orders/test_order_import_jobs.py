"""Orders import as a background job: the same import as the synchronous one, over the
file kept in the default storage, with progress; one job per file at a time; safe to run
again; HQ's alone; bad files refused at upload or failing the job, never a 500."""

import io
import json
import uuid

import pytest
from django.core.files.storage import default_storage
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from crm.orders import services
from crm.orders.jobs import run_order_import
from crm.orders.models import Order, OrderImportJob, OrderLine
from crm.orders.services import orders_import
from tests.conftest import make_user
from tests.crm.orders.test_orders_import import HEADER, good_file, north_shop

JOBS = "/api/imports/orders/jobs"


@pytest.fixture
def shops(people):
    """The stores `good_file` names, by id and by phone."""
    return {
        "kiosk": north_shop(people, "Kiosk", "+494030301234"),
        "bakery": north_shop(people, "Bakery", "+49891234567"),
    }


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


def post_csv(client, body: str | bytes):
    data = body.encode() if isinstance(body, str) else body
    return client.generic("POST", JOBS, data, content_type="text/csv")


def start(client, body, *, capture):
    """Post a file and run the job it queued, as the worker (inline here) would."""
    with capture(execute=True):
        response = post_csv(client, body)
    assert response.status_code == 202, response.content
    return client.get(f"{JOBS}/{response.json()['id']}").json()


def mixed_file(shops) -> str:
    """Good orders and rejected rows, in several chunks when chunks are small."""
    kiosk = shops["kiosk"]
    return good_file(shops) + (
        f"J-1,{kiosk},,2025-11-06,SALAD,1,1.00\n"
        f"J-1,{kiosk},,2025-11-06,BREAD,x,1.00\n"  # rejects J-1 whole
        f"J-2,,,2025-11-06,SALAD,1,1.00\n"
        f"J-3,{kiosk},,2025-11-07,MEAL,2,6.00\n"
    )


def snapshot() -> list[tuple]:
    return sorted(
        Order.objects.values_list("external_id", "store_id", "order_date", "amount", "lines__sku")
    )


@pytest.mark.django_db
def test_a_job_imports_what_the_synchronous_import_does(
    client_for, shops, settings, django_capture_on_commit_callbacks
):
    settings.FIELDLINE = {**settings.FIELDLINE, "ORDER_IMPORT_CHUNK_ROWS": 2}
    text = mixed_file(shops)
    with transaction.atomic():
        expected = orders_import(csv_text=io.StringIO(text)).as_dict()
        expected_rows = snapshot()
        transaction.set_rollback(True)
    assert Order.objects.count() == 0

    job = start(client_for("hq"), text, capture=django_capture_on_commit_callbacks)

    assert job["status"] == "done"
    assert job["report"] == json.loads(json.dumps(expected))
    assert (job["report"]["orders_created"], job["report"]["rows_rejected"]) == (5, 3)
    assert [(row["line"], row["reasons"]) for row in job["report"]["rejected"]] == [
        (7, ["another line of order J-1 was rejected"]),
        (8, ["quantity is not a whole number of at least 1"]),
        (9, ["store_id or store_phone is required"]),
    ]
    assert snapshot() == expected_rows
    assert (job["rows_done"], job["rows_total"], job["progress"]) == (9, 9, 1.0)
    assert job["error"] == ""
    assert job["started_at"]
    assert job["finished_at"]
    stored = OrderImportJob.objects.get(pk=job["id"])
    with default_storage.open(stored.file_name, "rb") as kept:
        assert kept.read() == text.encode()


@pytest.mark.django_db
def test_progress_is_saved_once_per_chunk_and_reaches_the_total(
    shops, people, settings, monkeypatch
):
    settings.FIELDLINE = {**settings.FIELDLINE, "ORDER_IMPORT_CHUNK_ROWS": 4}
    kiosk = shops["kiosk"]
    rows = [f"K-{n // 2},{kiosk},,2025-11-02,SKU{n % 2},1,1.00\n" for n in range(12)]
    with io.BytesIO((HEADER + "".join(rows)).encode()) as upload:
        job, _ = services.order_import_job_create(actor=people["hq"], upload=upload)
    seen: list[int] = []
    real_insert = services.insert_orders

    def insert_and_look(*, orders):
        seen.append(OrderImportJob.objects.get(pk=job.pk).rows_done)
        return real_insert(orders=orders)

    monkeypatch.setattr(services, "insert_orders", insert_and_look)
    with CaptureQueriesContext(connection) as queries:
        run_order_import(job_id=str(job.pk))

    job.refresh_from_db()
    progress_updates = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('UPDATE "crm_orderimportjob" SET "rows_done"')
    ]
    # Three chunks of four rows (two orders each): one progress write per chunk.
    assert len(progress_updates) == 3
    assert seen == [0, 4, 8]
    assert (job.status, job.rows_done, job.rows_total) == ("done", 12, 12)
    assert Order.objects.count() == 6


@pytest.mark.django_db
def test_the_same_file_while_queued_answers_the_same_job(
    client_for, shops, django_capture_on_commit_callbacks
):
    client = client_for("hq")
    text = good_file(shops)

    first = post_csv(client, text)  # queued: its job has not run yet
    again = post_csv(client, text)

    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["status"] == "queued"
    assert OrderImportJob.objects.count() == 1

    run_order_import(job_id=first.json()["id"])
    # Once it is done, the same file is a new job; the import skips what it has.
    later = start(client, text, capture=django_capture_on_commit_callbacks)

    assert later["id"] != first.json()["id"]
    assert OrderImportJob.objects.count() == 2
    assert (later["report"]["orders_created"], later["report"]["orders_skipped"]) == (0, 4)
    assert Order.objects.count() == 4


@pytest.mark.django_db
def test_a_job_run_again_once_done_changes_nothing(
    client_for, shops, django_capture_on_commit_callbacks
):
    job = start(client_for("hq"), good_file(shops), capture=django_capture_on_commit_callbacks)
    before = list(OrderImportJob.objects.values())
    rows = snapshot()

    with CaptureQueriesContext(connection) as queries:
        assert run_order_import(job_id=job["id"]) == 5

    assert list(OrderImportJob.objects.values()) == before
    assert snapshot() == rows
    assert not [q for q in queries.captured_queries if not q["sql"].startswith("SELECT")]


@pytest.mark.django_db
def test_a_job_whose_worker_died_runs_again_to_the_end(client_for, shops, people):
    text = good_file(shops)
    with io.BytesIO(text.encode()) as upload:
        job, _ = services.order_import_job_create(actor=people["hq"], upload=upload)
    # The lost run had committed the first order's chunk and set the job running.
    orders_import(csv_text=io.StringIO("".join(text.splitlines(keepends=True)[:3])))
    OrderImportJob.objects.filter(pk=job.pk).update(status="running", rows_done=2)

    run_order_import(job_id=str(job.pk))

    job.refresh_from_db()
    assert job.status == "done"
    assert (job.report["orders_created"], job.report["orders_skipped"]) == (3, 1)
    assert (Order.objects.count(), OrderLine.objects.count()) == (4, 5)


@pytest.mark.django_db
def test_jobs_are_hqs_and_listed_newest_first(
    client_for, shops, regions, django_capture_on_commit_callbacks
):
    hq = client_for("hq")
    other_hq = APIClient()
    other_hq.force_authenticate(make_user("hq-2", "hq", None))
    first = start(hq, good_file(shops), capture=django_capture_on_commit_callbacks)
    second = start(hq, HEADER, capture=django_capture_on_commit_callbacks)

    listed = other_hq.get(JOBS)

    assert listed.status_code == 200
    assert [job["id"] for job in listed.json()["results"]] == [second["id"], first["id"]]
    assert other_hq.get(f"{JOBS}/{first['id']}").json()["status"] == "done"
    assert second["report"]["rows_read"] == 0
    assert second["progress"] == 1.0
    assert hq.get(f"{JOBS}/{uuid.uuid4()}").status_code == 404
    for who in ("manager_north", "rep_north"):
        other = client_for(who)
        assert post_csv(other, good_file(shops)).status_code == 403
        assert other.get(JOBS).status_code == 403
        assert other.get(f"{JOBS}/{first['id']}").status_code == 403
    assert OrderImportJob.objects.count() == 2


@pytest.mark.django_db
def test_multipart_upload_is_accepted(client_for, shops, django_capture_on_commit_callbacks):
    upload = io.BytesIO(good_file(shops).encode())
    upload.name = "orders.csv"

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("hq").post(JOBS, {"file": upload}, format="multipart")

    assert response.status_code == 202, response.content
    assert OrderImportJob.objects.get().report["orders_created"] == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "Send a CSV file"),
        (HEADER.encode() + "E-1,,,2025-11-02,K\xe4se,1,1.00\n".encode("latin-1"), "not UTF-8"),
        (b"order_id,order_date,sku\nX,2025-11-02,S\n", "Missing columns: quantity, amount"),
        (b"\n\n", "Missing columns"),
    ],
)
def test_a_file_checkable_at_upload_is_refused_there(client_for, shops, body, message):
    response = post_csv(client_for("hq"), body)

    assert response.status_code == 400
    assert message in response.json()["file"][0]
    assert OrderImportJob.objects.count() == 0
    assert default_storage.listdir("") == ([], [])


@pytest.mark.django_db
def test_a_request_without_a_file_is_a_400(client_for, shops):
    response = client_for("hq").post(JOBS, {"other": "x"}, format="multipart")

    assert response.status_code == 400
    assert "file" in response.json()


@pytest.mark.django_db
def test_a_file_unreadable_past_its_start_fails_the_job_and_writes_nothing(
    client_for, shops, settings, django_capture_on_commit_callbacks
):
    settings.FIELDLINE = {**settings.FIELDLINE, "ORDER_IMPORT_CHUNK_ROWS": 1}
    # Good orders first, then a stray quote that swallows the rest of the file.
    text = good_file(shops) + 'Z-1,"' + "x" * 200_000 + "\n"

    job = start(client_for("hq"), text, capture=django_capture_on_commit_callbacks)

    assert job["status"] == "failed"
    assert job["error"].startswith("Not a readable CSV file: field larger than field limit")
    assert job["report"] is None
    assert job["progress"] is None
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_an_unexpected_failure_fails_the_job_with_a_message(
    client_for, shops, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*, orders):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(services, "insert_orders", broken)

    job = start(client_for("hq"), good_file(shops), capture=django_capture_on_commit_callbacks)

    assert job["status"] == "failed"
    assert "post the file again" in job["error"]
    assert job["finished_at"]


@pytest.mark.django_db
def test_an_empty_multipart_file_is_a_400(client_for, shops):
    upload = io.BytesIO(b"")
    upload.name = "orders.csv"

    response = client_for("hq").post(JOBS, {"file": upload}, format="multipart")

    assert response.status_code == 400
    assert OrderImportJob.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("s3")
def test_the_upload_is_kept_in_s3_when_that_is_the_storage(
    client_for, shops, django_capture_on_commit_callbacks
):
    text = good_file(shops)

    job = start(client_for("hq"), text, capture=django_capture_on_commit_callbacks)

    stored = OrderImportJob.objects.get(pk=job["id"])
    assert job["status"] == "done"
    assert job["report"]["orders_created"] == 4
    assert stored.file_name == f"imports/orders/{job['id']}.csv"
    assert stored.size_bytes == len(text.encode())
    with default_storage.open(stored.file_name, "rb") as kept:
        assert kept.read() == text.encode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a second connection's view")
def test_progress_is_committed_while_the_job_runs(shops, people, settings, monkeypatch):
    settings.FIELDLINE = {**settings.FIELDLINE, "ORDER_IMPORT_CHUNK_ROWS": 2}
    kiosk = shops["kiosk"]
    rows = [f"M-{n // 2},{kiosk},,2025-11-02,SKU{n % 2},1,1.00\n" for n in range(6)]
    observer = connections.create_connection("default")
    seen: list[tuple[int, int]] = []
    real_insert = services.insert_orders

    def insert_and_look(*, orders):
        with observer.cursor() as cursor:
            cursor.execute(
                "SELECT rows_done, (SELECT count(*) FROM crm_order) FROM crm_orderimportjob"
            )
            seen.append(cursor.fetchone())
        return real_insert(orders=orders)

    monkeypatch.setattr(services, "insert_orders", insert_and_look)
    try:
        # No transaction around it here: the job runs as soon as it is queued.
        with io.BytesIO((HEADER + "".join(rows)).encode()) as upload:
            job, _ = services.order_import_job_create(actor=people["hq"], upload=upload)
    finally:
        observer.close()

    job.refresh_from_db()
    assert (job.status, job.error) == ("done", "")
    # Another connection sees each chunk's orders and progress before the job ends.
    assert seen == [(0, 0), (2, 1), (4, 2)]
    assert Order.objects.count() == 3


@pytest.mark.django_db
def test_the_same_file_posted_at_the_same_moment_makes_one_job(shops, people, monkeypatch):
    text = good_file(shops).encode()
    with io.BytesIO(text) as upload:
        first, created = services.order_import_job_create(actor=people["hq"], upload=upload)
    real_lookup = services._active_order_import_job
    calls: list[str] = []

    def lookup(*, sha256):
        # The other request's job was not yet saved when this one first looked.
        calls.append(sha256)
        return None if len(calls) == 1 else real_lookup(sha256=sha256)

    monkeypatch.setattr(services, "_active_order_import_job", lookup)
    with io.BytesIO(text) as upload:
        second, created_again = services.order_import_job_create(actor=people["hq"], upload=upload)

    assert (created, created_again) == (True, False)
    assert len(calls) == 2  # looked again after the constraint refused the second job
    assert second.pk == first.pk
    assert OrderImportJob.objects.count() == 1
    assert default_storage.listdir("imports/orders")[1] == [f"{first.pk}.csv"]

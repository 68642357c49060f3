"""Compressed answers and request bodies on the sync and export paths."""

import gzip
import tracemalloc
import uuid

import orjson
import pytest

from fieldline.compression import BodyTooLarge, accepts_gzip, gunzip_limited
from sync.models import AppliedMutation, ChangeLog
from visits.models import FollowUp

# Pulls read only committed changes (see sync.positions), so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def followup_update(followup_id, note: str) -> dict:
    return {
        "device_id": "gz-phone",
        "mutations": [
            {
                "mutation_id": str(uuid.uuid4()),
                "entity": "followup",
                "op": "update",
                "record_id": str(followup_id),
                "base_version": 1,
                "client_ts": "2026-11-30T08:15:02Z",
                "fields": {"note": note},
            }
        ],
    }


def post_encoded(client, body: bytes, encoding: str):
    return client.generic(
        "POST",
        "/api/sync/push",
        body,
        content_type="application/json",
        HTTP_CONTENT_ENCODING=encoding,
    )


def test_pull_is_gzipped_when_accepted_and_says_so(client_for, world):
    client = client_for("rep_north")
    plain = client.get("/api/sync/pull")
    packed = client.get("/api/sync/pull", HTTP_ACCEPT_ENCODING="br;q=1.0, gzip;q=0.8")

    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    assert "Accept-Encoding" in plain["Vary"]
    assert int(packed["Content-Length"]) == len(packed.content) < len(plain.content)
    unpacked = orjson.loads(gzip.decompress(packed.content))
    assert unpacked["changes"] == orjson.loads(plain.content)["changes"]


def test_gzip_refused_with_q0_is_not_used(client_for, world):
    response = client_for("rep_north").get("/api/sync/pull", HTTP_ACCEPT_ENCODING="gzip;q=0, *")

    assert "Content-Encoding" not in response
    assert orjson.loads(response.content)["changes"]


@pytest.mark.parametrize(
    ("header", "allowed"),
    [
        ("gzip", True),
        ("GZIP;q=0.5", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip;q=0, *", False),
        ("br, zstd", False),
        ("", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding_is_read_with_its_qualities(header, allowed):
    assert accepts_gzip(header) is allowed


def test_streamed_export_is_compressed_as_it_streams(client_for, world):
    client = client_for("hq")
    plain = b"".join(client.get("/api/exports/stores.geojson").streaming_content)
    packed = client.get("/api/exports/stores.geojson", HTTP_ACCEPT_ENCODING="gzip")

    assert packed.streaming
    assert packed["Content-Encoding"] == "gzip"
    assert not packed.has_header("Content-Length")
    assert gzip.decompress(b"".join(packed.streaming_content)) == plain


def test_watermelon_pull_stream_is_compressed(client_for, world):
    client = client_for("rep_north")
    query = {"last_pulled_at": "null", "schema_version": 1, "migration": "null"}
    packed = client.get("/api/sync/watermelon", query, HTTP_ACCEPT_ENCODING="gzip")

    assert packed["Content-Encoding"] == "gzip"
    body = orjson.loads(gzip.decompress(b"".join(packed.streaming_content)))
    stores = body["changes"]["stores"]
    assert str(world["rep_north"]["store"]) in {r["id"] for r in stores["created"]}


def test_gzipped_push_is_applied(client_for, world):
    followup = world["rep_north"]["followup"]
    body = gzip.compress(orjson.dumps(followup_update(followup, "sent gzipped")))

    response = post_encoded(client_for("rep_north"), body, "gzip")

    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["status"] == "applied"
    assert FollowUp.objects.get(pk=followup).note == "sent gzipped"


def test_unknown_content_encoding_is_415_and_changes_nothing(client_for, world):
    followup = world["rep_north"]["followup"]
    body = orjson.dumps(followup_update(followup, "never"))
    logged = ChangeLog.objects.count()

    response = post_encoded(client_for("rep_north"), body, "br")

    assert response.status_code == 415
    assert "gzip" in response.json()["detail"]
    assert FollowUp.objects.get(pk=followup).note == "call back"
    assert ChangeLog.objects.count() == logged
    assert not AppliedMutation.objects.exists()


def test_body_that_is_not_gzip_is_400(client_for, world):
    response = post_encoded(client_for("rep_north"), b"{not gzip", "gzip")

    assert response.status_code == 400


def test_zip_bomb_is_413_before_memory_grows(client_for, world, settings):
    followup = world["rep_north"]["followup"]
    mutation = followup_update(followup, "bomb")
    # A valid push padded with 200 MB of spaces: about 200 KB gzipped.
    plain = orjson.dumps(mutation)[:-1] + b" " * (200 * 1024 * 1024) + b"}"
    bomb = gzip.compress(plain, compresslevel=9)
    del plain
    assert len(bomb) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    client = client_for("rep_north")

    tracemalloc.start()
    try:
        response = post_encoded(client, bomb, "gzip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 413
    assert peak < 4 * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert FollowUp.objects.get(pk=followup).note == "call back"
    assert not AppliedMutation.objects.exists()


def test_inflated_body_at_the_limit_passes_and_one_byte_more_does_not():
    body = b"x" * 1000

    assert gunzip_limited(gzip.compress(body), limit=1000) == body
    with pytest.raises(BodyTooLarge):
        gunzip_limited(gzip.compress(body + b"x"), limit=1000)


# --- one body limit per path ---------------------------------------------------------------


@pytest.fixture
def limits(settings):
    """A small default limit and a larger one on the WatermelonDB path, as in production
    (5 MiB and 20 MB) but small enough to test at the edge."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.FIELDLINE = {
        **settings.FIELDLINE,
        "BODY_LIMITS": {**settings.FIELDLINE["BODY_LIMITS"], "/api/sync/watermelon": 5000},
    }
    return 5000


def padded_push(size: int) -> bytes:
    head = b'{"changes": {"stores": {"created": [], "updated": [], "deleted": []}}, "pad": "'
    tail = b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


@pytest.mark.django_db
@pytest.mark.parametrize("gzipped", [False, True])
def test_the_path_limit_is_the_limit_at_its_edge(client_for, world, limits, gzipped):
    """Regression: the documented WatermelonDB limit (20 MB) was Django's 5 MiB in fact."""
    client = client_for("rep_north")
    url = "/api/sync/watermelon?last_pulled_at=null"
    for size, expected in ((limits, 200), (limits + 1, 413)):
        body = padded_push(size)
        assert len(body) == size
        headers = {}
        if gzipped:
            body = gzip.compress(body)
            headers["HTTP_CONTENT_ENCODING"] = "gzip"
        response = client.post(url, body, content_type="application/json", **headers)
        assert response.status_code == expected, (size, response.content[:200])


@pytest.mark.django_db
def test_other_paths_keep_the_default_limit(client_for, world, limits):
    response = client_for("rep_north").post(
        "/api/sync/push", padded_push(1001), content_type="application/json"
    )
    assert response.status_code == 413


@pytest.mark.django_db
def test_a_watermelon_push_between_5_and_20_mb_is_read(client_for, world):
    body = padded_push(6 * 1024 * 1024)
    response = client_for("rep_north").post(
        "/api/sync/watermelon?last_pulled_at=null", body, content_type="application/json"
    )
    assert response.status_code == 200, response.content[:200]

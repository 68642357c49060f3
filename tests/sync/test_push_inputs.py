"""Hostile values in sync pushes (the protocol's and WatermelonDB's): each one rejects its
own mutation or row with a message that does not repeat it; the valid ones beside it
apply; the push never answers 500. The edit of a record deleted on the server (the
tombstone path) is validated like any other, and the conflict log keeps only known
fields, bounded."""

import json
import uuid

import pytest
from django.test import Client
from knox.models import AuthToken

from stores.models import Store
from surveys.models import SiteSurvey
from sync.models import AppliedMutation, ConflictLog
from sync.wire import CONFLICT_VALUE_MAX_CHARS, bounded_json

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE_FIELDS = [
    '{"name": "\\ud83d"}',
    '{"name": "a\\u0000b"}',
    '{"lat": 1e400}',
    '{"lat": 100000000000000000000000000}',
    '{"lat": 1e300}',
    '{"\\ud83d": 1}',
    '{"\\u0000": 1}',
    json.dumps({"k" * 10_000: 1}),
    '{"notes": ' + "[" * 40 + '"deep"' + "]" * 40 + "}",
]


def token_client(user) -> Client:
    _, key = AuthToken.objects.create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Token {key}", raise_request_exception=False)


def mutation_json(*, record_id, fields_json: str, entity="store", op="update", version=1) -> str:
    return (
        f'{{"mutation_id": "{uuid.uuid4()}", "entity": "{entity}", "op": "{op}", '
        f'"record_id": "{record_id}", "base_version": {version}, "fields": {fields_json}}}'
    )


def push_raw(client, mutations: list[str]):
    body = '{"device_id": "phone-1", "mutations": [' + ", ".join(mutations) + "]}"
    return client.post("/api/sync/push", body, content_type="application/json")


@pytest.fixture
def rep(people):
    return token_client(people["rep_north"])


@pytest.mark.parametrize("fields_json", HOSTILE_FIELDS)
def test_a_hostile_value_rejects_its_mutation_and_the_valid_one_applies(rep, world, fields_json):
    mine = world["rep_north"]
    bad = mutation_json(record_id=mine["store"], fields_json=fields_json)
    good = mutation_json(record_id=mine["survey"], entity="survey", fields_json='{"notes": "ok"}')

    response = push_raw(rep, [bad, good])

    assert response.status_code == 200, response.content
    first, second = response.json()["results"]
    assert first["status"] == "rejected"
    assert second["status"] == "applied"
    assert len(json.dumps(first)) < 600
    assert SiteSurvey.objects.get(pk=mine["survey"]).notes == "ok"
    assert Store.objects.get(pk=mine["store"]).version == 1


@pytest.mark.parametrize(
    "envelope",
    [
        '{"device_id": "\\ud83d", "mutations": []}',
        '{"device_id": "a\\u0000", "mutations": []}',
    ],
)
def test_a_hostile_device_id_is_400(rep, world, envelope):
    response = rep.post("/api/sync/push", envelope, content_type="application/json")
    assert response.status_code == 400


def test_a_hostile_entity_name_is_rejected_without_echo(rep, world):
    raw = (
        f'{{"mutation_id": "{uuid.uuid4()}", "entity": "{"e" * 5000}", "op": "update", '
        f'"record_id": "{uuid.uuid4()}", "base_version": 1, "fields": {{}}}}'
    )
    surrogate = raw.replace("e" * 5000, "\\ud83d")
    response = push_raw(rep, [raw, surrogate])
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert "eeee" not in response.content.decode()


# --- the tombstone path -------------------------------------------------------------------


@pytest.fixture
def deleted_store(client_for, world):
    store_id = world["rep_north"]["store"]
    assert client_for("manager_north").delete(f"/api/stores/{store_id}/").status_code == 204
    return store_id


@pytest.mark.parametrize(
    "fields_json",
    [
        *HOSTILE_FIELDS,
        '{"unknown_field": "x"}',
        '{"lat": 500}',
        json.dumps({"name": "n" * 100_000}),
    ],
)
def test_an_invalid_edit_of_a_deleted_record_is_rejected_and_the_push_goes_on(
    rep, world, deleted_store, fields_json
):
    mine = world["rep_north"]
    bad = mutation_json(record_id=deleted_store, fields_json=fields_json)
    good = mutation_json(record_id=mine["survey"], entity="survey", fields_json='{"notes": "ok"}')

    response = push_raw(rep, [bad, good])

    assert response.status_code == 200, response.content
    first, second = response.json()["results"]
    assert first["status"] == "rejected"
    assert second["status"] == "applied"
    assert SiteSurvey.objects.get(pk=mine["survey"]).notes == "ok"
    assert not ConflictLog.objects.filter(record_id=deleted_store).exists()


def test_a_valid_edit_of_a_deleted_record_is_a_conflict_logged_with_known_fields(
    rep, world, deleted_store
):
    edit = mutation_json(
        record_id=deleted_store, fields_json='{"phone": "+49 40 32904100", "visit_notes": "x"}'
    )

    response = push_raw(rep, [edit])

    assert response.status_code == 200, response.content
    (result,) = response.json()["results"]
    assert result["status"] == "rejected"
    assert result["errors"] == {"visit_notes": ["Unknown field."]}
    assert not ConflictLog.objects.filter(record_id=deleted_store).exists()

    edit = mutation_json(record_id=deleted_store, fields_json='{"phone": "+49 40 32904100"}')
    (result,) = push_raw(rep, [edit]).json()["results"]
    assert result["status"] == "conflict"
    logged = dict(
        ConflictLog.objects.filter(record_id=deleted_store).values_list("field", "client_value")
    )
    assert logged == {"phone": "+494032904100"}


def test_conflict_log_values_are_bounded():
    assert bounded_json("short") == "short"
    assert bounded_json("x" * 10_000) == {"truncated": True, "chars": 10_002}
    assert bounded_json({"n": 2**70}) == {"truncated": True, "chars": None}
    assert CONFLICT_VALUE_MAX_CHARS <= 4096


def test_a_rejected_mutation_is_stored_without_its_hostile_key(rep, world):
    mine = world["rep_north"]
    response = push_raw(rep, [mutation_json(record_id=mine["store"], fields_json='{"\\ud83d": 1}')])
    assert response.status_code == 200
    for stored in AppliedMutation.objects.values_list("result", flat=True):
        assert "\\ud83d" not in json.dumps(stored)


# --- WatermelonDB ---------------------------------------------------------------------------

WATERMELON = "/api/sync/watermelon"


def watermelon_push(client, changes_json: str):
    return client.post(
        f"{WATERMELON}?last_pulled_at=null&device_id=wm-1",
        '{"changes": ' + changes_json + "}",
        content_type="application/json",
    )


@pytest.mark.parametrize(
    "row_values",
    [
        '"name": "\\ud83d"',
        '"name": "a\\u0000"',
        '"lat": 1e400',
        '"lat": 100000000000000000000000000',
        '"\\ud83d": 1',
        '"tags": "[100000000000000000000000000]"',
    ],
)
def test_a_hostile_watermelon_row_is_refused_and_the_others_apply(rep, world, row_values):
    mine = world["rep_north"]
    bad = f'{{"id": "{mine["store"]}", {row_values}}}'
    good = f'{{"id": "{mine["survey"]}", "notes": "ok"}}'
    changes = (
        f'{{"stores": {{"created": [], "updated": [{bad}], "deleted": []}}, '
        f'"surveys": {{"created": [], "updated": [{good}], "deleted": []}}}}'
    )

    response = watermelon_push(rep, changes)

    assert response.status_code == 409, response.content
    body = response.json()
    assert [r["id"] for r in body["rejected"]] == [str(mine["store"])]
    assert len(json.dumps(body)) < 2000
    assert SiteSurvey.objects.get(pk=mine["survey"]).notes == "ok"


def test_watermelon_refusal_of_a_hostile_id_or_table_does_not_echo_it(rep, world):
    changes = (
        f'{{"{"t" * 5000}": {{"created": [], "updated": [], "deleted": ["x"]}}, '
        f'"stores": {{"created": [], "updated": [], "deleted": ["{"i" * 5000}", "\\ud83d"]}}}}'
    )
    response = watermelon_push(rep, changes)
    assert response.status_code == 409, response.content
    assert "tttt" not in response.content.decode()
    assert "iiii" not in response.content.decode()


def test_watermelon_push_over_the_mutation_cap_is_413(rep, world, settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "SYNC_MAX_MUTATIONS": 10}
    deletes = json.dumps([str(uuid.uuid4()) for _ in range(11)])
    changes = f'{{"stores": {{"created": [], "updated": [], "deleted": {deletes}}}}}'

    response = watermelon_push(rep, changes)

    assert response.status_code == 413, response.content
    assert "at most 10" in response.json()["detail"]

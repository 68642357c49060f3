"""Hostile pushes: every answer is a 200 with per-mutation results (or a 4xx for a bad
envelope), never a 500, and nothing of a rejected mutation is applied."""

import json
import uuid

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from knox.models import AuthToken

from sync.models import ChangeLog
from sync.registry import get_entity

pytestmark = pytest.mark.django_db

PUSH = "/api/sync/push"
STATUSES = {"applied", "merged", "conflict", "rejected"}
ENTITIES = ["store", "survey", "visit", "task", "photo", "followup"]
FUZZ = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

huge_numbers = st.sampled_from([2**63, -(2**63) - 1, 10**40, 1e308, -1e308, 2**31, 2**53 + 1])
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | huge_numbers
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["x" * 100_000, "\x00", "\ud7ff\ufffe", "😀" * 1000, "1e999", "NaN"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def deep(depth: int) -> object:
    value: object = "bottom"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def field_names(entity: str) -> list[str]:
    spec = get_entity(entity)
    return list(spec.field_names) if spec else []


ALL_FIELDS = sorted({name for entity in ENTITIES for name in field_names(entity)})


@pytest.fixture
def scopes(world):
    """Record ids the pushing rep owns, and those of a rep of the other region."""
    return {
        "own": [str(record_id) for record_id in world["rep_north"].values()],
        "other": [str(record_id) for record_id in world["rep_south"].values()],
        "other_by_entity": {
            entity: str(record_id) for entity, record_id in world["rep_south"].items()
        },
    }


@pytest.fixture
def rep_client(people):
    _, key = AuthToken.objects.create(user=people["rep_north"])
    return Client(HTTP_AUTHORIZATION=f"Token {key}")


@st.composite
def hostile_mutation(draw, scopes, mutation_ids):
    entity = draw(st.sampled_from(ENTITIES) | st.text(max_size=20) | json_scalars)
    op = draw(st.sampled_from(["create", "update", "delete"]) | json_values)
    record_id = draw(
        st.sampled_from(scopes["own"] + scopes["other"])
        | st.uuids().map(str)
        | json_values
        | st.just(scopes["other"][0])
    )
    mutation_id = draw(
        st.uuids().map(str)
        | (st.sampled_from(mutation_ids) if mutation_ids else st.uuids().map(str))
        | json_scalars
    )
    fields = draw(
        st.dictionaries(
            st.sampled_from(ALL_FIELDS) | st.text(max_size=30),
            json_values | st.just(deep(200)),
            max_size=5,
        )
        | json_values
    )
    mutation = {"mutation_id": mutation_id, "entity": entity, "op": op, "record_id": record_id}
    if draw(st.booleans()):
        mutation["fields"] = fields
    if draw(st.booleans()):
        mutation["base_version"] = draw(
            st.integers(min_value=0, max_value=3) | st.integers() | huge_numbers | json_scalars
        )
    if draw(st.booleans()):
        mutation["client_ts"] = draw(
            st.sampled_from(
                ["2026-11-30T08:15:02.120Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+00:00"]
            )
            | st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat())
            | json_scalars
        )
    if draw(st.integers(0, 9)) == 0:
        mutation[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
    if isinstance(mutation_id, str):
        mutation_ids.append(mutation_id)
    return mutation


@st.composite
def hostile_push(draw, scopes):
    mutation_ids: list[str] = []
    mutations = draw(st.lists(hostile_mutation(scopes, mutation_ids), max_size=8))
    if mutations and draw(st.booleans()):
        mutations.append(dict(draw(st.sampled_from(mutations))))  # the same mutation twice
    return {"device_id": draw(st.text(max_size=20)), "mutations": mutations}


def snapshot(record_ids: list[str]) -> list[tuple]:
    return sorted(
        ChangeLog.objects.filter(record_id__in=record_ids).values_list(
            "entity", "record_id", "version"
        )
    )


def post_raw(client: Client, body: bytes):
    return client.generic("POST", PUSH, body, content_type="application/json")


def check_push(client: Client, body: dict, scopes) -> None:
    other_before = snapshot(scopes["other"])
    last_seq = ChangeLog.objects.order_by("-id").values_list("id", flat=True).first() or 0

    response = post_raw(client, json.dumps(body).encode())

    assert response.status_code in (200, 400, 413), response.content[:500]
    new_rows = list(
        ChangeLog.objects.filter(id__gt=last_seq).values_list("mutation_id", "record_id")
    )
    if response.status_code != 200:
        assert new_rows == []
        return
    results = response.json()["results"]
    assert len(results) == len(body["mutations"])
    accepted = set()
    for mutation, result in zip(body["mutations"], results, strict=True):
        assert result["status"] in STATUSES, result
        if result["status"] == "rejected":
            assert result["errors"], result
            assert "record" not in result or result["record"] is None, result
        else:
            accepted.add((str(result["mutation_id"]), str(mutation["record_id"])))
    # Only accepted mutations leave changelog rows, at most one per accepted result.
    assert len(new_rows) <= len(results) - sum(r["status"] == "rejected" for r in results)
    assert {(str(m), str(r)) for m, r in new_rows} <= accepted
    assert snapshot(scopes["other"]) == other_before


@given(data=st.data())
@FUZZ
def test_hostile_pushes_never_fail_and_apply_only_accepted(data, rep_client, scopes):
    check_push(rep_client, data.draw(hostile_push(scopes)), scopes)


@given(body=json_values)
@FUZZ
def test_malformed_envelopes_are_4xx(body, rep_client, scopes):
    before = ChangeLog.objects.count()
    response = post_raw(rep_client, json.dumps(body).encode())
    assert response.status_code in (200, 400, 413), response.content[:500]
    if response.status_code == 200:
        assert response.json()["results"] == []
    assert ChangeLog.objects.count() == before


@given(body=st.binary(max_size=200))
@FUZZ
def test_invalid_bytes_are_400(body, rep_client):
    try:
        decoded = json.loads(body)
    except ValueError:
        decoded = None
    response = post_raw(rep_client, body)
    if decoded is None:
        assert response.status_code == 400, response.content[:500]
    else:
        assert response.status_code in (200, 400), response.content[:500]


@pytest.mark.parametrize(
    "body",
    [
        b'{"device_id": "d", "mutations": [{"mutation_id": "\xff\xfe"}]}',
        b"\xc3\x28",
        b'{"mutations": [' * 100_000,
        b"[" * 5_000 + b"]" * 5_000,
        b'{"mutations": [' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_000 + b"]}",
        b'{"mutations": [], "device_id": NaN}',
        b'{"mutations": [{"base_version": 1e999}]}',
    ],
    ids=["bad-utf8-in-string", "bad-utf8", "truncated", "deep-list", "deep-object", "nan", "inf"],
)
def test_broken_bodies_are_4xx(body, rep_client):
    before = ChangeLog.objects.count()
    response = post_raw(rep_client, body)
    if response.status_code == 200:  # a valid envelope whose mutations are each refused
        results = response.json()["results"]
        assert results
        assert all(result["status"] == "rejected" for result in results)
    else:
        assert 400 <= response.status_code < 500, response.content[:500]
    assert ChangeLog.objects.count() == before


@pytest.mark.parametrize("value", ["1e999", "-1e999", "1e308", "123456789012345678901234567890"])
@pytest.mark.parametrize("field", ["lat", "footfall_weekday", "area_m2", "accuracy_m", "notes"])
def test_out_of_range_numbers_in_fields_are_rejected_or_stored(field, value, rep_client, scopes):
    survey = scopes["own"][1]
    mutation = {
        "mutation_id": str(uuid.uuid4()),
        "entity": "survey",
        "op": "update",
        "record_id": survey,
        "base_version": 1,
        "fields": {field: "NUMBER"},
    }
    # The number goes in as written: json.dumps would turn it into a float or Infinity first.
    body = json.dumps({"device_id": "d", "mutations": [mutation]}).replace('"NUMBER"', value)
    body = body.encode()
    before = ChangeLog.objects.count()
    response = post_raw(rep_client, body)
    assert response.status_code in (200, 400), response.content[:500]
    if response.status_code == 200:
        [result] = response.json()["results"]
        applied = result["status"] != "rejected"
        assert ChangeLog.objects.count() == before + applied
    else:
        assert ChangeLog.objects.count() == before


def test_body_over_the_size_limit_is_413(rep_client, settings):
    before = ChangeLog.objects.count()
    body = {
        "device_id": "d",
        "mutations": [],
        "padding": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
    }
    response = post_raw(rep_client, json.dumps(body).encode())
    assert response.status_code == 413, response.content[:500]
    assert ChangeLog.objects.count() == before


def test_too_many_mutations_is_413(rep_client, scopes):
    mutation = {"entity": "store", "op": "delete", "record_id": scopes["own"][0]}
    body = {"mutations": [{"mutation_id": str(uuid.uuid4()), **mutation} for _ in range(501)]}
    before = ChangeLog.objects.count()
    response = post_raw(rep_client, json.dumps(body).encode())
    assert response.status_code == 413
    assert ChangeLog.objects.count() == before


def test_duplicate_mutation_id_in_one_push_applies_once(rep_client, scopes):
    survey = scopes["own"][1]
    mutation = {
        "mutation_id": str(uuid.uuid4()),
        "entity": "survey",
        "op": "update",
        "record_id": survey,
        "base_version": 1,
        "fields": {"notes": "once"},
    }
    before = ChangeLog.objects.count()
    response = post_raw(rep_client, json.dumps({"mutations": [mutation, mutation]}).encode())
    assert response.status_code == 200
    statuses = [result["status"] for result in response.json()["results"]]
    assert statuses[0] == "applied"
    assert ChangeLog.objects.count() == before + 1


def test_other_scope_ids_are_not_found(rep_client, scopes):
    before = snapshot(scopes["other"])
    mutations = [
        {
            "mutation_id": str(uuid.uuid4()),
            "entity": entity,
            "op": op,
            "record_id": record_id,
            "base_version": 10**9,
            "fields": {} if op == "delete" else {"notes": "x"},
        }
        for entity, record_id in scopes["other_by_entity"].items()
        for op in ("update", "delete")
    ]
    response = post_raw(rep_client, json.dumps({"mutations": mutations}).encode())
    assert response.status_code == 200
    for result in response.json()["results"]:
        assert result["status"] == "rejected", result
    assert snapshot(scopes["other"]) == before


def test_nul_character_in_an_unknown_field_name_is_not_a_500(rep_client, scopes):
    survey = scopes["own"][1]
    mutation = {
        "mutation_id": str(uuid.uuid4()),
        "entity": "survey",
        "op": "update",
        "record_id": survey,
        "base_version": 1,
        "fields": {"a\x00b": 1},
    }
    response = post_raw(rep_client, json.dumps({"mutations": [mutation]}).encode())
    assert response.status_code == 200
    [result] = response.json()["results"]
    assert result["status"] == "rejected"
    # The name is not repeated: its place stands for it (fieldline.inputs).
    assert result["errors"] == {"[key 0]": ["Invalid field name: NUL characters are not allowed."]}

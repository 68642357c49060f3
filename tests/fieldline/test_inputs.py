"""The one input check (fieldline/inputs.py) at every door: REST bodies, query parameters,
headers, pull limits and cursors. Each case answered 500 (or stored what it should not)
before the check existed."""

import base64
import json

import orjson
import pytest
from django.core import signing
from django.test import Client
from knox.models import AuthToken

from fieldline.inputs import (
    InputRejected,
    bounded_messages,
    check_json,
    json_problems,
    parse_count,
    parse_decimal,
)
from stores.models import Store
from sync.cursors import CURSOR_SIGNER_SALT, CURSOR_VERSION
from sync.pull import sync_epoch

pytestmark = pytest.mark.django_db


def deep(depth: int) -> object:
    value: object = "bottom"
    for _ in range(depth):
        value = [value]
    return value


# --- the rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "\ud83d",
        "a\x00b",
        2**64,
        -(2**63) - 1,
        float("inf"),
        float("nan"),
        1e300,
        {"\ud83d": 1},
        {"a\x00": 1},
        {"x" * 101: 1},
        {"ok": ["\ud800"]},
        deep(33),
    ],
)
def test_hostile_values_are_refused(value):
    with pytest.raises(InputRejected):
        check_json(value)


@pytest.mark.parametrize(
    "value", ["plain", "😀 paired", 2**63 - 1, -(2**63), 1.5, {"x" * 100: 1}, deep(32), None]
)
def test_ordinary_values_pass(value):
    check_json(value)


def test_messages_never_repeat_the_value():
    problems = json_problems({"name": "\ud83d" + "x" * 5000, "\x00" + "y" * 5000: 1})
    text = json.dumps(problems, ensure_ascii=False, default=str)
    assert "xxxx" not in text
    assert "yyyy" not in text
    assert len(text) < 400


def test_deep_values_are_refused_without_recursion():
    assert json_problems(deep(100_000))


@pytest.mark.parametrize(
    "text", ["1e999999999", "sNaN", "NaN", "Infinity", "9" * 5000, "1.234", "12345678901.00", ""]
)
def test_decimal_text_is_plain_and_bounded(text):
    with pytest.raises(ValueError, match="."):
        parse_decimal(text, max_digits=12, decimal_places=2)


def test_counts_are_plain_digits():
    assert parse_count("42", max_value=100) == 42
    for text in ("9" * 5000, "٣", "1e3", "-1", "101", " 1"):
        with pytest.raises(ValueError, match="."):
            parse_count(text, max_value=100)


def test_bounded_messages_cut_long_messages_and_keys():
    bounded = bounded_messages({"k" * 300: ["v" * 5000], "\ud83d": ["x\x00"]})
    assert all(len(key) <= 64 for key in bounded)
    assert all(len(message) <= 200 for messages in bounded.values() for message in messages)
    orjson.dumps(bounded)


# --- REST bodies -------------------------------------------------------------------------


@pytest.fixture
def rep(people):
    _, key = AuthToken.objects.create(user=people["rep_north"])
    return Client(HTTP_AUTHORIZATION=f"Token {key}", raise_request_exception=False)


@pytest.fixture
def manager(people):
    _, key = AuthToken.objects.create(user=people["manager_north"])
    return Client(HTTP_AUTHORIZATION=f"Token {key}", raise_request_exception=False)


def send(client, method, url, raw: str):
    return getattr(client, method)(url, raw, content_type="application/json")


@pytest.mark.parametrize(
    "raw",
    [
        '{"name": "\\ud83d"}',
        '{"name": "a\\u0000b"}',
        '{"lat": 1e400}',
        '{"lat": 1e300}',
        '{"lat": 100000000000000000000000}',
        '{"name": "x", "\\u0000": 1}',
        '{"name": "x", "\\udc00": 1}',
        json.dumps({"x" * 5000: 1}),
    ],
)
def test_rest_bodies_with_hostile_values_are_400_and_change_nothing(rep, world, raw):
    store_id = world["rep_north"]["store"]
    before = Store.objects.get(pk=store_id).version

    response = send(rep, "patch", f"/api/stores/{store_id}/", raw)

    assert response.status_code == 400, response.content
    assert len(response.content) < 1000
    assert Store.objects.get(pk=store_id).version == before


def test_rest_body_nested_past_the_bound_is_400_without_echo(rep, world):
    survey_id = world["rep_north"]["survey"]
    response = send(
        rep, "patch", f"/api/surveys/{survey_id}/", json.dumps({"equipment": deep(200)})
    )
    assert response.status_code == 400
    assert b"[[[[" not in response.content


def test_choice_errors_do_not_echo_a_long_value(rep, world):
    store_id = world["rep_north"]["store"]
    response = send(
        rep, "patch", f"/api/stores/{store_id}/", json.dumps({"trade_area_type": "z" * 50_000})
    )
    assert response.status_code == 400
    assert len(response.content) < 1000


# --- query parameters and headers ---------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "name=a%00b",
        "status=prospect%00",
        "search=%00",
        "owner=1&owner=" + "&owner=".join(["2"] * 150),
        "region=" + ",".join(["north"] * 150),
        "cursor=" + "x" * 10_000,
        "a%00b=1",
    ],
)
def test_hostile_query_parameters_are_400(rep, world, query):
    response = rep.get(f"/api/stores/?{query}")
    assert response.status_code == 400, response.content
    assert b"\\u0000" not in response.content


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_X_DEVICE_ID": "phone\x00"},
        {"HTTP_X_APP_VERSION": "1.0.0\x00"},
        {"HTTP_X_PENDING_MUTATIONS": "9" * 10_000},
        {"HTTP_USER_AGENT": "agent\x01"},
    ],
)
def test_hostile_headers_are_400(rep, world, headers):
    response = rep.get("/api/sync/pull", **headers)
    assert response.status_code == 400, response.content


def test_pull_limit_of_thousands_of_digits_is_400(rep, world):
    response = rep.get("/api/sync/pull", {"limit": "9" * 5000})
    assert response.status_code == 400


def test_pull_limit_in_other_digits_is_400(rep, world):
    response = rep.get("/api/sync/pull", {"limit": "٣"})
    assert response.status_code == 400


# --- cursors -----------------------------------------------------------------------------


def signed_cursor(raw: list) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")
    return signing.Signer(salt=CURSOR_SIGNER_SALT, algorithm="sha256").sign(payload)


@pytest.mark.parametrize(
    "fields",
    [
        # txid, seq, initial_below, tiered, tier, today_after, received, total, feeds
        [0, 0, None, 1.0, 1, [-1, ""], 0, None, ""],
        [0, 0, None, 0, 1.0, [-1, ""], 0, None, ""],
        [0, 0, None, True, 1, [-1, ""], 0, None, ""],
        [0, 0, None, 0, 1, [-1, ""], 0, None, "\x00"],
        [0, 0, None, 0, 1, [-1, ""], 0, None, {"x": 1}],
        [0, 0, None, 0, 1, "[-1, '']", 0, None, ""],
        ["0", 0, None, 0, 1, [-1, ""], 0, None, ""],
        [2**64, 0, None, 0, 1, [-1, ""], 0, None, ""],
        [0, 0, None, 0, 1, [-1, "not-a-uuid"], 0, None, ""],
    ],
)
def test_a_signed_cursor_with_wrong_types_is_400(rep, world, fields):
    cursor = signed_cursor([CURSOR_VERSION, sync_epoch(), *fields])
    response = rep.get("/api/sync/pull", {"cursor": cursor})
    assert response.status_code == 400, response.content

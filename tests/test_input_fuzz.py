"""Generated hostile input at every door, on the real database: never a 5xx.

Hypothesis strategies for hostile strings (lone surrogates, NUL, control characters,
overlong, odd Unicode) and numbers (beyond 64 bits, 1e400, 5,000 digits, NaN tokens)
are applied to:

- every field of every JSON request body the URL conf serves (enumerated from the
  generated schema, `api_schema/openapi.yaml`, whose request bodies are the REST
  serializers' fields), as a manager or a rep (drawn);
- every field of every sync entity (from the sync registry), in a protocol push and in a
  WatermelonDB push, both as an update of the rep's own record and as an edit of a record
  deleted on the server (the tombstone path);
- every query parameter of every GET operation, the device and app headers, pull cursors
  (as sent, and signed with wrong types inside), and every column of the orders CSV.

The number of examples per door is FIELDLINE_FUZZ_EXAMPLES (CI: 2, `make fuzz`: 25);
the requests sent and the server errors seen are printed at the end (run with -s).
"""

import base64
import json
import os
import re
import uuid
from collections import Counter
from pathlib import Path

import pytest
import yaml
from django.core import signing
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from knox.models import AuthToken

from sync.cursors import CURSOR_SIGNER_SALT, CURSOR_VERSION
from sync.registry import all_entities
from sync.watermelon.schema import table_specs

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("FIELDLINE_FUZZ_EXAMPLES", "2"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
SENT: Counter[str] = Counter()
SERVER_ERRORS: list[str] = []

# --- strategies -----------------------------------------------------------------------------

# A raw JSON token stands in for a value json.dumps cannot write (1e400, 5,000 digits).
RAW = "\uf8ffraw:"
hostile_text = st.sampled_from(
    [
        "\ud83d",
        "a\udc00b",
        "\x00",
        "x\x00y",
        "\x01\x1b[31m",
        "x" * 100_000,
        "😀" * 500,
        "\u202e\u0000",
        "<script>alert(1)</script>",
        "'; DROP TABLE stores; --",
        "%00",
        "../../etc/passwd",
        "\ufeff",
        "",
        " ",
        "sNaN",
        "1e999999999",
        "-Infinity",
        "9" * 5000,
        "0001-01-01T00:00:00+14:00",
        "00000000-0000-0000-0000-000000000000",
    ]
) | st.text(max_size=30)
hostile_numbers = (
    st.sampled_from(
        [
            2**63,
            -(2**63) - 1,
            2**64,
            10**40,
            1e308,
            -1e308,
            RAW + "1e400",
            RAW + "-1e400",
            RAW + "1e999999999",
            RAW + "9" * 5000,
            RAW + "NaN",
            RAW + "Infinity",
            RAW + "-0",
            0.1,
            -1,
        ]
    )
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
)


def deep(depth: int) -> object:
    value: object = "bottom"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


hostile_structures = st.sampled_from(
    [deep(40), deep(900), [None] * 1000, {"\ud83d": 1}, {"\x00": 1}, {"k" * 500: 1}, [], {}]
)
hostile_values = st.one_of(
    hostile_text, hostile_numbers, hostile_structures, st.none(), st.booleans()
)
hostile_keys = st.sampled_from(["\ud83d", "\x00", "k" * 10_000, "a\x00b", "__proto__", "id"])


def encode(body: object) -> str:
    """JSON text, with RAW placeholders replaced by their raw tokens."""
    text = json.dumps(body)
    return re.sub(r'"\\uf8ffraw:([^"]*)"', lambda m: m.group(1), text)


# --- clients ------------------------------------------------------------------------------


class Fuzzer:
    def __init__(self, client: Client) -> None:
        self.client = client

    def send(self, door: str, method: str, url: str, body: str | bytes | None = None, **extra):
        kwargs = dict(extra)
        if body is not None:
            kwargs.setdefault("content_type", "application/json")
            kwargs["data"] = body
        response = getattr(self.client, method)(url, **kwargs)
        SENT[door] += 1
        if response.status_code >= 500:
            SERVER_ERRORS.append(f"{door} {method.upper()} {url[:120]} -> {response.status_code}")
        assert response.status_code < 500, (door, method, url[:200], response.content[:300])
        return response


def fuzzer_for(user) -> Fuzzer:
    _, key = AuthToken.objects.create(user=user)
    return Fuzzer(Client(HTTP_AUTHORIZATION=f"Token {key}", raise_request_exception=False))


@pytest.fixture
def rep(people):
    return fuzzer_for(people["rep_north"])


@pytest.fixture
def manager(people):
    return fuzzer_for(people["manager_north"])


@pytest.fixture
def hq(people):
    return fuzzer_for(people["hq"])


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    if SENT:
        print(
            f"\ninput fuzz: {SENT.total()} requests sent ({dict(SENT)}), "
            f"{len(SERVER_ERRORS)} server errors"
        )


# --- what the URL conf serves ---------------------------------------------------------------

SCHEMA = yaml.safe_load((ROOT / "api_schema" / "openapi.yaml").read_text())


def resolve(ref_or_schema: dict) -> dict:
    while "$ref" in ref_or_schema:
        name = ref_or_schema["$ref"].rsplit("/", 1)[-1]
        ref_or_schema = SCHEMA["components"]["schemas"][name]
    return ref_or_schema


def body_operations() -> list[tuple[str, str, list[str]]]:
    """(path, method, the body's field names) of every operation taking a JSON body."""
    found = []
    for path, item in SCHEMA["paths"].items():
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is None:
                continue
            fields = sorted(resolve(schema).get("properties", {}))
            found.append((path, method, fields or ["detail"]))
    return found


def query_operations() -> list[tuple[str, list[str]]]:
    """(path, its query parameter names) of every GET operation."""
    found = []
    for path, item in SCHEMA["paths"].items():
        operation = item.get("get")
        if operation is None:
            continue
        names = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
        found.append((path, names or ["q"]))
    return found


BODY_OPERATIONS = body_operations()
QUERY_OPERATIONS = query_operations()


def fill(path: str, ids: dict[str, str]) -> str:
    """A path with its parameters: one of the caller's records where the path names a kind
    of record, else a fresh id."""
    kind = path.split("/")[2]
    return re.sub(r"\{[^}]+\}", ids.get(kind, str(uuid.uuid4())), path)


def own_ids(world) -> dict[str, str]:
    mine = world["rep_north"]
    return {
        "stores": str(mine["store"]),
        "surveys": str(mine["survey"]),
        "visits": str(mine["visit"]),
        "photos": str(mine["photo"]),
        "followups": str(mine["followup"]),
        "tasks": str(mine["task"]),
    }


# --- REST bodies ----------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_every_field_of_every_rest_body(manager, rep, world, data):
    ids = own_ids(world)
    for path, method, fields in BODY_OPERATIONS:
        url = fill(path, ids)
        if path.startswith("/api/sync/"):
            continue  # below, with the protocol's own shapes
        for field in fields:
            body = {field: data.draw(hostile_values)}
            if data.draw(st.booleans()):
                body[data.draw(hostile_keys)] = 1
            who = data.draw(st.sampled_from([manager, rep]))
            who.send("rest", method, url, encode(body))


# --- sync push, WatermelonDB push, the tombstone path -----------------------------------------

ENTITY_FIELDS = [(spec.name, spec.field_names) for spec in all_entities()]


def push_body(entity: str, record_id, fields: dict, op: str = "update") -> str:
    mutation = {
        "mutation_id": str(uuid.uuid4()),
        "entity": entity,
        "op": op,
        "record_id": str(record_id),
        "base_version": 1,
        "fields": fields,
    }
    return encode({"device_id": "fuzz", "mutations": [mutation]})


@FUZZ
@given(data=st.data())
def test_every_field_of_every_sync_entity_in_a_push(rep, world, data):
    mine = world["rep_north"]
    for entity, fields in ENTITY_FIELDS:
        record_id = mine.get(entity, uuid.uuid4())
        for field in fields:
            value = data.draw(hostile_values)
            rep.send("push", "post", "/api/sync/push", push_body(entity, record_id, {field: value}))
            op = data.draw(st.sampled_from(["create", "update"]))
            rep.send(
                "push",
                "post",
                "/api/sync/push",
                push_body(entity, uuid.uuid4(), {field: value}, op),
            )
        key = data.draw(hostile_keys)
        rep.send("push", "post", "/api/sync/push", push_body(entity, record_id, {key: 1}))


@FUZZ
@given(data=st.data())
def test_every_field_in_an_edit_of_a_deleted_record(rep, hq, world, data):
    mine = world["rep_north"]
    for entity, fields in ENTITY_FIELDS:
        record_id = mine.get(entity)
        if record_id is None:
            continue
        table = f"{entity}s"
        hq.send("tombstone", "delete", f"/api/{table}/{record_id}/")
        for field in fields:
            value = data.draw(hostile_values)
            rep.send(
                "tombstone", "post", "/api/sync/push", push_body(entity, record_id, {field: value})
            )


@FUZZ
@given(data=st.data())
def test_every_column_of_every_watermelon_table(rep, world, data):
    mine = world["rep_north"]
    for table, spec in table_specs().items():
        record_id = mine.get(spec.name, uuid.uuid4())
        for field in spec.field_names:
            row = {"id": str(record_id), field: data.draw(hostile_values)}
            kind = data.draw(st.sampled_from(["created", "updated"]))
            changes = {table: {"created": [], "updated": [], "deleted": [], kind: [row]}}
            rep.send(
                "watermelon",
                "post",
                "/api/sync/watermelon?last_pulled_at=null",
                encode({"changes": changes}),
            )
        changes = {
            data.draw(hostile_keys): {
                "created": [],
                "updated": [],
                "deleted": [data.draw(hostile_text)],
            }
        }
        rep.send(
            "watermelon",
            "post",
            "/api/sync/watermelon?last_pulled_at=null",
            encode({"changes": changes}),
        )


# --- query parameters, headers, cursors -------------------------------------------------------


def query_text(value: object) -> str:
    text = value if isinstance(value, str) else encode(value)
    return text.replace(RAW, "")


@FUZZ
@given(data=st.data())
def test_every_query_parameter_of_every_get(manager, world, data):
    ids = own_ids(world)
    for path, names in QUERY_OPERATIONS:
        url = fill(path, ids)
        for name in names:
            value = query_text(data.draw(hostile_values))
            safe = value.encode("utf-8", "surrogatepass")
            from urllib.parse import quote_from_bytes

            manager.send("query", "get", f"{url}?{name}={quote_from_bytes(safe)}")


HEADERS = [
    "HTTP_X_DEVICE_ID",
    "HTTP_X_APP_VERSION",
    "HTTP_X_PENDING_MUTATIONS",
    "HTTP_ACCEPT_ENCODING",
    "HTTP_ACCEPT",
    "HTTP_USER_AGENT",
]


@FUZZ
@given(data=st.data())
def test_every_device_header(rep, world, data):
    for header in HEADERS:
        value = query_text(data.draw(hostile_text))
        value = value.encode("utf-8", "surrogatepass").decode("latin-1")
        rep.send("headers", "get", "/api/sync/pull", **{header: value})
        rep.send("headers", "post", "/api/sync/push", '{"mutations": []}', **{header: value})


def signed(raw: object) -> str:
    payload = base64.urlsafe_b64encode(encode(raw).encode("utf-8", "surrogatepass")).decode()
    return signing.Signer(salt=CURSOR_SIGNER_SALT, algorithm="sha256").sign(payload.rstrip("="))


@FUZZ
@given(data=st.data())
def test_pull_cursors(rep, world, data):
    from sync.pull import sync_epoch

    epoch = sync_epoch()
    fields = [data.draw(hostile_values) for _ in range(9)]
    for cursor in (
        signed([CURSOR_VERSION, epoch, *fields]),
        signed(fields),
        signed(data.draw(hostile_values)),
        query_text(data.draw(hostile_text)),
    ):
        from urllib.parse import quote_from_bytes

        quoted = quote_from_bytes(cursor.encode("utf-8", "surrogatepass"))
        rep.send("cursor", "get", f"/api/sync/pull?cursor={quoted}")
        rep.send("cursor", "get", f"/api/sync/watermelon?last_pulled_at={quoted}")


# --- CSV imports ----------------------------------------------------------------------------

CSV_COLUMNS = ["order_id", "store_id", "store_phone", "order_date", "sku", "quantity", "amount"]
csv_cells = st.sampled_from(
    [
        "9" * 5000,
        "1e999999999",
        "sNaN",
        "NaN",
        "-0",
        "1e-999999999",
        "\x00",
        "٣",
        "0x10",
        "1_000",
        "",
        "=cmd|' /C calc'!A0",
    ]
) | st.text(max_size=20).filter(
    lambda t: "\n" not in t and "\r" not in t and "," not in t and '"' not in t
)


@FUZZ
@given(data=st.data())
def test_every_column_of_the_orders_csv(hq, world, data):
    store = str(world["rep_north"]["store"])
    good = {
        "order_id": "F-1",
        "store_id": store,
        "store_phone": "",
        "order_date": "2025-11-02",
        "sku": "SALAD",
        "quantity": "1",
        "amount": "1.00",
    }
    for column in CSV_COLUMNS:
        row = {**good, column: data.draw(csv_cells)}
        text = ",".join(CSV_COLUMNS) + "\n" + ",".join(row[c] for c in CSV_COLUMNS) + "\n"
        body = text.encode("utf-8", "surrogatepass")
        hq.send("csv", "post", "/api/imports/orders", body, content_type="text/csv")


def test_no_server_errors_were_seen():
    assert SERVER_ERRORS == []

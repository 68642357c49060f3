"""What a WatermelonDB request says in its query: the last pull's timestamp, the schema
version, a local migration, the device."""

from dataclasses import dataclass
from typing import Any

import orjson

from accounts.models import User
from fieldline.inputs import text_problem

MAX_SAFE_INTEGER = 2**53 - 1
MAX_DEVICE_ID = 64


class WatermelonInvalid(Exception):
    """A request the protocol cannot read: {field: [messages]}."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(errors)
        self.errors = errors


class WatermelonResync(Exception):
    """A push based on a timestamp this database never issued: pull again first."""


@dataclass(frozen=True)
class Migration:
    """What WatermelonDB reports after a local schema migration."""

    from_version: int
    tables: frozenset[str]
    columns: frozenset[str]  # tables that gained columns


def _absent(raw: str | None) -> bool:
    return raw is None or raw in ("", "null", "undefined")


def _integer(raw: str, *, name: str, message: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 16 or int(raw) > MAX_SAFE_INTEGER:
        raise WatermelonInvalid({name: [message]})
    return int(raw)


def parse_last_pulled_at(raw: str | None) -> int | None:
    """A timestamp from an earlier pull, or None for a first sync (`null` in the URL)."""
    if _absent(raw):
        return None
    assert raw is not None
    value = _integer(
        raw, name="last_pulled_at", message="A timestamp from an earlier pull, or null."
    )
    return value or None


def parse_schema_version(raw: str | None) -> int | None:
    if _absent(raw):
        return None
    assert raw is not None
    return _integer(raw, name="schema_version", message="A positive integer.")


def parse_migration(raw: str | None) -> Migration | None:
    """`migration` as WatermelonDB's `pullChanges` gets it, JSON-encoded in the URL."""
    if _absent(raw):
        return None
    assert raw is not None
    invalid = WatermelonInvalid(
        {"migration": ['JSON: {"from": n, "tables": [...], "columns": [{"table", "columns"}]}.']}
    )
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise invalid from error
    if body is None:
        return None
    if not isinstance(body, dict):
        raise invalid
    from_version, tables, columns = (
        body.get("from"),
        body.get("tables", []),
        body.get("columns", []),
    )
    if (
        isinstance(from_version, bool)
        or not isinstance(from_version, int)
        or not isinstance(tables, list)
        or not all(isinstance(table, str) for table in tables)
        or not isinstance(columns, list)
        or not all(isinstance(c, dict) and isinstance(c.get("table"), str) for c in columns)
    ):
        raise invalid
    return Migration(
        from_version=from_version,
        tables=frozenset(tables),
        columns=frozenset(c["table"] for c in columns),
    )


def device_id_for(*, user: User, given: str | None) -> str:
    """The device a request speaks for; one per user when the app does not say."""
    if not given:
        return f"watermelon-{user.pk}"
    if len(given) > MAX_DEVICE_ID or text_problem(given) is not None:
        raise WatermelonInvalid({"device_id": [f"At most {MAX_DEVICE_ID} characters."]})
    return given

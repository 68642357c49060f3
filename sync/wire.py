"""The wire form of records: flat JSON objects, the same in REST and in sync."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import orjson

ORJSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def wire_value(value: Any) -> Any:
    """A model value as plain JSON data (what merges compare and logs keep)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def format_datetime(value: dt.datetime) -> str:
    text = value.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, option=ORJSON_OPTIONS)


def to_ms(value: dt.datetime) -> int:
    return int(value.timestamp() * 1000)


def parse_uuid(value: Any) -> uuid.UUID | None:
    """A UUID from what a client sent (a string, or one already parsed); None if it is not."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None

"""The wire form of records: flat JSON objects, the same in REST and in sync."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import orjson

ORJSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


# Types that are their own wire form (checked first: most values are one of them).
PLAIN_TYPES = frozenset({str, int, float, bool, type(None), list, dict})


def wire_value(value: Any) -> Any:
    """A model value as plain JSON data (what merges compare and logs keep)."""
    if type(value) in PLAIN_TYPES:
        return value
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


def storable_json(value: Any) -> Any:
    """JSON data PostgreSQL can store: a NUL character (which jsonb refuses) in any key or
    string becomes U+FFFD. Used for what the server keeps of a client's input as sent
    (rejections that echo an unknown field's name, a conflict's losing value)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {storable_json(key): storable_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(item) for item in value]
    return value


# What the conflict log keeps of a losing client value: at most this many characters of
# JSON; a longer value is kept as a note of its size (the phone still holds it).
CONFLICT_VALUE_MAX_CHARS = 4096


def bounded_json(value: Any, *, max_chars: int = CONFLICT_VALUE_MAX_CHARS) -> Any:
    """`value`, or {"truncated": true, "chars": n} when its JSON is longer than max_chars
    (or cannot be written as JSON at all)."""
    try:
        size = len(orjson.dumps(value, option=ORJSON_OPTIONS))
    except (TypeError, orjson.JSONEncodeError):
        return {"truncated": True, "chars": None}
    if size <= max_chars:
        return value
    return {"truncated": True, "chars": size}

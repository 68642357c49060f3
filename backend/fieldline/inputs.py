"""The one check every value a client sends goes through, whatever door it came in by.

REST bodies (the JSON parser), sync pushes (each mutation on its own, so one bad value
rejects its mutation and not the batch), WatermelonDB pushes (each row), query
parameters and headers (`InputGuardMiddleware`), pull cursors and CSV cells are held to
the same rules here, before any serializer, model or database sees them:

- text: no NUL (PostgreSQL refuses it in text and jsonb), no lone UTF-16 surrogate (no
  UTF-8 encoder takes one: the database driver, orjson and the log writers all fail);
- numbers: integers within a signed 64-bit column, floats finite and no larger in
  magnitude (1e400 parses as infinity; 1e300 overflows any integer or money column);
- JSON: nested at most `INPUT_MAX_DEPTH` deep (far below PostgreSQL's own jsonb limit,
  which answers an error instead of a value), object keys (field names) short and clean;
- decimal text (CSV amounts, quantities): plain digits only, a bounded number of them,
  never an exponent (`1e999999999`), `NaN` or `sNaN`.

A message never repeats the value it refuses: it names where the value was (a key only
when that key itself is clean and short) and what is allowed.
"""

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from fieldline.conf import fieldline_settings

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
# Floats are held to the integers' range: a float beyond it cannot be stored in, or
# converted to, any numeric column the API has.
FLOAT_MAX = float(2**63)
# At most this many problems are reported for one value (the rest are of the same kind).
MAX_PROBLEMS = 10

NUL_MESSAGE = "NUL characters are not allowed."
SURROGATE_MESSAGE = "Unpaired surrogate characters are not allowed: send valid UTF-8 text."
INT_MESSAGE = "Integers must lie between -2**63 and 2**63-1."
FLOAT_MESSAGE = "Numbers must be finite and at most 9.2e18 in magnitude."
_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PLAIN_DECIMAL = re.compile(r"[+-]?([0-9]+)(?:\.([0-9]+))?")
_PLAIN_INT = re.compile(r"[0-9]+")


class InputRejected(ValueError):
    """A value no entry point accepts; `errors` is {where: [messages]}."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def text_problem(value: str, *, max_length: int | None = None) -> str | None:
    """What is wrong with a string a client sent, or None."""
    if "\x00" in value:
        return NUL_MESSAGE
    if _SURROGATES.search(value):
        return SURROGATE_MESSAGE
    if max_length is not None and len(value) > max_length:
        return f"At most {max_length} characters."
    return None


def header_problem(value: str) -> str | None:
    """What is wrong with a header or query parameter value (control characters too)."""
    problem = text_problem(value)
    if problem is None and _CONTROL.search(value):
        return "Control characters are not allowed."
    return problem


def number_problem(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if INT_MIN <= value <= INT_MAX else INT_MESSAGE
    if isinstance(value, float):
        return None if abs(value) <= FLOAT_MAX else FLOAT_MESSAGE  # NaN: False here too
    if isinstance(value, Decimal):
        return None if value.is_finite() and abs(value) <= FLOAT_MAX else FLOAT_MESSAGE
    return None


def safe_label(key: Any, index: int) -> str:
    """A key as it may appear in a message: itself when clean and short, else its place."""
    if (
        isinstance(key, str)
        and len(key) <= 64
        and text_problem(key) is None
        and not _CONTROL.search(key)
    ):
        return key
    return f"[key {index}]"


def json_problems(
    value: Any, *, path: str = "", max_depth: int | None = None
) -> dict[str, list[str]]:
    """Every problem of a JSON value (up to MAX_PROBLEMS), by where it is ("" the value
    itself, "a.b.0" inside it)."""
    depth = fieldline_settings.INPUT_MAX_DEPTH if max_depth is None else max_depth
    problems: dict[str, list[str]] = {}
    for where, message in _walk(value, path, depth):
        problems.setdefault(where or "detail", []).append(message)
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems


def check_json(value: Any, *, path: str = "", max_depth: int | None = None) -> None:
    """Raise InputRejected when `json_problems` finds any."""
    problems = json_problems(value, path=path, max_depth=max_depth)
    if problems:
        raise InputRejected(problems)


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


def _walk(value: Any, path: str, depth: int) -> Iterator[tuple[str, str]]:
    # Iterative: a value nested past the recursion limit is refused, never a RecursionError.
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    max_key = fieldline_settings.INPUT_MAX_KEY_LENGTH
    while stack:
        item, where, level = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                yield where, problem
        elif isinstance(item, dict | list | tuple):
            if level >= depth:
                yield where, f"Nested too deeply: at most {depth} levels of lists and objects."
                continue
            if isinstance(item, dict):
                for index, (key, child) in enumerate(item.items()):
                    label = safe_label(key, index)
                    if not isinstance(key, str):
                        yield _join(where, label), "Keys must be strings."
                        continue
                    problem = text_problem(key, max_length=max_key)
                    if problem is None and _CONTROL.search(key):
                        problem = "Control characters are not allowed."
                    if problem:
                        yield _join(where, label), f"Invalid field name: {problem}"
                        continue
                    stack.append((child, _join(where, label), level + 1))
            else:
                for index, child in enumerate(item):
                    stack.append((child, _join(where, str(index)), level + 1))
        else:
            problem = number_problem(item)
            if problem:
                yield where, problem


def parse_decimal(text: str, *, max_digits: int, decimal_places: int) -> Decimal:
    """A decimal from plain text (`-12.50`): digits and one point only, at most
    `max_digits` digits of which `decimal_places` after the point. ValueError with a
    message that does not repeat the text otherwise."""
    match = _PLAIN_DECIMAL.fullmatch(text)
    if match is None:
        raise ValueError("not a plain decimal number (digits and at most one point)")
    whole, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > decimal_places:
        raise ValueError(f"more than {decimal_places} decimal places")
    if len(whole.lstrip("0")) > max_digits - decimal_places:
        raise ValueError("too large")
    return Decimal(text)


def parse_count(text: str, *, max_value: int) -> int:
    """A whole number from plain digits, at most `max_value`; ValueError otherwise."""
    if len(text) > 40 or not _PLAIN_INT.fullmatch(text):
        raise ValueError("not a whole number")
    value = int(text)
    if value > max_value:
        raise ValueError(f"more than {max_value}")
    return value


# An error message is at most this long: a validator that repeats the value it refuses
# ('"…" is not a valid choice.') is cut, so that no answer or log echoes a large value.
MAX_MESSAGE_CHARS = 200


def bounded_messages(errors: Any) -> Any:
    """Error messages (nested dicts and lists of strings) each cut to MAX_MESSAGE_CHARS,
    with anything unwritable (NUL, lone surrogates) replaced."""
    if isinstance(errors, dict):
        return {
            _message_key(key, index): bounded_messages(value)
            for index, (key, value) in enumerate(errors.items())
        }
    if isinstance(errors, list):
        return [bounded_messages(item) for item in errors]
    if isinstance(errors, str):
        text = _SURROGATES.sub("\ufffd", errors.replace("\x00", "\ufffd"))
        return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"
    return errors


def _message_key(key: Any, index: int) -> str:
    """An error's key (a field, or a path into a value): a long clean one is cut."""
    if isinstance(key, str) and len(key) > 64 and safe_label(key[:64], index) == key[:64]:
        return key[:63] + "…"
    return safe_label(key, index)

"""Push: a phone's queued mutations, applied in order, each whole or not at all.

The envelope is checked first (a malformed mutation is rejected on its own and the rest
go on); the valid ones then go through the one write path, `apply_mutations`, as one
set-based batch.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from fieldline.inputs import json_problems, text_problem
from sync.batch import apply_mutations
from sync.merge import Status
from sync.models import ChangeSource
from sync.mutations import OPS, Mutation, MutationResult
from sync.retries import retried_on_contention
from sync.wire import parse_uuid

MAX_DEVICE_ID = 64


class PushTooLarge(Exception):
    pass


class PushInvalid(Exception):
    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class PushOutcome:
    results: list[dict[str, Any]]
    device_id: str


def parse_mutation(raw: Any) -> Mutation | MutationResult:
    """A mutation from its JSON form, or the rejection that says what is wrong with it."""
    if not isinstance(raw, dict):
        return _rejected(None, {"detail": "A mutation is a JSON object."})
    mutation_id = parse_uuid(raw.get("mutation_id"))
    # The one input check (fieldline.inputs), per mutation: a value no column can hold
    # rejects this mutation, never the push, and is not repeated in the answer.
    fields = raw.get("fields")
    problems = json_problems({k: v for k, v in raw.items() if k != "fields"})
    if isinstance(fields, dict):
        problems.update(json_problems(fields))
    if problems:
        return _rejected(mutation_id, problems)
    errors: dict[str, list[str]] = {}
    if mutation_id is None:
        errors["mutation_id"] = ["A UUID is required."]
    known = {"mutation_id", "entity", "op", "record_id", "base_version", "client_ts", "fields"}
    for name in sorted(set(raw) - known):
        errors[name] = ["Unknown key."]
    entity, op = raw.get("entity"), raw.get("op")
    if not isinstance(entity, str):
        errors["entity"] = ["A string is required."]
    if op not in OPS:
        errors["op"] = [f"Must be one of {', '.join(OPS)}."]
    record_id = parse_uuid(raw.get("record_id"))
    if record_id is None:
        errors["record_id"] = ["A UUID is required."]
    base_version = raw.get("base_version")
    if op == "update" and (
        isinstance(base_version, bool) or not isinstance(base_version, int) or base_version < 0
    ):
        errors["base_version"] = ["A non-negative integer is required for an update."]
    client_ts = _datetime(raw.get("client_ts"))
    if raw.get("client_ts") is not None and client_ts is None:
        errors["client_ts"] = ["An ISO 8601 time with a time zone is required."]
    fields = raw.get("fields", {})
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        errors["fields"] = ["A JSON object is required."]
    if errors:
        return _rejected(mutation_id, errors)
    # Checked above; said again for the type checker.
    assert isinstance(entity, str)
    assert isinstance(op, str)
    assert record_id is not None
    return Mutation(
        entity=entity,
        op=op,
        record_id=record_id,
        fields=fields,
        mutation_id=mutation_id,
        base_version=base_version if op == "update" else None,
        client_ts=client_ts,
    )


def push(*, actor: User, body: Any, max_mutations: int) -> PushOutcome:
    if not isinstance(body, dict):
        raise PushInvalid({"detail": "A JSON object is required."})
    device_id = body.get("device_id", "")
    if (
        not isinstance(device_id, str)
        or text_problem(device_id, max_length=MAX_DEVICE_ID) is not None
    ):
        raise PushInvalid({"device_id": [f"A string of at most {MAX_DEVICE_ID} characters."]})
    mutations = body.get("mutations")
    if not isinstance(mutations, list):
        raise PushInvalid({"mutations": ["A list is required."]})
    if len(mutations) > max_mutations:
        raise PushTooLarge(
            f"A push holds at most {max_mutations} mutations; this one has {len(mutations)}."
        )
    parsed = [parse_mutation(raw) for raw in mutations]
    valid = [m for m in parsed if isinstance(m, Mutation)]
    applied = iter(
        retried_on_contention(apply_mutations)(
            actor=actor,
            mutations=valid,
            device_id=device_id,
            source=ChangeSource.PUSH,
            received_at=timezone.now(),
        )
    )
    results = [(next(applied) if isinstance(m, Mutation) else m).as_wire() for m in parsed]
    return PushOutcome(results=results, device_id=device_id)


def _rejected(mutation_id: uuid.UUID | None, errors: dict[str, Any]) -> MutationResult:
    return MutationResult(mutation_id=mutation_id, status=Status.REJECTED, errors=errors)


def _datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    return parsed

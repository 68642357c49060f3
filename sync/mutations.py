"""What the engine takes and answers: a mutation, its result, its rejection, and the
wire form of a record."""

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from sync.merge import Status
from sync.registry import EntitySpec
from sync.wire import wire_value

NOT_FOUND = {"detail": "not found"}
OPS = ("create", "update", "delete")


@dataclass(frozen=True)
class Mutation:
    entity: str
    op: str
    record_id: uuid.UUID
    fields: Mapping[str, Any] = field(default_factory=dict)
    mutation_id: uuid.UUID | None = None
    base_version: int | None = None
    client_ts: dt.datetime | None = None


@dataclass(frozen=True)
class MutationResult:
    mutation_id: uuid.UUID | None
    status: Status
    record: dict[str, Any] | None = None
    conflicts: tuple[dict[str, Any], ...] = ()
    errors: dict[str, Any] | None = None
    # Why a rejection happened, for REST status codes: "invalid", "not_found", "forbidden".
    reason: str = ""
    # A rule's own name for a rejection (e.g. "survey_approved"), for clients to act on.
    code: str = ""
    # The answer of an earlier push with the same mutation id, given again: nothing was
    # applied this time (a developer re-sending a fixed id learns why nothing changed).
    replayed: bool = False

    def as_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "mutation_id": str(self.mutation_id) if self.mutation_id else None,
            "status": str(self.status),
        }
        if self.status == Status.REJECTED:
            body["errors"] = self.errors or {}
            if self.code:
                body["code"] = self.code
        else:
            body["record"] = self.record
            if self.conflicts:
                body["conflicts"] = list(self.conflicts)
        if self.replayed:
            body["replayed"] = True
        return body


class MutationRejected(Exception):
    def __init__(self, errors: dict[str, Any], reason: str = "invalid", code: str = "") -> None:
        super().__init__(errors)
        self.errors = errors
        self.reason = reason
        self.code = code


def record_wire(
    *, spec: EntitySpec, record: models.Model, values: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The wire form of one record. `values`: its fields' wire values, when the caller
    already holds them all (an update's merge does)."""
    body: dict[str, Any] = {"id": str(record.pk)}
    if values is not None:
        body.update(values)
    else:
        for f in spec.fields:
            body[f.name] = wire_value(getattr(record, f.attname))
    for name in spec.readonly:
        body[name] = wire_value(getattr(record, name))
    body["version"] = record.version
    body["updated_at"] = wire_value(record.updated_at)
    body["deleted"] = record.deleted
    return body

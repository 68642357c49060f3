"""The pure rules of the three-way field merge. No Django here: plain data in and out.

A record's server state is its values plus, per field, the stamp of its last change
(version, clock in ms, device). A phone's update names the version it was based on; a
field the server changed after that version was changed on both sides, and its policy
decides the outcome.
"""

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple


class Policy(StrEnum):
    LWW = "lww"
    SERVER = "server"
    UNION = "union"
    MAX = "max"


class Kept(StrEnum):
    CLIENT = "client"
    SERVER = "server"
    MERGED = "merged"


class Status(StrEnum):
    APPLIED = "applied"
    MERGED = "merged"
    CONFLICT = "conflict"
    REJECTED = "rejected"


class Stamp(NamedTuple):
    """A field's last change. A named tuple: every update reads one per stamped field."""

    version: int
    ts_ms: int
    device: str

    def as_list(self) -> list[Any]:
        return [self.version, self.ts_ms, self.device]

    @classmethod
    def from_list(cls, raw: list[Any] | tuple[Any, ...]) -> "Stamp":
        return cls(int(raw[0]), int(raw[1]), str(raw[2]))


@dataclass(frozen=True)
class FieldConflict:
    field: str
    policy: Policy
    client_value: Any
    server_value: Any
    resolved_value: Any
    kept: Kept


@dataclass(frozen=True)
class MergeOutcome:
    """What to write: new values and stamps for the fields that change."""

    values: dict[str, Any]
    stamps: dict[str, Stamp]
    conflicts: tuple[FieldConflict, ...]
    server_changed_other_fields: bool

    @property
    def status(self) -> Status:
        if self.conflicts:
            return Status.CONFLICT
        if self.server_changed_other_fields:
            return Status.MERGED
        return Status.APPLIED


def clamp_client_ts(*, client_ts_ms: int | None, received_ms: int) -> int:
    """A phone clock ahead of the server counts as the server's receive time."""
    if client_ts_ms is None or client_ts_ms > received_ms:
        return received_ms
    return client_ts_ms


def canonical_set(items: list[Any]) -> list[Any]:
    """A set-like list in one order, without repeats, so equal sets compare equal."""
    unique: list[Any] = []
    for item in items:
        if item not in unique:
            unique.append(item)
    return sorted(unique, key=lambda item: json.dumps(item, sort_keys=True, default=str))


def union_merge(*, base: list[Any] | None, server: list[Any], client: list[Any]) -> list[Any]:
    """Both sides' additions stay; an item removed on either side stays removed.

    The result is in a canonical order, so merging in either order gives the same list.
    """
    base_items = list(base or [])
    result: list[Any] = []
    for item in [*server, *client]:
        if item in result:
            continue
        in_base = item in base_items
        kept_by_both = item in server and item in client
        if not in_base or kept_by_both:
            result.append(item)
    return canonical_set(result)


def lww_client_wins(*, client: Stamp, server: Stamp) -> bool:
    """Later clock wins; equal clocks break on the device id, so every order agrees."""
    return (client.ts_ms, client.device) > (server.ts_ms, server.device)


def merge_fields(
    *,
    server_values: Mapping[str, Any],
    server_stamps: Mapping[str, Stamp],
    base_values: Mapping[str, Any],
    client_values: Mapping[str, Any],
    policies: Mapping[str, Policy],
    base_version: int,
    new_version: int,
    client_ts_ms: int,
    device: str,
) -> MergeOutcome:
    """Merge a phone's changed fields into the server state.

    `base_values` holds, for fields changed on both sides, the value the phone started
    from (needed by `union`); `client_ts_ms` must already be clamped.
    """
    client_stamp = Stamp(version=new_version, ts_ms=client_ts_ms, device=device)
    values: dict[str, Any] = {}
    stamps: dict[str, Stamp] = {}
    conflicts: list[FieldConflict] = []
    for field, sent_value in client_values.items():
        client_value = sent_value
        if policies.get(field) == Policy.UNION and isinstance(sent_value, list):
            client_value = canonical_set(sent_value)
        server_stamp = server_stamps.get(field)
        server_value = server_values.get(field)
        changed_on_server = _changed_by_another(server_stamp, base_version, device)
        if not changed_on_server or client_value == server_value:
            if client_value != server_value:
                values[field] = client_value
                stamps[field] = client_stamp
            continue
        assert server_stamp is not None
        policy = policies.get(field, Policy.LWW)
        resolved, kept = _resolve(
            policy=policy,
            base_value=base_values.get(field),
            server_value=server_value,
            client_value=client_value,
            server_stamp=server_stamp,
            client_stamp=client_stamp,
        )
        if resolved != server_value:
            values[field] = resolved
            stamps[field] = Stamp(
                version=new_version,
                ts_ms=max(server_stamp.ts_ms, client_ts_ms),
                device=client_stamp.device if kept == Kept.CLIENT else server_stamp.device,
            )
        conflicts.append(
            FieldConflict(
                field=field,
                policy=policy,
                client_value=sent_value,
                server_value=server_value,
                resolved_value=resolved,
                kept=kept,
            )
        )
    sent = set(client_values)
    server_changed_other_fields = any(
        _changed_by_another(stamp, base_version, device)
        for field, stamp in server_stamps.items()
        if field not in sent
    )
    return MergeOutcome(
        values=values,
        stamps=stamps,
        conflicts=tuple(conflicts),
        server_changed_other_fields=server_changed_other_fields,
    )


def _changed_by_another(stamp: Stamp | None, base_version: int, device: str) -> bool:
    """Changed on the server after the phone's base, by someone else: a device's own
    earlier edits (say, the create before this update, queued offline together) came
    before this one and are not concurrent with it."""
    return stamp is not None and stamp.version > base_version and stamp.device != device


def _resolve(
    *,
    policy: Policy,
    base_value: Any,
    server_value: Any,
    client_value: Any,
    server_stamp: Stamp,
    client_stamp: Stamp,
) -> tuple[Any, Kept]:
    if policy == Policy.SERVER:
        return server_value, Kept.SERVER
    if policy == Policy.MAX:
        if _max_key(client_value) > _max_key(server_value):
            return client_value, Kept.CLIENT
        return server_value, Kept.SERVER
    if policy == Policy.UNION and isinstance(server_value, list) and isinstance(client_value, list):
        merged = union_merge(base=base_value, server=server_value, client=client_value)
        if merged == client_value:
            return merged, Kept.CLIENT
        if merged == server_value:
            return merged, Kept.SERVER
        return merged, Kept.MERGED
    if lww_client_wins(client=client_stamp, server=server_stamp):
        return client_value, Kept.CLIENT
    return server_value, Kept.SERVER


def _max_key(value: Any) -> tuple[int, Any]:
    """None sorts below every number, so a counter set on one side always wins."""
    return (0, 0) if value is None else (1, value)


# --- a write against what is stored ----------------------------------------------------------


def effective_op(*, op: str, base_version: int | None, exists: bool) -> tuple[str, int | None]:
    """The operation a mutation amounts to. A create whose id exists (the phone lost the
    answer and sent it again) is an update of what is there from nothing, base version 0:
    what it sets that nobody changed since applies, and the rest is merged by policy."""
    if op == "create" and exists:
        return "update", 0
    return op, base_version


def tombstone_conflicts(
    *,
    sent: Mapping[str, Any],
    server_values: Mapping[str, Any],
    policies: Mapping[str, Policy],
) -> tuple[FieldConflict, ...]:
    """Deletes win: an edit of a deleted record changes nothing, and every field it sent is
    a conflict the server kept (so the edit is in the conflict log); an edit that sent no
    field is one conflict on `deleted` itself. `server_values` holds the record's known
    fields; a field it lacks (unknown to the entity) has no server value."""
    conflicts = tuple(
        FieldConflict(
            field=name,
            policy=policies.get(name, Policy.LWW),
            client_value=value,
            server_value=server_values.get(name),
            resolved_value=None,
            kept=Kept.SERVER,
        )
        for name, value in sent.items()
    )
    return conflicts or (
        FieldConflict(
            field="deleted",
            policy=Policy.LWW,
            client_value=False,
            server_value=True,
            resolved_value=True,
            kept=Kept.SERVER,
        ),
    )


def fields_needing_base(
    *,
    client_values: Mapping[str, Any],
    server_stamps: Mapping[str, Stamp],
    base_version: int,
    policies: Mapping[str, Policy],
) -> list[str]:
    """The fields of an update whose merge needs the value the phone started from: set-like
    (`union`) fields the server changed after the phone's base."""
    return [
        name
        for name in client_values
        if name in server_stamps
        and server_stamps[name].version > base_version
        and policies.get(name) == Policy.UNION
    ]


def values_as_of(
    *, wanted: Collection[str], newest_first: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """The values these fields had at a version, from the new values of the record's
    changes at or below it, newest first: the first change that set a field set its value
    then. Reads no further than it must (the changes may come from a query)."""
    found: dict[str, Any] = {}
    if not wanted:
        return found
    for new_values in newest_first:
        for name in wanted:
            if name not in found and name in new_values:
                found[name] = new_values[name]
        if len(found) == len(wanted):
            break
    return found


@dataclass(frozen=True)
class LoggedChange:
    """One change of a record as its log keeps it: what the fields were before it."""

    version: int
    op: str
    old_values: Mapping[str, Any]


def version_before(version: int, changes: Sequence[LoggedChange]) -> int:
    """The version a record had before these changes (of the record, since some point);
    1 if it was created among them (the phone pushing it made it)."""
    if not changes:
        return version
    if any(change.op == "create" for change in changes):
        return 1
    return min(change.version for change in changes) - 1


def values_at(
    values: Mapping[str, Any], changes: Sequence[LoggedChange], version: int
) -> dict[str, Any]:
    """A record's field values as of `version`: from its current `values`, the updates
    after that version undone, newest first."""
    result = dict(values)
    for change in sorted(changes, key=lambda change: change.version, reverse=True):
        if change.version > version and change.op == "update":
            result.update({k: v for k, v in change.old_values.items() if k in result})
    return result

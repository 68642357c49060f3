"""A simulated phone: a local replica, a queue of offline mutations, push and pull."""

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any


class PushFailed(AssertionError):
    """The server answered a push with something other than 200; the queue stays."""

    def __init__(self, status_code: int, body: bytes) -> None:
        super().__init__(f"push answered {status_code}: {body[:200]!r}")
        self.status_code = status_code


class ResyncRequired(Exception):
    """The server answered a pull `410 {"detail": "resync"}`: the cursor is not servable."""


def now_iso(offset_s: float = 0.0) -> str:
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset_s)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Phone:
    """Speaks the sync protocol through any client with `.post(path, data, format=)` and
    `.get(path, params)` returning responses with `.status_code` and `.json()`."""

    client: Any
    device_id: str = field(default_factory=lambda: f"phone-{uuid.uuid4().hex[:8]}")
    replica: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    queue: list[dict[str, Any]] = field(default_factory=list)
    cursor: str | None = None
    clock_offset_s: float = 0.0
    rejected: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    stale: set[tuple[str, str]] = field(default_factory=set)

    # --- offline edits ------------------------------------------------------------------

    def create(self, entity: str, **fields: Any) -> str:
        record_id = str(uuid.uuid4())
        self.replica[(entity, record_id)] = {"id": record_id, "version": 0, **fields}
        self._enqueue(entity, "create", record_id, fields=fields)
        return record_id

    def update(self, entity: str, record_id: str, **fields: Any) -> None:
        local = self.replica[(entity, record_id)]
        base_version = local["version"]
        local.update(fields)
        self._enqueue(entity, "update", record_id, fields=fields, base_version=base_version)

    def delete(self, entity: str, record_id: str) -> None:
        self.replica.pop((entity, record_id), None)
        self._enqueue(entity, "delete", record_id)

    def _enqueue(self, entity: str, op: str, record_id: str, **extra: Any) -> None:
        mutation = {
            "mutation_id": str(uuid.uuid4()),
            "entity": entity,
            "op": op,
            "record_id": record_id,
            "client_ts": now_iso(self.clock_offset_s),
            **{key: value for key, value in extra.items() if value is not None},
        }
        if op == "delete":
            mutation.pop("fields", None)
        self.queue.append(mutation)
        self.history.append(mutation)

    # --- network --------------------------------------------------------------------------

    def push(self, *, lose_answer: bool = False) -> list[dict[str, Any]]:
        """Send the queue; with `lose_answer` the server applies it but the phone never
        hears back, so the queue stays for a retry. An answer other than 200 raises
        `PushFailed` and a broken connection raises `OSError`; the queue stays either way."""
        if not self.queue:
            return []
        response = self.client.post(
            "/api/sync/push", {"device_id": self.device_id, "mutations": self.queue}, format="json"
        )
        if response.status_code != 200:
            raise PushFailed(response.status_code, response.content)
        if lose_answer:
            return []
        results = response.json()["results"]
        # The whole answer is taken in first; the fetches it calls for come after, so a
        # connection lost during one of them cannot leave part of the answer unread.
        sent, self.queue = self.queue, []
        for mutation, result in zip(sent, results, strict=True):
            key = (mutation["entity"], mutation["record_id"])
            if result["status"] == "rejected":
                self.rejected.append((mutation, result))
                self.replica.pop(key, None)
                self.stale.add(key)
            elif result.get("record") is not None:
                self._store(mutation["entity"], result["record"])
        self.refetch_stale()
        return results

    def refetch_stale(self) -> None:
        """After a rejection the local copy is wrong: take the server's, if visible. A
        fetch that fails is tried again on the next push or pull."""
        for entity, record_id in sorted(self.stale):
            response = self.client.get(f"/api/{entity}s/{record_id}/")
            if response.status_code == 200:
                self._store(entity, response.json())
            self.stale.discard((entity, record_id))

    def pull(self, *, limit: int = 1000) -> int:
        """Pull until `has_more` is false; returns the number of changes received."""
        self.refetch_stale()
        received = 0
        while True:
            params = {"limit": limit}
            if self.cursor:
                params["cursor"] = self.cursor
            response = self.client.get("/api/sync/pull", params)
            if response.status_code == 410 and response.json() == {"detail": "resync"}:
                raise ResyncRequired
            assert response.status_code == 200, response.content
            body = response.json()
            for change in body["changes"]:
                if change["op"] == "delete":
                    self.replica.pop((change["entity"], change["id"]), None)
                else:
                    self._store(change["entity"], change["record"])
            received += len(body["changes"])
            self.cursor = body["cursor"]
            if not body["has_more"]:
                return received

    def resync(self) -> None:
        """What the protocol asks after a 410: push what is queued, drop the replica, pull
        the whole scope from no cursor."""
        self.push()
        self.replica.clear()
        self.cursor = None
        self.pull()

    def sync(self) -> None:
        self.push()
        self.pull()

    def _store(self, entity: str, record: dict[str, Any]) -> None:
        key = (entity, record["id"])
        if record.get("deleted"):
            self.replica.pop(key, None)
            return
        pending = [m for m in self.queue if (m["entity"], m["record_id"]) == key]
        if pending:
            return  # local edits not pushed yet win locally until they are
        self.replica[key] = dict(record)

    def records(self, entity: str) -> dict[str, dict[str, Any]]:
        return {pk: rec for (ent, pk), rec in self.replica.items() if ent == entity}

"""The mobile link case: a rep's first sync and a day's push over a phone's 3G link.

A throttling proxy on loopback stands for the link: bytes to the phone at 1 Mbit/s, from
it at 384 kbit/s, each direction 150 ms late, and a round trip before a new connection
carries anything (its handshake). The phone pulls its whole scope in tiers with gzip, then
the same scope untiered and uncompressed (a version 1 walk) in the same run; the proxy
counts the bytes each way (HTTP, without TCP/IP headers).
"""

import base64
import queue
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests

from tests.bench.common import LiveServer, Row, analyze, make_user

DOWN_BPS = 1_000_000
UP_BPS = 384_000
ONE_WAY_S = 0.150
PAGE_LIMIT = 2_000
# A rep's day: this many open tasks, at as many stores.
OPEN_TASKS = 40
PUSH_MUTATIONS = 200
TARGET_TODAY_S, TARGET_SCOPE_S, TARGET_PUSH_S = 5.0, 30.0, 3.0


class _Direction:
    """One direction of the link: bytes leave at `bps`, one after the other (the link is
    a queue), and arrive `one_way_s` later."""

    def __init__(self, source: socket.socket, sink: socket.socket, bps: int, delay_s: float):
        self.source, self.sink, self.bps, self.delay_s = source, sink, bps, delay_s
        self.bytes = 0
        self.free_at = 0.0
        self.pending: queue.Queue[tuple[float, bytes | None]] = queue.Queue()

    def start(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._write, daemon=True),
        ]
        for thread in threads:
            thread.start()
        return threads

    def _read(self) -> None:
        try:
            while data := self.source.recv(4096):
                now = time.monotonic()
                self.free_at = max(now, self.free_at) + len(data) * 8 / self.bps
                self.bytes += len(data)
                self.pending.put((self.free_at + self.delay_s, data))
        except OSError:
            pass
        self.pending.put((time.monotonic() + self.delay_s, None))

    def _write(self) -> None:
        while True:
            due, data = self.pending.get()
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                if data is None:
                    self.sink.shutdown(socket.SHUT_WR)
                    return
                self.sink.sendall(data)
            except OSError:
                return


@dataclass
class ThrottledLink:
    """A TCP proxy on a free loopback port in front of `target_port`."""

    target_port: int
    down_bps: int = DOWN_BPS
    up_bps: int = UP_BPS
    one_way_s: float = ONE_WAY_S
    down_bytes: int = 0
    up_bytes: int = 0
    connections: int = 0
    _directions: list[_Direction] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                phone, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(phone,), daemon=True).start()

    def _serve(self, phone: socket.socket) -> None:
        self.connections += 1
        server = socket.create_connection(("127.0.0.1", self.target_port))
        for sock in (phone, server):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        time.sleep(2 * self.one_way_s)  # the handshake's round trip
        up = _Direction(phone, server, self.up_bps, self.one_way_s)
        down = _Direction(server, phone, self.down_bps, self.one_way_s)
        self._directions += [up, down]
        threads = up.start() + down.start()
        for thread in threads:
            thread.join()
        phone.close()
        server.close()

    def counted(self) -> tuple[int, int]:
        """(bytes to the phone, bytes from it) so far."""
        return (
            sum(d.bytes for d in self._directions if d.bps == self.down_bps),
            sum(d.bytes for d in self._directions if d.bps == self.up_bps),
        )

    def close(self) -> None:
        self.listener.close()


def make_rep_scope(records: int) -> dict[str, Any]:
    """A rep's scope of about `records` records, shaped like a working territory: per ten
    records two stores, two surveys, three visits, a task, a follow-up and a photo; a day
    of open tasks, the other tasks done, a fifth of the follow-ups open."""
    import datetime as dt

    from sync.bulk import bulk_create_records

    rep, token = make_user("rep", "north")
    unit = max(1, records // 10)
    stores = [uuid.uuid4() for _ in range(2 * unit)]
    bulk_create_records(
        entity="store",
        rows=(
            {
                "id": pk,
                "name": f"Kiosk am Markt {n}",
                "chain_name": "" if n % 3 else "Frischepunkt",
                "phone": f"+4940{5550000 + n}",
                "address": f"Mönckebergstraße {n % 200 + 1}, 20095 Hamburg",
                "lat": 53.55 + (n % 1000) / 10_000,
                "lon": 9.99 + (n % 997) / 10_000,
                "region": "north",
                "owner": rep.pk,
                "trade_area_type": ("office", "residential", "transit", "school")[n % 4],
                "grade": "ABC"[n % 3],
                "tags": ["lunch_potential"] if n % 4 == 0 else [],
                "opening_hours": {
                    day: [["07:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")
                },
            }
            for n, pk in enumerate(stores)
        ),
    )
    base = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
    surveys = [uuid.uuid4() for _ in range(2 * unit)]
    bulk_create_records(
        entity="survey",
        rows=(
            {
                "id": pk,
                "store": stores[n % len(stores)],
                "trade_area_type": "office",
                "footfall_weekday": 100 + n % 400,
                "footfall_weekend": 50 + n % 200,
                "customer_groups": ["office_workers", "commuters"],
                "competitors": [{"name": "Bäckerei Schmidt", "kind": "bakery", "distance_m": 80}],
                "area_m2": 40.0 + n % 60,
                "equipment": ["coffee_machine", "microwave"] if n % 3 else ["open_chiller"],
                "signal_quality": "fair",
                "lat": 53.55,
                "lon": 9.99,
                "accuracy_m": 12.0,
                "captured_at": (base + dt.timedelta(days=n // len(stores) * 90)).isoformat(),
                "notes": "Lunch rush from 11:30; owner interested in a chilled shelf.",
            }
            for n, pk in enumerate(surveys)
        ),
    )
    visits = [uuid.uuid4() for _ in range(3 * unit)]
    bulk_create_records(
        entity="visit",
        rows=(
            {
                "id": pk,
                "store": stores[n % len(stores)],
                "purpose": "routine",
                "check_in_at": (base + dt.timedelta(hours=n)).isoformat(),
                "check_in_lat": 53.55,
                "check_in_lon": 9.99,
                "check_in_accuracy_m": 15.0,
                "notes": "Shelf restocked, talked to the owner.",
            }
            for n, pk in enumerate(visits)
        ),
    )
    tasks = [uuid.uuid4() for _ in range(unit)]
    bulk_create_records(
        entity="task",
        rows=(
            {
                "id": pk,
                "store": stores[n % len(stores)],
                "assignee": rep.pk,
                "type": "visit",
                "title": "Routine visit",
                "status": "open" if n < OPEN_TASKS else "done",
                "due_date": "2026-12-04",
            }
            for n, pk in enumerate(tasks)
        ),
    )
    followups = [uuid.uuid4() for _ in range(unit)]
    bulk_create_records(
        entity="followup",
        rows=(
            {
                "id": pk,
                "store": stores[n % len(stores)],
                "due_date": "2026-12-10",
                "note": "Call the owner about the chiller offer.",
                "done": n % 5 != 0,
            }
            for n, pk in enumerate(followups)
        ),
    )
    photos = [uuid.uuid4() for _ in range(unit)]
    bulk_create_records(
        entity="photo",
        rows=(
            {
                "id": pk,
                "survey": surveys[n % len(surveys)],
                "section": "storefront",
                "sha256": uuid.uuid4().hex * 2,
                "content_type": "image/jpeg",
                "lat": 53.55,
                "lon": 9.99,
            }
            for n, pk in enumerate(photos)
        ),
    )
    analyze()
    total = len(stores) + len(surveys) + len(visits) + len(tasks) + len(followups) + len(photos)
    return {
        "rep": rep,
        "token": token,
        "records": total,
        "stores": stores,
        "surveys": surveys,
        "tasks": tasks,
    }


@dataclass
class Walk:
    seconds: float
    today_s: float | None
    received: int
    down_bytes: int
    up_bytes: int
    keys: list[tuple[str, str]]
    today_count: int = 0  # how many of `keys` came before today's work was complete


def _key(change: dict[str, Any]) -> tuple[str, str]:
    if change["op"] == "delete":
        return change["entity"], change["id"]
    return change["entity"], str(change["record"]["id"])


def _walk(
    link: ThrottledLink,
    token: str,
    *,
    compressed: bool,
    cursor: str | None,
    today: set[tuple[str, str]] | None = None,
) -> Walk:
    """Pull until has_more is false. `today`: the keys whose arrival ends "today's work"
    in a walk that has no tiers."""
    session = requests.Session()
    session.headers.update(
        {
            "Authorization": f"Token {token}",
            "Accept-Encoding": "gzip" if compressed else "identity",
            "X-Device-Id": "bench-phone",
            "X-App-Version": "1.1.0",
        }
    )
    down0, up0 = link.counted()
    started = time.perf_counter()
    today_s = None
    missing = set(today) if today is not None else None
    keys: list[tuple[str, str]] = []
    today_count = 0
    while True:
        params = {"limit": PAGE_LIMIT} | ({"cursor": cursor} if cursor else {})
        response = session.get(f"{link.url}/api/sync/pull", params=params, timeout=600)
        response.raise_for_status()
        assert (response.headers.get("Content-Encoding") == "gzip") == compressed
        body = orjson.loads(response.content)
        page_keys = [_key(c) for c in body["changes"]]
        keys += page_keys
        progress = body.get("progress", {})
        tiered_today = progress.get("tier") == 0 and progress.get("tier_complete")
        if today_s is None and missing is None and tiered_today:
            today_s = time.perf_counter() - started
            today_count = len(keys)
        if missing is not None and today_s is None:
            missing.difference_update(page_keys)
            if not missing:
                today_s = time.perf_counter() - started
        cursor = body["cursor"]
        if not body["has_more"]:
            break
    seconds = time.perf_counter() - started
    time.sleep(0.1)  # let the proxy count the last bytes
    down1, up1 = link.counted()
    session.close()
    return Walk(seconds, today_s, len(keys), down1 - down0, up1 - up0, keys, today_count)


def _untiered_cursor() -> str:
    """A version 1 cursor at the start of the stream: the walk a phone made before tiers."""
    from sync.pull import sync_epoch, watermark

    raw = orjson.dumps([1, sync_epoch(), 0, 0, watermark()])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _day_push(scope: dict[str, Any]) -> dict[str, Any]:
    """A rep's day offline: check-ins and check-outs, survey edits, tasks done, follow-ups."""
    mutations = []
    stamp = "2026-12-04T10:15:00Z"
    for n in range(PUSH_MUTATIONS // 5):
        store = str(scope["stores"][n])
        visit = str(uuid.uuid4())
        mutations += [
            {
                "mutation_id": str(uuid.uuid4()),
                "entity": "visit",
                "op": "create",
                "record_id": visit,
                "client_ts": stamp,
                "fields": {
                    "store": store,
                    "purpose": "routine",
                    "check_in_at": stamp,
                    "check_in_lat": 53.55,
                    "check_in_lon": 9.99,
                    "check_in_accuracy_m": 12.0,
                },
            },
            {
                "mutation_id": str(uuid.uuid4()),
                "entity": "visit",
                "op": "update",
                "record_id": visit,
                "base_version": 1,
                "client_ts": stamp,
                "fields": {"check_out_at": "2026-12-04T10:40:00Z", "notes": "Restocked."},
            },
            {
                "mutation_id": str(uuid.uuid4()),
                "entity": "survey",
                "op": "update",
                "record_id": str(scope["surveys"][n]),
                "base_version": 1,
                "client_ts": stamp,
                "fields": {"footfall_weekday": 321, "equipment": ["coffee_machine"]},
            },
            {
                "mutation_id": str(uuid.uuid4()),
                "entity": "task",
                "op": "update",
                "record_id": str(scope["tasks"][n]),
                "base_version": 1,
                "client_ts": stamp,
                "fields": {"status": "done", "notes": "Visited."},
            },
            {
                "mutation_id": str(uuid.uuid4()),
                "entity": "followup",
                "op": "create",
                "record_id": str(uuid.uuid4()),
                "client_ts": stamp,
                "fields": {"store": store, "due_date": "2026-12-11", "note": "Bring samples."},
            },
        ]
    return {"device_id": "bench-phone", "mutations": mutations}


def _push(link: ThrottledLink, token: str, body: dict[str, Any], *, compressed: bool):
    import gzip

    data = orjson.dumps(body)
    headers = {
        "Authorization": f"Token {token}",
        "Content-Type": "application/json",
        "X-Device-Id": "bench-phone",
        "X-App-Version": "1.1.0",
        "Accept-Encoding": "gzip" if compressed else "identity",
    }
    if compressed:
        data = gzip.compress(data, compresslevel=6)
        headers["Content-Encoding"] = "gzip"
    down0, up0 = link.counted()
    started = time.perf_counter()
    response = requests.post(f"{link.url}/api/sync/push", data=data, headers=headers, timeout=600)
    seconds = time.perf_counter() - started
    response.raise_for_status()
    results = response.json()["results"]
    assert all(r["status"] != "rejected" for r in results), results[:3]
    time.sleep(0.1)
    down1, up1 = link.counted()
    return seconds, down1 - down0, up1 - up0


def bench_mobile_link(server: LiveServer, records: int) -> tuple[list[Row], dict[str, Any]]:
    scope = make_rep_scope(records)
    port = int(server.url.rsplit(":", 1)[1])
    link = ThrottledLink(port)
    try:
        tiered = _walk(link, scope["token"], compressed=True, cursor=None)
        today_keys = set(tiered.keys[: tiered.today_count])
        plain = _walk(
            link, scope["token"], compressed=False, cursor=_untiered_cursor(), today=today_keys
        )
        push_gz = _push(link, scope["token"], _day_push(scope), compressed=True)
        push_plain = _push(link, scope["token"], _day_push(scope), compressed=False)
    finally:
        link.close()
    records_sent = len({k for k in tiered.keys if k[0] != "template"})
    assert records_sent == scope["records"], (records_sent, scope["records"])
    assert len(tiered.keys) == len(set(tiered.keys)), "a record came twice in one walk"
    case = "mobile link 1M/384k/150ms"
    per_record = tiered.down_bytes / tiered.received
    plain_per_record = plain.down_bytes / plain.received
    rows = [
        Row(
            case,
            "tiers + gzip: tier 0 complete",
            len(today_keys),
            tiered.today_s or 0.0,
            len(today_keys) / (tiered.today_s or 1.0),
            0.0,
            ratio=f"untiered plain: today's work complete after {plain.today_s:.1f} s",
            target=f"<={TARGET_TODAY_S:g} s",
            met=tiered.today_s is not None and tiered.today_s <= TARGET_TODAY_S,
        ),
        Row(
            case,
            "tiers + gzip: whole scope",
            tiered.received,
            tiered.seconds,
            tiered.received / tiered.seconds,
            0.0,
            ratio=(
                f"{tiered.down_bytes / 1e6:.2f} MB down ({per_record:.0f} B/record), "
                f"{tiered.up_bytes / 1e3:.0f} kB up; {plain.seconds / tiered.seconds:.1f}x "
                "faster than untiered plain"
            ),
            target=f"<={TARGET_SCOPE_S:g} s",
            met=tiered.seconds <= TARGET_SCOPE_S,
        ),
        Row(
            case,
            "untiered, uncompressed (version 1 walk)",
            plain.received,
            plain.seconds,
            plain.received / plain.seconds,
            0.0,
            ratio=(
                f"{plain.down_bytes / 1e6:.2f} MB down ({plain_per_record:.0f} B/record); "
                f"gzip: {plain.down_bytes / tiered.down_bytes:.1f}x fewer bytes"
            ),
        ),
        Row(
            case,
            f"push of {PUSH_MUTATIONS} mutations, gzip",
            PUSH_MUTATIONS,
            push_gz[0],
            PUSH_MUTATIONS / push_gz[0],
            0.0,
            ratio=f"{push_gz[2] / 1e3:.1f} kB up, {push_gz[1] / 1e3:.1f} kB down",
            target=f"<={TARGET_PUSH_S:g} s",
            met=push_gz[0] <= TARGET_PUSH_S,
        ),
        Row(
            case,
            f"push of {PUSH_MUTATIONS} mutations, uncompressed",
            PUSH_MUTATIONS,
            push_plain[0],
            PUSH_MUTATIONS / push_plain[0],
            0.0,
            ratio=f"{push_plain[2] / 1e3:.1f} kB up, {push_plain[1] / 1e3:.1f} kB down",
        ),
    ]
    extra = {
        "records": scope["records"],
        "tier_0_records": len(today_keys),
        "tiered_gzip": {
            "tier_0_s": tiered.today_s,
            "scope_s": tiered.seconds,
            "down_bytes": tiered.down_bytes,
            "up_bytes": tiered.up_bytes,
            "bytes_per_record": per_record,
        },
        "untiered_plain": {
            "todays_work_s": plain.today_s,
            "scope_s": plain.seconds,
            "down_bytes": plain.down_bytes,
            "up_bytes": plain.up_bytes,
            "bytes_per_record": plain_per_record,
        },
        "push_gzip": {"s": push_gz[0], "down_bytes": push_gz[1], "up_bytes": push_gz[2]},
        "push_plain": {"s": push_plain[0], "down_bytes": push_plain[1], "up_bytes": push_plain[2]},
        "connections": link.connections,
    }
    return rows, extra

"""Concurrent load: N simulated phones, each pushing a batch and pulling what changed in a
loop, against Fieldline under gunicorn in its own process, over loopback.

The client is asyncio with plain HTTP/1.1 over sockets (one connection per request, as a
phone on a flaky network would), so the client side costs little CPU next to the server.
"""

import asyncio
import json
import statistics
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.bench.common import LiveServer, Row, make_world

BATCH = 20
RECORDS_PER_PHONE = 40


@dataclass
class Phone:
    token: str
    surveys: list[uuid.UUID]
    versions: dict[str, int] = field(default_factory=dict)
    cursor: str | None = None

    def push_body(self, turn: int, *, client_ts: str) -> dict[str, Any]:
        """A push of BATCH survey edits, the next BATCH of this phone's surveys in turn."""
        start = turn * BATCH % len(self.surveys)
        mutations = [
            {
                "mutation_id": str(uuid.uuid4()),
                "entity": "survey",
                "op": "update",
                "record_id": str(pk),
                "base_version": self.versions.get(str(pk), 1),
                "client_ts": client_ts,
                "fields": {"notes": f"turn {turn}", "footfall_weekday": 100 + turn % 300},
            }
            for pk in self.surveys[start : start + BATCH]
        ]
        return {"device_id": f"phone-{id(self)}", "mutations": mutations}

    def note_versions(self, results: list[dict[str, Any]]) -> None:
        """Remember the versions a push answered, as the next edits' base."""
        for result in results:
            record = result.get("record") or {}
            if "id" in record and "version" in record:
                self.versions[record["id"]] = record["version"]


async def exchange(
    host: str, port: int, method: str, path: str, token: str, body: Any = None
) -> tuple[int, bytes, bytes]:
    """One request on a fresh connection: (status, raw headers, body)."""
    payload = json.dumps(body).encode() if body is not None else b""
    reader, writer = await asyncio.open_connection(host, port)
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Token {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        "Connection: close\r\n\r\n"
    )
    writer.write(head.encode() + payload)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    headers, _, content = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), headers, content


async def request(
    host: str, port: int, method: str, path: str, token: str, body: Any = None
) -> tuple[int, bytes]:
    status, _headers, content = await exchange(host, port, method, path, token, body)
    return status, content


async def phone_loop(
    phone: Phone, host: str, port: int, until: float, latencies: list[float], counts: dict
) -> None:
    turn = 0
    while time.monotonic() < until:
        body = phone.push_body(turn, client_ts="2026-11-30T08:00:00Z")
        began = time.perf_counter()
        status, content = await request(
            host,
            port,
            "POST",
            "/api/sync/push",
            phone.token,
            body,
        )
        latencies.append(time.perf_counter() - began)
        assert status == 200, (status, content[:300])
        results = json.loads(content)["results"]
        assert all(result["status"] != "rejected" for result in results), results
        phone.note_versions(results)
        counts["mutations"] += len(body["mutations"])
        began = time.perf_counter()
        path = "/api/sync/pull?limit=500" + (f"&cursor={phone.cursor}" if phone.cursor else "")
        status, content = await request(host, port, "GET", path, phone.token)
        latencies.append(time.perf_counter() - began)
        assert status == 200, (status, content[:300])
        answer = json.loads(content)
        phone.cursor = answer["cursor"]
        counts["pulled"] += len(answer["changes"])
        counts["requests"] += 2
        turn += 1


async def run_level(phones: list[Phone], url: str, seconds: float) -> dict[str, Any]:
    parts = urlsplit(url)
    latencies: list[float] = []
    counts = {"mutations": 0, "pulled": 0, "requests": 0}
    until = time.monotonic() + seconds
    started = time.perf_counter()
    await asyncio.gather(
        *(phone_loop(p, parts.hostname, parts.port, until, latencies, counts) for p in phones)
    )
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "phones": len(phones),
        "seconds": elapsed,
        "requests_per_s": counts["requests"] / elapsed,
        "mutations_per_s": counts["mutations"] / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        **counts,
    }


def bench_load(levels: list[int], seconds: float) -> tuple[list[Row], list[dict[str, Any]]]:
    """Throughput and latency as the number of phones grows; saturation is the first level
    whose throughput is within 10 % of the best while its p95 latency keeps growing."""
    phones = []
    for _ in range(max(levels)):
        world = make_world(stores=RECORDS_PER_PHONE, surveys_per_store=1, region_code="load")
        phones.append(Phone(token=world["token"], surveys=world["surveys"]))
    server = LiveServer(workers=2, threads=4)
    results = []
    try:
        asyncio.run(run_level(phones[:1], server.url, 1.0))  # warm both workers up
        for level in levels:
            before = server.reset_peaks()
            result = asyncio.run(run_level(phones[:level], server.url, seconds))
            result["server_peak_mb"], result["server_growth_mb"] = server.peak_growth(before)
            results.append(result)
    finally:
        server.stop()
    best = max(r["requests_per_s"] for r in results)
    saturation = next(r["phones"] for r in results if r["requests_per_s"] >= 0.9 * best)
    rows = []
    for r in results:
        row = Row(
            "concurrent load (push+pull)",
            f"{r['phones']} phones: p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms",
            r["requests"],
            r["seconds"],
            r["requests_per_s"],
            r["server_peak_mb"],
            growth_mb=r["server_growth_mb"],
            memory="server",
        )
        row.ratio = f"{r['mutations_per_s']:,.0f} mutations/s"
        if r["phones"] == saturation:
            row.ratio += f"; saturates here ({r['requests_per_s'] / best:.0%} of best)"
        rows.append(row)
    return rows, results

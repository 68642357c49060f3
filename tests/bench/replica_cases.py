"""Past one machine: concurrent phones against one app server on the primary alone, and
against two app servers that read from a hot standby (through PgBouncer in transaction
mode when it is installed), on a temporary PostgreSQL primary and standby made for the
case (tests/replicas/cluster.py). Each phone pushes a batch and pulls what changed, in a
loop, alternating between the app servers; the table gives throughput, p50/p95 and the
share of pulls the replica answered.

On this machine everything shares the same cores, so the second app server and the
replica add CPU to share, not CPU: the figures show what the replica takes off the
primary (its share of reads, the primary's CPU per request), not the gain of real extra
machines.
"""

import asyncio
import json
import os
import statistics
import time
from typing import Any
from urllib.parse import urlsplit

from tests.bench.common import Row, make_world
from tests.bench.load import RECORDS_PER_PHONE, Phone, exchange

READ_FROM = b"x-fieldline-read-from:"


async def request(
    url: str, method: str, path: str, token: str, body: Any = None
) -> tuple[int, bytes, str]:
    """(status, body, the database that answered per X-Fieldline-Read-From, or "")."""
    parts = urlsplit(url)
    status, headers, content = await exchange(parts.hostname, parts.port, method, path, token, body)
    served = ""
    for line in headers.split(b"\r\n"):
        if line.lower().startswith(READ_FROM):
            served = line.split(b":", 1)[1].strip().decode()
    return status, content, served


async def phone_loop(
    phone: Phone, urls: list[str], until: float, latencies: list[float], counts: dict
) -> None:
    turn = 0
    while time.monotonic() < until:
        body = phone.push_body(turn, client_ts="2026-12-04T08:00:00Z")
        began = time.perf_counter()
        status, content, _ = await request(
            urls[turn % len(urls)],
            "POST",
            "/api/sync/push",
            phone.token,
            body,
        )
        latencies.append(time.perf_counter() - began)
        assert status == 200, (status, content[:300])
        phone.note_versions(json.loads(content)["results"])
        # Two pulls per push, as phones poll more than they write; the first from the
        # other app server than the push.
        for pull in range(2):
            path = "/api/sync/pull?limit=500" + (f"&cursor={phone.cursor}" if phone.cursor else "")
            began = time.perf_counter()
            status, content, served = await request(
                urls[(turn + 1 + pull) % len(urls)], "GET", path, phone.token
            )
            latencies.append(time.perf_counter() - began)
            assert status == 200, (status, content[:300])
            phone.cursor = json.loads(content)["cursor"]
            counts["pulls"] += 1
            counts["replica_pulls"] += served.startswith("replica")
        counts["mutations"] += len(body["mutations"])
        counts["requests"] += 3
        turn += 1


async def run_level(phones: list[Phone], urls: list[str], seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    counts = {"mutations": 0, "requests": 0, "pulls": 0, "replica_pulls": 0}
    until = time.monotonic() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(phone_loop(p, urls, until, latencies, counts) for p in phones))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "phones": len(phones),
        "seconds": elapsed,
        "requests_per_s": counts["requests"] / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[max(int(len(latencies) * 0.95) - 1, 0)] * 1000,
        "replica_share": counts["replica_pulls"] / max(counts["pulls"], 1),
        **counts,
    }


def primary_cpu_s(cluster) -> float:
    """CPU seconds the primary's server processes have used so far (all its backends)."""
    from pathlib import Path

    pid = int((cluster.primary.data / "postmaster.pid").read_text().split()[0])
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for child in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, and the CPU of children that have exited (cutime, cstime)
        total += sum(int(fields[i]) for i in (11, 12, 13, 14)) / tick
    return total


def _children(pid: int) -> list[int]:
    from pathlib import Path

    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def bench_replicas(phones_count: int, seconds: float) -> tuple[list[Row], dict[str, Any]]:
    from django.core.management import call_command
    from django.db import connections
    from django.db.utils import load_backend

    from tests.replicas.cluster import AppServer, Cluster, missing, pgbouncer_missing

    reason = missing()
    if reason:
        if os.environ.get("CI"):
            raise RuntimeError(f"the replica bench cannot run under CI: {reason}")
        print(f"  replicas: skipped ({reason})")
        return [], {"skipped": reason}
    source = connections["default"]
    if source.vendor != "postgresql":
        print("  replicas: skipped (needs PostgreSQL)")
        return [], {"skipped": "needs PostgreSQL"}
    s = source.settings_dict
    host, port = s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    source_url = f"postgresql://{s['USER'] or 'postgres'}@{host}:{port}/{s['NAME']}"
    cluster = Cluster()
    servers: list[AppServer] = []
    results: dict[str, Any] = {}
    try:
        cluster.start_primary()
        cluster.load_schema_from(source_url)
        settings_dict = {
            **s,
            "HOST": "127.0.0.1",
            "PORT": cluster.primary.port,
            "NAME": "fieldline",
            "USER": "postgres",
            "PASSWORD": "",
        }
        connections["default"] = load_backend(s["ENGINE"]).DatabaseWrapper(settings_dict, "default")
        try:
            call_command("createcachetable", "fieldline_cache", verbosity=0)
            phones = []
            for _ in range(phones_count):
                world = make_world(stores=RECORDS_PER_PHONE, region_code="replica")
                phones.append(Phone(token=world["token"], surveys=world["surveys"]))
        finally:
            connections["default"].close()
            connections["default"] = source
        cluster.start_standby()
        pooled = pgbouncer_missing() is None
        if pooled:
            cluster.start_bouncer()
        base = {"CACHE_URL": "dbcache://fieldline_cache", "CONN_MAX_AGE": "60"}

        def measure(label: str, urls: list[str]) -> dict[str, Any]:
            asyncio.run(run_level(phones[:2], urls, 1.0))  # warm up
            cpu = primary_cpu_s(cluster)
            result = asyncio.run(run_level(phones, urls, seconds))
            result["primary_cpu_ms_per_request"] = (
                (primary_cpu_s(cluster) - cpu) * 1000 / max(result["requests"], 1)
            )
            results[label] = result
            return result

        one = AppServer(database_url=cluster.primary.url(), extra_env=base).start()
        servers.append(one)
        measure("one", [one.url])
        one.stop()
        for _ in range(2):
            server = AppServer(
                database_url=cluster.bouncer_url() if pooled else cluster.primary.url(),
                extra_env={
                    **base,
                    "DATABASE_REPLICA_URLS": cluster.standby.url(),
                    "DATABASE_POOLED": "true" if pooled else "false",
                },
            ).start()
            servers.append(server)
        cluster.wait_replayed()
        measure("two", [server.url for server in servers[1:]])
    finally:
        for server in servers:
            server.stop()
        cluster.stop()
    one, two = results["one"], results["two"]
    rows = []
    for label, r, method in (
        ("one", one, "1 app server, primary only"),
        ("two", two, f"2 app servers + replica{' via pgbouncer' if pooled else ''}"),
    ):
        row = Row(
            "replicas (push + 2 pulls)",
            f"{method}: p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms",
            r["requests"],
            r["seconds"],
            r["requests_per_s"],
            0.0,
            memory="server",
        )
        row.ratio = (
            f"replica answered {r['replica_share']:.0%} of pulls; primary CPU "
            f"{r['primary_cpu_ms_per_request']:.1f} ms/request"
        )
        if label == "two":
            row.ratio += f"; {r['requests_per_s'] / one['requests_per_s']:.2f}x throughput"
        rows.append(row)
    results["pooled"] = pooled
    results["phones"] = phones_count
    return rows, results

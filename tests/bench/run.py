"""`make bench`: Fieldline against the database's own limit and the naive Django way,
measured in the same run on the same machine.

    python -m tests.bench.run [--size small|medium|full] [--only push,load] [--json FILE]

Each case prints time, throughput, peak memory (the peak RSS of the measured process, reset
before each case, and its growth over the case's start) and the ratio to its baselines.
PostgreSQL is used when reachable (DATABASE_URL or the local default); otherwise SQLite,
and the table says so.
"""

import argparse
import json
import os
import secrets
import sys
import time
from dataclasses import asdict
from pathlib import Path

from tests.bench.common import LiveServer, Row
from tests.bench.setup_db import ROOT, configure

SIZES = {
    # CI: the whole bench in about three minutes on two cores.
    "small": {
        "push": 2_000,
        "pull": 20_000,
        "incremental": (20_000, 100_000),
        "dispatch": 5_000,
        "completeness": 20_000,
        "nearest": 100_000,
        "export": 10_000,
        "orders": 100_000,
        "load": ([1, 2, 4, 8, 16], 3.0),
        "mobile": 3_000,
        # Phones, and seconds per configuration (one app server; two with a replica).
        "replicas": (8, 4.0),
        # Stores and reps of a region's four-week visit plan.
        "plan": (5_000, 50),
    },
    "medium": {
        "push": 10_000,
        "pull": 100_000,
        "incremental": (100_000, 300_000),
        "dispatch": 20_000,
        "completeness": 200_000,
        "nearest": 1_000_000,
        "export": 100_000,
        "orders": 1_000_000,
        "load": ([1, 2, 4, 8, 16, 32], 5.0),
        "mobile": 30_000,
        "replicas": (16, 8.0),
        "plan": (20_000, 200),
    },
    # The sizes of the performance targets.
    "full": {
        "push": 20_000,
        "pull": 100_000,
        "incremental": (100_000, 1_000_000),
        "dispatch": 50_000,
        "completeness": 1_000_000,
        "nearest": 1_000_000,
        "export": 100_000,
        "orders": 10_000_000,
        "load": ([1, 2, 4, 8, 16, 32, 64], 10.0),
        # A rep's scope over a phone's 3G link.
        "mobile": 30_000,
        "replicas": (32, 10.0),
        "plan": (50_000, 500),
    },
}
# Orders first: the RFM recompute grades every store in the database, so it runs before
# the other cases add theirs.
CASES = (
    "orders",
    "push",
    "pull",
    "incremental",
    "dispatch",
    "completeness",
    "nearest",
    "export",
    "load",
    "mobile",
    "replicas",
    "plan",
)


def run_case(
    name: str, sizes: dict, vendor: str, server: LiveServer | None, extra: dict
) -> list[Row]:
    from tests.bench import (
        domain_cases,
        load,
        mobile_link,
        plan_cases,
        replica_cases,
        sync_cases,
    )

    size = sizes[name]
    if name == "mobile":
        rows, extra["mobile"] = mobile_link.bench_mobile_link(server, size)
        return rows
    if name == "replicas":
        phones, seconds = size
        rows, extra["replicas"] = replica_cases.bench_replicas(phones, seconds)
        return rows
    if name == "push":
        return sync_cases.bench_push(server, size, vendor)
    if name == "pull":
        return sync_cases.bench_pull_first(server, size, vendor)
    if name == "incremental":
        return sync_cases.bench_pull_incremental(server, size)
    if name == "dispatch":
        return domain_cases.bench_dispatch(size, vendor)
    if name == "completeness":
        return domain_cases.bench_completeness(size, vendor)
    if name == "nearest":
        return domain_cases.bench_nearest(size)
    if name == "export":
        return domain_cases.bench_export(size, vendor)
    if name == "orders":
        return domain_cases.bench_orders(size, vendor)
    if name == "plan":
        return plan_cases.bench_plan(size, vendor)
    levels, seconds = size
    rows, extra["load"] = load.bench_load(levels, seconds)
    return rows


def print_table(rows: list[Row], header: str) -> None:
    if header:
        print(header)
    print(
        f"{'case':34} {'method':50} {'size':>10} {'time s':>9} {'per s':>10} "
        f"{'peak MB':>8} {'+MB':>5}  ratio"
    )
    for row in rows:
        where = "S" if row.memory == "server" else " "
        verdict = {True: "  [target met]", False: "  [target NOT met]", None: ""}[row.met]
        print(
            f"{row.case[:34]:34} {row.method[:50]:50} {row.size:>10,} {row.seconds:>9.4g} "
            f"{row.per_second:>10,.0f} {row.peak_mb:>7.0f}{where} {row.growth_mb:>5.0f}  "
            f"{row.ratio}{verdict}"
        )
    print(
        "peak MB: peak RSS of the bench process, or of the server worker (S);"
        " +MB: its growth during the case",
        flush=True,
    )


def markdown(path: str) -> str:
    """The table of a results file as Markdown, for the README."""
    results = json.loads(Path(path).read_text())
    lines = [
        "| case | method | size | time s | per s | peak MB (+growth) | ratio | target |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for row in results["rows"]:
        where = " server" if row["memory"] == "server" else ""
        verdict = {True: "met", False: "**not met**", None: ""}[row["met"]]
        target = f"{row['target']}: {verdict}" if row["target"] else ""
        lines.append(
            f"| {row['case']} | {row['method']} | {row['size']:,} | {row['seconds']:.3g} "
            f"| {row['per_second']:,.0f} | {row['peak_mb']:.0f} (+{row['growth_mb']:.0f}){where} "
            f"| {row['ratio']} | {target} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--only", default="", help="comma-separated cases: " + ",".join(CASES))
    parser.add_argument("--json", default=str(ROOT / "var" / "bench.json"))
    parser.add_argument("--markdown", metavar="FILE", help="print a results file as Markdown")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(args.markdown))
        return 0
    chosen = [c.strip() for c in args.only.split(",") if c.strip()] or list(CASES)
    unknown = set(chosen) - set(CASES)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    # Production settings, as deployed: no per-query debug bookkeeping.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("JOBS_INLINE", "true")  # no broker: the jobs run in the process
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    vendor = configure()
    sizes = SIZES[args.size]
    # Sync cases talk to one gunicorn worker with one thread: requests one at a time, the
    # server's CPU and memory apart from the client's.
    server = (
        LiveServer(workers=1, threads=1)
        if {"push", "pull", "incremental", "mobile"} & set(chosen)
        else None
    )
    rows: list[Row] = []
    extra: dict = {}
    started = time.perf_counter()
    load_before = os.getloadavg()

    def report(*, final: bool) -> None:
        """The table so far, and the results file: a long run that is stopped keeps the
        cases it finished."""
        header = f"Fieldline bench — size {args.size}, database {vendor}"
        if vendor != "postgresql":
            header += " (FALLBACK: figures are not comparable with PostgreSQL)"
        load = os.getloadavg()
        header += (
            f", {time.perf_counter() - started:.0f} s, {os.cpu_count()} cores, load average at"
            f" the start {load_before[0]:.1f}, now {load[0]:.1f}"
        )
        if max(load_before[0], load[0]) > (os.cpu_count() or 1):
            header += (
                " (above the core count, other work shared the machine: absolute figures"
                " drop, and latency-bound baselines more)"
            )
        if final:
            print_table(rows, header)
        Path(args.json).parent.mkdir(exist_ok=True)
        Path(args.json).write_text(
            json.dumps(
                {
                    "size": args.size,
                    "database": vendor,
                    "complete": final,
                    "cores": os.cpu_count(),
                    "load_average": {"start": load_before, "end": load},
                    "rows": [asdict(r) for r in rows],
                    **extra,
                },
                indent=2,
            )
        )

    try:
        for name in CASES:
            if name in chosen:
                case_started = time.perf_counter()
                case_rows = run_case(name, sizes, vendor, server, extra)
                rows.extend(case_rows)
                print(f"  {name}: {time.perf_counter() - case_started:.0f} s", flush=True)
                print_table(case_rows, "")
                report(final=False)
    finally:
        if server is not None:
            server.stop()
    report(final=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

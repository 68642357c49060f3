"""`make bench`: Fieldline's sync against the database's own limit and the naive Django way,
measured in the same run on the same machine.

    python -m tests.bench.run [--size small|full] [--json var/bench.json]

Each case prints time, throughput, peak memory (the process's peak RSS, reset before each
case) and the ratio to its baselines. PostgreSQL is used when reachable (DATABASE_URL or
the local default); otherwise SQLite, and the table says so.
"""

import argparse
import contextlib
import json
import statistics
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.bench.setup_db import ROOT, configure

SIZES = {
    "small": {"push": 2_000, "pull": 20_000, "incremental": (20_000, 100_000)},
    "full": {"push": 20_000, "pull": 100_000, "incremental": (100_000, 1_000_000)},
}


@dataclass
class Row:
    case: str
    method: str
    size: int
    seconds: float
    per_second: float
    peak_mb: float
    ratio: str = ""


def reset_peak_rss() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(case: str, method: str, size: int, work: Callable[[], Any]) -> Row:
    reset_peak_rss()
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    return Row(case, method, size, seconds, size / seconds, peak_rss_mb())


class Server:
    """Fieldline under a threaded WSGI server on loopback: real HTTP, real sockets."""

    def __init__(self) -> None:
        from django.core.handlers.wsgi import WSGIHandler
        from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

        class QuietHandler(WSGIRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=True)
        self.httpd.set_app(WSGIHandler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def call(self, method: str, path: str, token: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=300) as response:
            return json.loads(response.read())


def make_world(stores: int, surveys_per_store: int = 1) -> dict[str, Any]:
    from knox.models import AuthToken

    from accounts.models import Region, Role, User
    from sync.bulk import bulk_create_records

    region, _ = Region.objects.get_or_create(code="north", defaults={"name": "North"})
    rep = User.objects.create_user(
        username=f"bench-rep-{uuid.uuid4().hex[:6]}", password="x", role=Role.REP, region=region
    )
    _, token = AuthToken.objects.create(user=rep)
    store_ids = [uuid.uuid4() for _ in range(stores)]
    bulk_create_records(
        entity="store",
        rows=(
            {
                "id": pk,
                "name": f"Kiosk {n}",
                "lat": 53.55,
                "lon": 9.99,
                "region": "north",
                "owner": rep.pk,
                "trade_area_type": "office",
                "tags": ["bench"],
            }
            for n, pk in enumerate(store_ids)
        ),
    )
    survey_ids = [uuid.uuid4() for _ in range(stores * surveys_per_store)]
    bulk_create_records(
        entity="survey",
        rows=(
            {
                "id": pk,
                "store": store_ids[n % stores],
                "footfall_weekday": 100 + n % 400,
                "equipment": ["microwave"],
                "notes": "initial",
            }
            for n, pk in enumerate(survey_ids)
        ),
    )
    return {"rep": rep, "token": token, "stores": store_ids, "surveys": survey_ids}


# --- push ------------------------------------------------------------------------------


def bench_push(server: Server, size: int, vendor: str) -> list[Row]:
    world = make_world(stores=size, surveys_per_store=1)
    surveys = world["surveys"]

    def fieldline() -> None:
        for start in range(0, size, 500):
            body = {
                "device_id": "bench-phone",
                "mutations": [
                    {
                        "mutation_id": str(uuid.uuid4()),
                        "entity": "survey",
                        "op": "update",
                        "record_id": str(pk),
                        "base_version": 1,
                        "client_ts": "2026-11-30T08:00:00Z",
                        "fields": {"notes": f"push {start}", "footfall_weekday": 321},
                    }
                    for pk in surveys[start : start + 500]
                ],
            }
            answer = server.call("POST", "/api/sync/push", world["token"], body)
            assert all(r["status"] != "rejected" for r in answer["results"]), answer["results"][0]

    def naive_django() -> None:
        from django.db import transaction
        from django.utils import timezone

        from surveys.models import SiteSurvey
        from sync.models import ChangeLog

        for pk in surveys:
            with transaction.atomic():
                survey = SiteSurvey.objects.select_for_update().get(pk=pk)
                survey.notes = "naive"
                survey.footfall_weekday = 123
                survey.version += 1
                survey.updated_at = timezone.now()
                survey.save()
                ChangeLog.objects.create(
                    seq=0,
                    txid=0,
                    entity="survey",
                    record_id=pk,
                    version=survey.version,
                    op="update",
                    new_values={"notes": "naive"},
                    source="push",
                    at=survey.updated_at,
                )

    def raw_sql() -> None:
        raw_push(surveys, vendor)

    rows = [
        measure("push (HTTP, full engine)", "fieldline", size, fieldline),
        measure("push", "naive Django ORM", size, naive_django),
        measure("push", "raw SQL, set-based", size, raw_sql),
    ]
    fl, naive, raw = rows
    fl.ratio = (
        f"{fl.per_second / naive.per_second:.1f}x naive; {fl.seconds / raw.seconds:.1f}x raw time"
    )
    return rows


def raw_push(ids: list[uuid.UUID], vendor: str) -> None:
    """The database's own limit for the same writes: one statement per 500 mutations that
    bumps versions and appends changelog rows, the batch sent as one JSON document."""
    from django.db import connection, transaction

    for start in range(0, len(ids), 500):
        batch = [
            {"id": str(pk), "notes": "raw", "mid": str(uuid.uuid4())}
            for pk in ids[start : start + 500]
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            if vendor == "postgresql":
                cursor.execute(
                    """
                    WITH input AS (
                        SELECT * FROM json_to_recordset(%s::json)
                            AS j(id uuid, notes text, mid uuid)
                    ), updated AS (
                        UPDATE surveys_sitesurvey s SET notes = input.notes,
                               version = s.version + 1, updated_at = now()
                        FROM input WHERE s.id = input.id
                        RETURNING s.id, s.version, input.mid
                    )
                    INSERT INTO sync_changelog
                        (seq, txid, entity, record_id, version, op, new_values, old_values,
                         device_id, mutation_id, source, at)
                    SELECT 0, 0, 'survey', id, version, 'update', '{}'::jsonb, '{}'::jsonb,
                           '', mid, 'push', now() FROM updated
                    """,
                    [json.dumps(batch)],
                )
            else:
                cursor.executemany(
                    "UPDATE surveys_sitesurvey SET notes = %s, version = version + 1 WHERE id = %s",
                    [(row["notes"], uuid.UUID(row["id"]).hex) for row in batch],
                )
                cursor.executemany(
                    "INSERT INTO sync_changelog (seq, txid, entity, record_id, version, op, "
                    "new_values, old_values, device_id, mutation_id, source, at) VALUES "
                    "(0, 0, 'survey', %s, 0, 'update', '{}', '{}', '', %s, 'push', "
                    "CURRENT_TIMESTAMP)",
                    [(uuid.UUID(row["id"]).hex, uuid.UUID(row["mid"]).hex) for row in batch],
                )


# --- pull ------------------------------------------------------------------------------


def pull_all(server: Server, token: str, cursor: str | None = None) -> tuple[int, str]:
    received = 0
    while True:
        path = "/api/sync/pull?limit=5000" + (f"&cursor={cursor}" if cursor else "")
        body = server.call("GET", path, token)
        received += len(body["changes"])
        cursor = body["cursor"]
        if not body["has_more"]:
            return received, cursor


def bench_pull_first(server: Server, size: int, vendor: str) -> list[Row]:
    world = make_world(stores=size // 2, surveys_per_store=1)
    records = len(world["stores"]) + len(world["surveys"])

    def fieldline() -> None:
        received, _ = pull_all(server, world["token"])
        assert received == records, (received, records)

    def drf_serializers() -> None:
        from rest_framework import serializers
        from rest_framework.renderers import JSONRenderer

        from stores.models import Store
        from surveys.models import SiteSurvey

        for model in (Store, SiteSurvey):

            class Naive(serializers.ModelSerializer):
                class Meta:
                    fields = "__all__"

            Naive.Meta.model = model
            last = None
            queryset = model.objects.filter(scope_owner=world["rep"]).order_by("pk")
            while True:
                page = list((queryset.filter(pk__gt=last) if last else queryset)[:5000])
                if not page:
                    break
                JSONRenderer().render(Naive(page, many=True).data)
                last = page[-1].pk

    def psycopg_orjson() -> None:
        import orjson
        from django.db import connection

        from stores.models import Store
        from surveys.models import SiteSurvey

        for model in (Store, SiteSurvey):
            table = model._meta.db_table
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT * FROM {table} WHERE scope_owner_id = %s", [world["rep"].pk]
                )
                names = [col[0] for col in cursor.description]
                while rows := cursor.fetchmany(5000):
                    orjson.dumps([dict(zip(names, row, strict=True)) for row in rows])

    rows = [
        measure("first pull (HTTP)", "fieldline", records, fieldline),
        measure("first pull", "DRF ModelSerializer", records, drf_serializers),
        measure(
            "first pull",
            f"{'psycopg' if vendor == 'postgresql' else 'sqlite3'} + orjson",
            records,
            psycopg_orjson,
        ),
    ]
    fl, drf, raw = rows
    fl.ratio = (
        f"{fl.per_second / drf.per_second:.1f}x DRF; {fl.seconds / raw.seconds:.1f}x raw time"
    )
    return rows


def bench_pull_incremental(server: Server, totals: tuple[int, int]) -> list[Row]:
    """1,000 changes among N records: the pull's time must not depend on N."""
    rows = []
    for total in totals:
        world = make_world(stores=total, surveys_per_store=0)
        _, cursor = pull_all(server, world["token"])
        changed = world["stores"][:: max(1, total // 1000)][:1000]
        from sync.services import Mutation, apply_mutations

        apply_mutations(
            actor=world["rep"],
            mutations=[
                Mutation(
                    entity="store",
                    op="update",
                    record_id=pk,
                    base_version=1,
                    fields={"opening_hours": {"mon": [["07:00", "20:00"]]}},
                    mutation_id=uuid.uuid4(),
                )
                for pk in changed
            ],
            device_id="bench",
        )
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            received, _ = pull_all(server, world["token"], cursor)
            timings.append(time.perf_counter() - started)
            assert received == len(changed), received
        seconds = statistics.median(timings)
        rows.append(
            Row(
                "incremental pull, 1,000 changes",
                f"among {total:,}",
                len(changed),
                seconds,
                len(changed) / seconds,
                peak_rss_mb(),
            )
        )
    rows[-1].ratio = f"{rows[-1].seconds / rows[0].seconds:.2f}x the time at {totals[0]:,}"
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--json", default=str(ROOT / "var" / "bench.json"))
    args = parser.parse_args()
    vendor = configure()
    sizes = SIZES[args.size]
    server = Server()
    rows: list[Row] = []
    rows += bench_push(server, sizes["push"], vendor)
    rows += bench_pull_first(server, sizes["pull"], vendor)
    rows += bench_pull_incremental(server, sizes["incremental"])
    header = f"Fieldline bench — size {args.size}, database {vendor}"
    if vendor != "postgresql":
        header += " (FALLBACK: figures are not comparable with PostgreSQL)"
    print(header)
    print(
        f"{'case':34} {'method':26} {'size':>9} {'time s':>8} {'per s':>10} {'peak MB':>8}  ratio"
    )
    for row in rows:
        print(
            f"{row.case:34} {row.method:26} {row.size:>9,} {row.seconds:>8.2f} "
            f"{row.per_second:>10,.0f} {row.peak_mb:>8.0f}  {row.ratio}"
        )
    Path(args.json).parent.mkdir(exist_ok=True)
    Path(args.json).write_text(
        json.dumps(
            {"size": args.size, "database": vendor, "rows": [asdict(r) for r in rows]}, indent=2
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

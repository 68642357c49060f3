"""The domain cases: dispatch, completeness report, nearest stores, streamed export, orders
import + RFM. Each against a baseline that does the same work the naive or the raw way."""

import csv
import datetime as dt
import random
import time
import uuid
from pathlib import Path
from typing import Any

from tests.bench.common import (
    NAIVE_SAMPLE,
    LiveServer,
    Row,
    http_call,
    http_stream,
    make_user,
    make_world,
    measure,
    naive_task_create,
    peak_rss_mb,
    sample_note,
)
from tests.bench.setup_db import ROOT

# --- dispatch ----------------------------------------------------------------------------


def bench_dispatch(size: int, vendor: str) -> list[Row]:
    """One task per store of a selection: the service vs per-object create vs INSERT..SELECT."""
    from django.db import connection, transaction

    from stores.models import Store
    from surveys.selectors import StoreSelection
    from tasks.services import TaskTemplate, dispatch_tasks

    naive_size = min(size, NAIVE_SAMPLE)
    world = make_world(stores=size, surveys_per_store=0, region_code="dispatch")
    hq, _ = make_user("hq", "dispatch")
    rep = world["rep"]

    def fieldline() -> None:
        dispatch = dispatch_tasks(
            actor=hq,
            selection=StoreSelection(owners=(rep.pk,)),
            selection_wire={"owners": [rep.pk]},
            template=TaskTemplate(type="visit", title="Bench visit"),
        )
        assert dispatch.task_count == size, dispatch.task_count

    def naive_django() -> None:
        stores = Store.objects.filter(owner=rep, deleted=False).values_list(
            "pk", "owner_id", "region_id"
        )
        for store_id, owner_id, region_id in stores[:naive_size].iterator(chunk_size=2000):
            naive_task_create(
                store_id=store_id,
                assignee_id=owner_id,
                region_id=region_id,
                created_by=hq,
                title="Bench visit",
                new_values={"type": "visit", "title": "Bench visit"},
            )

    def raw_sql() -> None:
        new_id = "gen_random_uuid()" if vendor == "postgresql" else "lower(hex(randomblob(16)))"
        now = "now()" if vendor == "postgresql" else "CURRENT_TIMESTAMP"
        empty = "'{}'::jsonb" if vendor == "postgresql" else "'{}'"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO tasks_task (id, version, created_at, updated_at, deleted,
                    field_stamps, sync_txid, sync_seq, scope_owner_id, scope_region_id,
                    store_id, assignee_id, created_by_id, type, title, status, priority,
                    notes, dispatch_id)
                SELECT {new_id}, 1, {now}, {now}, false, {empty}, 0, 0, owner_id, region_id,
                    id, owner_id, %s, 'visit', 'Bench raw', 'open', 2, '', NULL
                FROM stores_store WHERE owner_id = %s AND NOT deleted
                """,
                [hq.pk, rep.pk],
            )
            cursor.execute(
                f"""
                INSERT INTO sync_changelog (seq, txid, entity, record_id, version, op,
                    new_values, old_values, device_id, source, at)
                SELECT 0, 0, 'task', id, 1, 'create', {empty}, {empty}, '', 'dispatch', {now}
                FROM tasks_task WHERE title = 'Bench raw'
                """
            )

    rows = [
        measure("dispatch tasks", "fieldline dispatch_tasks", size, fieldline),
        measure(
            "dispatch tasks",
            f"naive per-object create{sample_note(naive_size, size)}",
            naive_size,
            naive_django,
        ),
        measure("dispatch tasks", "raw INSERT..SELECT", size, raw_sql),
    ]
    fl, naive, raw = rows
    fl.ratio = (
        f"{fl.per_second / naive.per_second:.1f}x naive; {fl.seconds / raw.seconds:.1f}x raw time"
    )
    return rows


# --- completeness report -----------------------------------------------------------------

REQUIRED = ("footfall_weekday", "equipment", "notes")


def completeness_sql(vendor: str, since: dt.datetime) -> tuple[str, list[Any]]:
    """The same figures by region as `completeness_report` for the one bench template
    (three required fields and the GPS fix), written by hand as one statement."""
    empty_list = "'[]'::jsonb" if vendor == "postgresql" else "'[]'"
    present = " + ".join(
        [
            "CASE WHEN sv.footfall_weekday IS NOT NULL THEN 1 ELSE 0 END",
            f"CASE WHEN sv.equipment <> {empty_list} THEN 1 ELSE 0 END",
            "CASE WHEN sv.notes <> '' THEN 1 ELSE 0 END",
            "CASE WHEN sv.lat IS NOT NULL AND sv.lon IS NOT NULL THEN 1 ELSE 0 END",
        ]
    )
    required = len(REQUIRED) + 1
    live = "SELECT 1 FROM surveys_sitesurvey x WHERE x.store_id = st.id AND NOT x.deleted"
    sql = f"""
        SELECT grp, sum(n), max(average), sum(complete), sum(without), sum(stale) FROM (
            SELECT grp, count(*) AS n, avg(present * 1.0 / {required}) AS average,
                   sum(CASE WHEN present = {required} THEN 1 ELSE 0 END) AS complete,
                   0 AS without, 0 AS stale
            FROM (SELECT st.region_id AS grp, {present} AS present
                  FROM surveys_sitesurvey sv JOIN stores_store st ON st.id = sv.store_id
                  WHERE NOT sv.deleted) scored
            GROUP BY grp
            UNION ALL
            SELECT st.region_id, 0, NULL, 0,
                   sum(CASE WHEN NOT EXISTS ({live}) THEN 1 ELSE 0 END),
                   sum(CASE WHEN EXISTS ({live}) AND NOT EXISTS ({live} AND x.captured_at >= %s)
                       THEN 1 ELSE 0 END)
            FROM stores_store st WHERE NOT st.deleted GROUP BY st.region_id
        ) parts GROUP BY grp ORDER BY grp
    """
    return sql, [since]


def bench_completeness(size: int, vendor: str) -> list[Row]:
    from django.db import connection
    from django.utils import timezone

    from reports.selectors import GroupBy, completeness_report
    from surveys.selectors import stale_before
    from surveys.services import survey_template_create

    hq, _ = make_user("hq", "report")
    survey_template_create(
        actor=hq,
        trade_area_type="office",
        required_fields=REQUIRED,
        conditional_fields=[],
        min_photos={},
        gps_within_geofence=False,
    )
    started = time.perf_counter()
    make_world(stores=size // 2, surveys_per_store=2, region_code="report")
    make_world(stores=max(1, size // 20), surveys_per_store=0, region_code="report-empty")
    print(f"  completeness data set: {time.perf_counter() - started:.0f} s", flush=True)
    answers: dict[str, Any] = {}

    def fieldline() -> None:
        answers["fieldline"] = completeness_report(actor=hq, group_by=GroupBy.REGION)

    def raw_sql() -> None:
        sql, params = completeness_sql(vendor, stale_before(now=timezone.now()))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            answers["raw"] = cursor.fetchall()

    rows = [
        measure("completeness report", "fieldline selectors", size, fieldline),
        measure("completeness report", "hand-written single SQL", size, raw_sql),
    ]
    ours = {r.group: (r.surveys, r.complete, r.stores_without_survey) for r in answers["fieldline"]}
    theirs = {g: (int(n), int(c), int(w)) for g, n, _a, c, w, _s in answers["raw"]}
    assert ours.get("report") == theirs.get("report"), (ours, theirs)
    rows[0].ratio = f"{rows[0].seconds / rows[1].seconds:.1f}x raw time"
    return rows


# --- nearest stores ----------------------------------------------------------------------


def bench_nearest(size: int) -> list[Row]:
    """StoreIndex against a numpy brute-force scan of every store (tests/geo/bench_index)."""
    import numpy as np

    from geo.distance import haversine_m_array
    from geo.index import StoreIndex
    from geo.point import Point
    from tests.geo.bench_index import layout

    rng = np.random.default_rng(0)
    lats, lons = layout("germany", rng, size)
    started = time.perf_counter()
    index = StoreIndex.build(ids=np.arange(size), lats=lats, lons=lons)
    build_s = time.perf_counter() - started
    q_lats, q_lons = layout("germany", rng, 500)
    points = [Point(lat=a, lon=b) for a, b in zip(q_lats, q_lons, strict=True)]
    brute_points = points[:20]

    def brute_nearest(point: Point) -> list[int]:
        d = haversine_m_array(lat1=point.lat, lon1=point.lon, lat2=lats, lon2=lons)
        top = np.argpartition(d, 10)[:10]
        return top[np.argsort(d[top])].tolist()

    for point in brute_points:  # the two must agree before their times mean anything
        assert [h.id for h in index.nearest(point, k=10)] == brute_nearest(point)

    def timed(run, queries: list[Point]) -> float:
        start = time.perf_counter()
        for point in queries:
            run(point)
        return time.perf_counter() - start

    index_s = timed(lambda p: index.nearest(p, k=10), points)
    brute_s = timed(brute_nearest, brute_points)
    peak = peak_rss_mb()
    rows = [
        Row(
            "nearest 10 stores (per query)",
            f"StoreIndex (build {build_s:.1f} s)",
            size,
            index_s / len(points),
            len(points) / index_s,
            peak,
        ),
        Row(
            "nearest 10 stores (per query)",
            "numpy brute force",
            size,
            brute_s / len(brute_points),
            len(brute_points) / brute_s,
            peak,
        ),
    ]
    rows[0].ratio = f"{rows[0].per_second / rows[1].per_second:,.0f}x brute force"
    return rows


# --- streamed export ---------------------------------------------------------------------


def bench_export(size: int, vendor: str) -> list[Row]:
    """CSV export through HTTP from a gunicorn worker, whose peak memory is measured, at a
    tenth of the size and at the size: flat memory means the two peaks are alike."""
    from django.db import connection

    worlds = []
    for n, code in ((max(1, size // 10), "export-tenth"), (size, "export")):
        make_world(stores=n, surveys_per_store=1, region_code=code)
        worlds.append((n, code, make_user("manager", code)[1]))
    server = LiveServer(workers=1, threads=1)
    rows = []
    try:
        for n, code, token in worlds:
            http_call(server.url, "GET", "/api/me", token)  # the worker has imported all
            before = server.reset_peaks()
            started = time.perf_counter()
            newlines = sum(
                block.count(b"\n")
                for block in http_stream(server.url, "/api/exports/surveys.csv", token)
            )
            seconds = time.perf_counter() - started
            assert newlines == n + 1, (newlines, n)
            peak, growth = server.peak_growth(before)
            rows.append(
                Row(
                    "streamed export (HTTP, CSV)",
                    f"fieldline, {code}",
                    n,
                    seconds,
                    n / seconds,
                    peak,
                    growth_mb=growth,
                    memory="server",
                )
            )
    finally:
        server.stop()

    def copy_to() -> None:
        query = """
            SELECT sv.*, st.name, st.region_id FROM surveys_sitesurvey sv
            JOIN stores_store st ON st.id = sv.store_id
            WHERE st.region_id = 'export' AND NOT sv.deleted ORDER BY sv.id"""
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                with cursor.cursor.copy(f"COPY ({query}) TO STDOUT WITH CSV HEADER") as copy:
                    for _block in copy:
                        pass
            else:
                cursor.execute(query)
                writer = csv.writer(open("/dev/null", "w"))  # noqa: SIM115
                while page := cursor.fetchmany(2000):
                    writer.writerows(page)

    raw = measure(
        "streamed export",
        "raw COPY TO" if vendor == "postgresql" else "sqlite3 + csv",
        size,
        copy_to,
    )
    small, full = rows
    full.ratio = (
        f"{full.seconds / raw.seconds:.1f}x raw time; server peak +{full.growth_mb:.0f} MB "
        f"vs +{small.growth_mb:.0f} MB at {small.size:,}"
    )
    full.target = "flat server memory (peak growth <= 2x the growth at a tenth + 16 MB)"
    full.met = full.growth_mb <= 2 * small.growth_mb + 16
    return [*rows, raw]


# --- orders import + RFM -----------------------------------------------------------------


def write_orders_csv(path: Path, lines: int, stores: list[uuid.UUID]) -> int:
    """An ERP-like export: consecutive lines of each order, 1-7 lines an order."""
    rng = random.Random(0)
    from django.utils import timezone

    today = timezone.localdate()
    written = 0
    order = 0
    with path.open("w", newline="") as out:
        out.write("order_id,store_id,order_date,sku,quantity,amount\n")
        while written < lines:
            order += 1
            store = stores[rng.randrange(len(stores))]
            day = (today - dt.timedelta(days=rng.randrange(1, 400))).isoformat()
            parts = []
            for _ in range(min(rng.randint(1, 7), lines - written)):
                parts.append(
                    f"ERP-{order},{store},{day},SKU-{rng.randrange(500)},"
                    f"{rng.randint(1, 20)},{rng.randrange(100, 50000) / 100:.2f}\n"
                )
                written += 1
            out.write("".join(parts))
    return order


def bench_orders(size: int, vendor: str) -> list[Row]:
    from django.db import connection, transaction
    from django.utils import timezone

    from crm.analytics.services import analytics_recompute
    from crm.orders.services import orders_import

    # 200 order lines a store: 50,000 stores at the target's 10,000,000 lines.
    world = make_world(
        stores=max(10, min(size // 200, 50_000)), surveys_per_store=0, region_code="orders"
    )
    path = ROOT / "var" / "bench_orders.csv"
    path.parent.mkdir(exist_ok=True)
    started = time.perf_counter()
    orders = write_orders_csv(path, size, world["stores"])
    print(f"  orders file: {size:,} lines, {time.perf_counter() - started:.0f} s", flush=True)

    def fieldline_import() -> None:
        with path.open(newline="") as text:
            report = orders_import(csv_text=text)
        assert report.lines_created == size, report.as_dict()
        assert report.rows_rejected == 0, report.as_dict()

    def fieldline_rfm() -> None:
        analytics_recompute(actor=None)

    def raw_copy() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            if vendor == "postgresql":
                cursor.execute(
                    "CREATE TEMP TABLE staging (order_id text, store_id uuid, order_date date,"
                    " sku text, quantity int, amount numeric(12, 2)) ON COMMIT DROP"
                )
                with (
                    cursor.cursor.copy(
                        "COPY staging FROM STDIN WITH (FORMAT csv, HEADER true)"
                    ) as copy,
                    path.open("rb") as data,
                ):
                    while block := data.read(1 << 20):
                        copy.write(block)
                cursor.execute(
                    "INSERT INTO crm_order (id, external_id, store_id, order_date, amount) "
                    "SELECT gen_random_uuid(), 'raw-' || order_id, min(store_id::text)::uuid, "
                    "min(order_date), sum(amount) FROM staging GROUP BY order_id"
                )
                cursor.execute(
                    "INSERT INTO crm_orderline (order_id, sku, quantity, amount) "
                    "SELECT o.id, s.sku, s.quantity, s.amount FROM staging s "
                    "JOIN crm_order o ON o.external_id = 'raw-' || s.order_id"
                )
            else:
                with path.open(newline="") as text:
                    reader = csv.reader(text)
                    next(reader)
                    ids: dict[str, str] = {}
                    lines = []
                    for order_id, store_id, day, sku, quantity, amount in reader:
                        if order_id not in ids:
                            ids[order_id] = uuid.uuid4().hex
                            cursor.execute(
                                "INSERT INTO crm_order (id, external_id, store_id, order_date,"
                                " amount) VALUES (%s, %s, %s, %s, 0)",
                                [ids[order_id], "raw-" + order_id, uuid.UUID(store_id).hex, day],
                            )
                        lines.append((ids[order_id], sku, int(quantity), amount))
                        if len(lines) >= 5000:
                            cursor.executemany(
                                "INSERT INTO crm_orderline (order_id, sku, quantity, amount)"
                                " VALUES (%s, %s, %s, %s)",
                                lines,
                            )
                            lines = []
                    cursor.executemany(
                        "INSERT INTO crm_orderline (order_id, sku, quantity, amount)"
                        " VALUES (%s, %s, %s, %s)",
                        lines,
                    )

    def raw_rfm() -> None:
        since = timezone.localdate() - dt.timedelta(days=90)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT store_id, max(order_date), count(*) FILTER (WHERE order_date >= %s),"
                " sum(amount) FILTER (WHERE order_date >= %s) FROM crm_order"
                " WHERE external_id NOT LIKE 'raw-%%' GROUP BY store_id"
                if vendor == "postgresql"
                else "SELECT store_id, max(order_date), sum(order_date >= %s),"
                " sum(CASE WHEN order_date >= %s THEN amount END) FROM crm_order"
                " WHERE external_id NOT LIKE 'raw-%%' GROUP BY store_id",
                [since, since],
            )
            cursor.fetchall()

    rows = [
        measure("orders import (CSV lines)", "fieldline orders_import", size, fieldline_import),
        measure(
            "orders import (CSV lines)",
            "raw COPY + INSERT..SELECT" if vendor == "postgresql" else "sqlite3 executemany",
            size,
            raw_copy,
        ),
        measure(
            f"RFM recompute ({orders:,} orders)",
            "fieldline analytics_recompute",
            size,
            fieldline_rfm,
        ),
        measure(
            f"RFM recompute ({orders:,} orders)", "raw SQL aggregate (inputs only)", size, raw_rfm
        ),
    ]
    rows[0].ratio = f"{rows[0].seconds / rows[1].seconds:.1f}x raw time"
    rows[2].method += f", {len(world['stores']):,} stores"
    rows[2].ratio = f"{rows[2].seconds / rows[3].seconds:.1f}x raw time"
    path.unlink(missing_ok=True)
    return rows

"""The sync cases: push and pull through HTTP against the naive Django way and the raw limit."""

import json
import statistics
import time
import uuid

from tests.bench.common import (
    NAIVE_SAMPLE,
    LiveServer,
    Row,
    make_world,
    measure,
    sample_note,
    survey_update_pushes,
)


def on_server(server: LiveServer, case: str, method: str, size: int, work) -> Row:
    """`measure`, with the memory of the server worker instead of the bench's."""
    before = server.reset_peaks()
    cpu = server.cpu_seconds()
    row = measure(case, method, size, work)
    row.peak_mb, row.growth_mb = server.peak_growth(before)
    row.memory = "server"
    row.server_cpu_s = server.cpu_seconds() - cpu
    return row


# --- push ------------------------------------------------------------------------------


def bench_push(server: LiveServer, size: int, vendor: str) -> list[Row]:
    naive_size = min(size, NAIVE_SAMPLE)
    world = make_world(stores=size, surveys_per_store=1)
    surveys = world["surveys"]

    def fieldline() -> None:
        for body in survey_update_pushes(surveys[:size], device_id="bench-phone"):
            answer = server.call("POST", "/api/sync/push", world["token"], body)
            assert all(r["status"] != "rejected" for r in answer["results"]), answer["results"][0]

    def naive_django() -> None:
        from django.db import transaction
        from django.utils import timezone

        from surveys.models import SiteSurvey
        from sync.models import ChangeLog

        for pk in surveys[:naive_size]:
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
        on_server(server, "push (HTTP, full engine)", "fieldline", size, fieldline),
        measure(
            "push", f"naive Django ORM{sample_note(naive_size, size)}", naive_size, naive_django
        ),
        measure("push", "raw SQL, set-based", size, raw_sql),
    ]
    fl, naive, raw = rows
    fl.ratio = (
        f"{fl.per_second / naive.per_second:.1f}x naive; {fl.seconds / raw.seconds:.1f}x raw time"
        f"; server CPU {fl.server_cpu_s:.2f} s"
    )
    fl.target = ">=10x naive; <=4x raw time"
    fl.met = fl.per_second >= 10 * naive.per_second and fl.seconds <= 4 * raw.seconds
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


def pull_all(server: LiveServer, token: str, cursor: str | None = None) -> tuple[int, str]:
    received = 0
    while True:
        path = "/api/sync/pull?limit=5000" + (f"&cursor={cursor}" if cursor else "")
        body = server.call("GET", path, token)
        received += len(body["changes"])
        cursor = body["cursor"]
        if not body["has_more"]:
            return received, cursor


def bench_pull_first(server: LiveServer, size: int, vendor: str) -> list[Row]:
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
        on_server(server, "first pull (HTTP)", "fieldline", records, fieldline),
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
        f"; server CPU {fl.server_cpu_s:.2f} s"
    )
    fl.target = ">=5x DRF; <=3x raw time"
    fl.met = fl.per_second >= 5 * drf.per_second and fl.seconds <= 3 * raw.seconds
    return rows


def bench_pull_incremental(server: LiveServer, totals: tuple[int, int]) -> list[Row]:
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
                server.peak_growth(server.reset_peaks())[0],
                memory="server",
            )
        )
    rows[-1].ratio = f"{rows[-1].seconds / rows[0].seconds:.2f}x the time at {totals[0]:,}"
    rows[-1].target = "time independent of the total (<=1.5x)"
    rows[-1].met = rows[-1].seconds <= 1.5 * rows[0].seconds
    return rows

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
        """The same work done per object: the idempotency check, a locked read, the version
        compare, `save()`, a changelog row and the idempotency row."""
        from django.db import transaction
        from django.utils import timezone

        from surveys.models import SiteSurvey
        from sync.models import AppliedMutation, ChangeLog
        from sync.positions import allocate_positions

        for pk in surveys[:naive_size]:
            mutation_id = uuid.uuid4()
            with transaction.atomic():
                if AppliedMutation.objects.filter(pk=mutation_id).exists():
                    continue
                survey = SiteSurvey.objects.select_for_update().get(pk=pk)
                if survey.version < 1:
                    continue
                old = {"notes": survey.notes, "footfall_weekday": survey.footfall_weekday}
                (position,) = allocate_positions(1)
                survey.notes = "naive"
                survey.footfall_weekday = 123
                survey.version += 1
                survey.updated_at = timezone.now()
                stamp = [survey.version, 0, "naive"]
                survey.field_stamps = survey.field_stamps | {"notes": stamp, "footfall": stamp}
                survey.sync_txid, survey.sync_seq = position.txid, position.seq
                survey.save()
                ChangeLog.objects.create(
                    seq=position.seq,
                    txid=position.txid,
                    entity="survey",
                    record_id=pk,
                    version=survey.version,
                    op="update",
                    new_values={"notes": "naive", "footfall_weekday": 123},
                    old_values=old,
                    actor=world["rep"],
                    mutation_id=mutation_id,
                    source="push",
                    at=survey.updated_at,
                )
                AppliedMutation.objects.create(
                    mutation_id=mutation_id,
                    user=world["rep"],
                    entity="survey",
                    record_id=pk,
                    status="applied",
                    at=survey.updated_at,
                )

    # Surveys of their own, all at version 1, so the raw statement's version check holds.
    raw_surveys = make_world(stores=size, surveys_per_store=1)["surveys"]

    def raw_sql() -> None:
        raw_push(raw_surveys, vendor, actor_id=world["rep"].pk)

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


def raw_push(ids: list[uuid.UUID], vendor: str, *, actor_id: int) -> None:
    """The database's own limit for the same writes the engine makes, one statement per 500
    mutations, the batch sent as one JSON document: a mutation id seen before is skipped
    (an index probe), then the version-checked update of the fields, their stamps and the
    record's stream position, the changelog row with old and new values, and the
    idempotency row."""
    from django.db import connection, transaction

    for start in range(0, len(ids), 500):
        batch = [
            {"id": str(pk), "notes": "raw", "footfall": 231, "base": 1, "mid": str(uuid.uuid4())}
            for pk in ids[start : start + 500]
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            if vendor == "postgresql":
                cursor.execute(
                    """
                    WITH input AS (
                        SELECT * FROM json_to_recordset(%s::json)
                            AS j(id uuid, notes text, footfall integer, base integer, mid uuid)
                    ), updated AS (
                        UPDATE surveys_sitesurvey s SET
                            notes = i.notes, footfall_weekday = i.footfall,
                            version = s.version + 1, updated_at = now(),
                            field_stamps = s.field_stamps || jsonb_build_object(
                                'notes', jsonb_build_array(s.version + 1, 0, 'raw'),
                                'footfall_weekday', jsonb_build_array(s.version + 1, 0, 'raw')),
                            sync_txid = pg_current_xact_id()::text::bigint,
                            sync_seq = nextval('sync_position_seq')
                        FROM input i JOIN surveys_sitesurvey o ON o.id = i.id
                        WHERE s.id = i.id AND s.version = i.base AND NOT EXISTS (
                            SELECT 1 FROM sync_appliedmutation a WHERE a.mutation_id = i.mid)
                        RETURNING s.id, s.version, s.sync_txid, s.sync_seq, i.mid, i.notes,
                            i.footfall, o.notes AS old_notes, o.footfall_weekday AS old_footfall
                    ), applied AS (
                        INSERT INTO sync_appliedmutation
                            (mutation_id, user_id, device_id, entity, record_id, status, result,
                             at)
                        SELECT mid, %s, 'raw', 'survey', id, 'applied', '{}'::jsonb, now()
                        FROM updated
                    )
                    INSERT INTO sync_changelog
                        (seq, txid, entity, record_id, version, op, new_values, old_values,
                         actor_id, device_id, mutation_id, source, at)
                    SELECT sync_seq, sync_txid, 'survey', id, version, 'update',
                        jsonb_build_object('notes', notes, 'footfall_weekday', footfall),
                        jsonb_build_object('notes', old_notes, 'footfall_weekday', old_footfall),
                        %s, 'raw', mid, 'push', now()
                    FROM updated
                    """,
                    [json.dumps(batch), actor_id, actor_id],
                )
                assert cursor.rowcount == len(batch), "a raw update missed its version"
            else:
                cursor.executemany(
                    "UPDATE surveys_sitesurvey SET notes = %s, footfall_weekday = %s, "
                    "version = version + 1 WHERE id = %s AND version = %s",
                    [(r["notes"], r["footfall"], uuid.UUID(r["id"]).hex, r["base"]) for r in batch],
                )
                cursor.executemany(
                    "INSERT INTO sync_changelog (seq, txid, entity, record_id, version, op, "
                    "new_values, old_values, device_id, mutation_id, source, at) VALUES "
                    "(0, 0, 'survey', %s, 2, 'update', '{}', '{}', '', %s, 'push', "
                    "CURRENT_TIMESTAMP)",
                    [(uuid.UUID(r["id"]).hex, uuid.UUID(r["mid"]).hex) for r in batch],
                )
                cursor.executemany(
                    "INSERT INTO sync_appliedmutation (mutation_id, user_id, device_id, entity, "
                    "record_id, status, result, at) VALUES (%s, %s, 'raw', 'survey', %s, "
                    "'applied', '{}', CURRENT_TIMESTAMP)",
                    [(uuid.UUID(r["mid"]).hex, actor_id, uuid.UUID(r["id"]).hex) for r in batch],
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
    """Every method ends where a phone's pull ends, with the pages parsed by the same client
    (orjson): Fieldline's through HTTP, the baselines' in-process, spared the HTTP cost."""
    world = make_world(stores=size // 2, surveys_per_store=1)
    records = len(world["stores"]) + len(world["surveys"])

    def fieldline() -> None:
        received, _ = pull_all(server, world["token"])
        assert received == records, (received, records)

    def drf_serializers() -> None:
        import orjson
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
                orjson.loads(JSONRenderer().render(Naive(page, many=True).data))
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
                    orjson.loads(orjson.dumps([dict(zip(names, row, strict=True)) for row in rows]))

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
    # Flat memory: the same pull again must not grow the worker again (a worker that kept
    # what it served would grow by about the first pull's growth each time).
    again = on_server(server, "first pull (HTTP), again", "fieldline", records, fieldline)
    fl, drf, raw = rows
    flat = again.growth_mb <= PULL_REGROWTH_MB
    fl.ratio = (
        f"{fl.per_second / drf.per_second:.1f}x DRF; {fl.seconds / raw.seconds:.1f}x raw time"
        f"; server CPU {fl.server_cpu_s:.2f} s; server +{again.growth_mb:.0f} MB on a 2nd pull"
    )
    fl.target = ">=5x DRF; <=3x raw time; flat server memory"
    fl.met = fl.per_second >= 5 * drf.per_second and fl.seconds <= 3 * raw.seconds and flat
    return rows


# How much a second identical pull may still grow the worker (allocator noise).
PULL_REGROWTH_MB = 8


def bench_pull_incremental(server: LiveServer, totals: tuple[int, int]) -> list[Row]:
    """1,000 changes among N records: the pull's time must not depend on N."""
    rows = []
    for total in totals:
        world = make_world(stores=total, surveys_per_store=0)
        _, cursor = pull_all(server, world["token"])
        changed = world["stores"][:: max(1, total // 1000)][:1000]
        from sync.batch import apply_mutations
        from sync.mutations import Mutation

        apply_mutations(
            actor=world["rep"],
            mutations=[
                Mutation(
                    entity="store",
                    op="update",
                    record_id=pk,
                    base_version=1,
                    fields={"opening_hours_proposed": {"mon": [["07:00", "20:00"]]}},
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

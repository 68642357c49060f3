"""The backup and restore drill of the README, end to end on PostgreSQL.

Phones sync; the database is dumped with pg_dump; phones go on changing and pulling;
the dump is restored into a fresh database, `manage.py sync_restored` is run, and a
server process starts on it. Then: a cursor the backup covers goes on incrementally, a
cursor from after the backup answers 410 resync (even once new changes have moved the
position sequence past it), and pushes whose answers were lost are applied once.
"""

import base64
import json
import subprocess
import sys
import uuid

import psycopg
import pytest
from django.db import connection
from knox.models import AuthToken

from tests.live_client import LiveClient
from tests.server_process import (
    DEPLOYMENT_SECRET_KEY,
    ROOT,
    ServerProcess,
    current_database_url,
)
from tests.sync.phone import Phone, ResyncRequired

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]


@pytest.fixture
def restored_db():
    """A fresh database beside the test database, dropped afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("the drill uses pg_dump and pg_restore: PostgreSQL only")
    name = f"{connection.settings_dict['NAME']}_restored"
    admin_url = current_database_url().rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield current_database_url().rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(*command: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout


def cursor_seq(cursor: str) -> int:
    payload = cursor.split(":")[0]  # signed cursors: the payload, then the signature
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))[3]


def counts(database_url: str, mutation_ids: list[str]) -> list[tuple[int, int]]:
    """(AppliedMutation rows, ChangeLog rows) per mutation id, in the restored database."""
    with psycopg.connect(database_url) as db:
        return [
            db.execute(
                "SELECT (SELECT count(*) FROM sync_appliedmutation WHERE mutation_id = %s),"
                " (SELECT count(*) FROM sync_changelog WHERE mutation_id = %s)",
                [uuid.UUID(pk), uuid.UUID(pk)],
            ).fetchone()
            for pk in mutation_ids
        ]


def melon_pull(client: LiveClient, last_pulled_at: int | None) -> dict:
    """A WatermelonDB pull as `synchronize()` makes it."""
    since = "null" if last_pulled_at is None else str(last_pulled_at)
    params = {"last_pulled_at": since, "schema_version": 1, "migration": "null"}
    response = client.get("/api/sync/watermelon", params)
    assert response.status_code == 200, response.body
    return response.json()


def melon_notes(body: dict) -> set[str]:
    changes = body["changes"]["followups"]
    return {row["note"] for row in [*changes["created"], *changes["updated"]]}


def test_backup_restore_drill(live_server, people, world, restored_db, tmp_path, settings):
    # One deployment before and after the restore: the same key signs the phones' cursors.
    settings.SECRET_KEY = DEPLOYMENT_SECRET_KEY
    rep = people["rep_north"]
    store, survey = str(world["rep_north"]["store"]), str(world["rep_north"]["survey"])

    def device(user) -> LiveClient:
        _, token = AuthToken.objects.create(user=user)
        return LiveClient(live_server.url, token=token)

    steady, ahead, unlucky = (Phone(device(rep)) for _ in range(3))
    manager = device(people["manager_north"])
    for phone in (steady, ahead, unlucky):
        phone.pull()
    # Two WatermelonDB phones: one pulls before the backup, one after it.
    melon_steady, melon_ahead = device(rep), device(rep)

    # Before the backup: edits, one push whose answer is lost.
    steady.create("followup", store=store, due_date="2026-12-24", note="before the backup")
    steady.sync()
    unlucky.create("followup", store=store, due_date="2026-12-24", note="answer lost, before")
    unlucky.push(lose_answer=True)
    before = unlucky.queue[0]["mutation_id"]

    melon_steady_at = melon_pull(melon_steady, None)["timestamp"]

    # 1. The backup.
    dump = tmp_path / "fieldline.dump"
    run("pg_dump", "--format=custom", f"--file={dump}", f"--dbname={current_database_url()}")

    # After the backup: changes and pulls the restored database will never see.
    ahead.update("survey", survey, notes="after the backup")
    ahead.create("followup", store=store, due_date="2026-12-24", note="after the backup")
    ahead.sync()
    unlucky.create("followup", store=store, due_date="2026-12-24", note="answer lost, after")
    unlucky.push(lose_answer=True)  # both queued mutations applied; neither answer arrives
    after = unlucky.queue[1]["mutation_id"]
    pulled_after = melon_pull(melon_ahead, None)
    assert "after the backup" in melon_notes(pulled_after)
    melon_ahead_at = pulled_after["timestamp"]

    # 2. Restore into a fresh database; 3. start a new sync epoch there; 4. serve it.
    run("pg_restore", "--no-owner", f"--dbname={restored_db}", str(dump))
    env = ServerProcess(restored_db).env()
    said = run(sys.executable, str(ROOT / "backend" / "manage.py"), "sync_restored", env=env)
    assert "keep working" in said
    server = ServerProcess(restored_db, log_path=tmp_path / "server.log").start()
    try:
        for phone in (steady, ahead, unlucky):
            phone.client = LiveClient(server.url, token=phone.client.token)
        manager = LiveClient(server.url, token=manager.token)

        # Pushes retried after the restore: the one the backup holds is replayed, the one
        # it lost is applied now; each exactly once.
        results = unlucky.push()
        assert [r["status"] for r in results] == ["applied", "applied"]
        assert counts(restored_db, [before, after]) == [(1, 1), (1, 1)]
        assert unlucky.push() == []  # nothing left queued

        # New changes move the position sequence past the cursor from after the backup.
        for grade in "ABCAB":
            answer = manager.patch(f"/api/stores/{store}/", {"grade": grade})
            assert answer.status_code == 200, answer.body
        with psycopg.connect(restored_db) as db:
            last = db.execute("SELECT last_value FROM sync_position_seq").fetchone()[0]
        assert last > cursor_seq(ahead.cursor)

        # A cursor the backup covers goes on: it receives what changed since, and no more.
        # (the store, graded, and the two follow-ups of the phone whose answers were lost)
        assert steady.pull() == 3
        assert steady.replica[("store", store)]["grade"] == "B"

        # WatermelonDB: a timestamp the backup holds goes on incrementally; one the lost
        # history issued (no epoch in it, and below the watermark by now) gets everything
        # from scratch as a replacement, so the phone drops what the restore lost.
        for client in (melon_steady, melon_ahead):
            client.base_url = server.url
        incremental = melon_pull(melon_steady, melon_steady_at)
        assert "experimentalStrategy" not in incremental
        assert melon_ahead_at < incremental["timestamp"]
        replaced = melon_pull(melon_ahead, melon_ahead_at)
        assert replaced["experimentalStrategy"] == "replacement"
        assert "after the backup" not in melon_notes(replaced)
        assert "before the backup" in melon_notes(replaced)  # from scratch: everything
        assert "experimentalStrategy" not in melon_pull(melon_ahead, replaced["timestamp"])

        # A cursor from after the backup: 410 resync, never a silent gap.
        with pytest.raises(ResyncRequired):
            ahead.pull()
        ahead.resync()
        fresh = Phone(LiveClient(server.url, token=ahead.client.token))
        fresh.pull()
        assert ahead.replica == fresh.replica
        assert steady.replica == fresh.replica
        # What was acknowledged after the backup is not in it: the restore's loss window.
        assert ahead.replica[("survey", survey)]["notes"] != "after the backup"
    finally:
        server.stop()

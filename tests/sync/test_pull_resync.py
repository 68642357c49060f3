"""Which cursors a database serves after `sync_restored` started a new epoch."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from sync.cursors import Cursor
from sync.jobs import prune_watermelon_timestamps
from sync.models import WatermelonTimestamp
from sync.pull import restart_epoch_after_restore, restore_point, sync_epoch
from sync.registry import all_entities
from tests.conftest import create
from tests.sync.phone import Phone, ResyncRequired
from tests.sync.test_watermelon import Device

# Committed writes, as in production: positions of the writing transaction are hidden
# from pulls until it commits.
pytestmark = pytest.mark.django_db(transaction=True)


def add_followup(world) -> None:
    create("followup", store=world["rep_north"]["store"], due_date="2026-12-24", note="new")


def test_cursors_the_backup_covers_keep_working_later_ones_resync(client_for, world):
    phone = Phone(client_for("rep_north"))
    phone.pull()
    before_restore = phone.cursor
    old_epoch = sync_epoch()
    point, new_epoch = restart_epoch_after_restore()
    assert point is not None
    assert point.epoch == old_epoch
    assert sync_epoch() == new_epoch != old_epoch

    add_followup(world)
    assert phone.pull() == 1  # covered by the backup: goes on, now in the new epoch
    for _ in range(3):
        add_followup(world)  # the position sequence moves well past the restore point

    at_the_point = Phone(client_for("rep_north"))
    at_the_point.cursor = before_restore
    assert at_the_point.pull() == 4
    beyond = Phone(client_for("rep_north"))
    beyond.cursor = Cursor(txid=point.seq + 1, seq=point.seq + 1).encode(epoch=old_epoch)
    with pytest.raises(ResyncRequired):
        beyond.pull()


def test_a_cursor_of_another_epoch_answers_resync(client_for, world):
    phone = Phone(client_for("rep_north"))
    phone.pull()
    phone.cursor = Cursor(txid=1, seq=1).encode(epoch=sync_epoch() + 1)
    with pytest.raises(ResyncRequired):
        phone.pull()


def test_the_command_says_what_it_did_and_a_second_run_changes_nothing(world):
    out = StringIO()
    call_command("sync_restored", stdout=out)
    assert "keep working" in out.getvalue()
    epoch, point = sync_epoch(), restore_point()
    call_command("sync_restored", stdout=out)
    assert (sync_epoch(), restore_point()) == (epoch, point)
    add_followup(world)  # after new changes, another restore is another epoch
    call_command("sync_restored", stdout=out)
    assert sync_epoch() != epoch


def test_restored_into_another_cluster_renumbers_and_every_phone_resyncs(client_for, world):
    if connection.vendor != "postgresql":
        pytest.skip("transaction ids in positions exist on PostgreSQL only")
    phone = Phone(client_for("rep_north"))
    phone.pull()
    scope = set(phone.replica)
    # As if the rows came from a cluster whose transaction ids are far ahead of this one's.
    with connection.cursor() as db:
        for spec in all_entities():
            db.execute(f"UPDATE {spec.model._meta.db_table} SET sync_txid = sync_txid + 2^40")  # noqa: S608
    assert Phone(client_for("rep_north")).pull() == 0  # hidden under the watermark

    point, _ = restart_epoch_after_restore()
    assert point is None
    with pytest.raises(ResyncRequired):
        phone.pull()
    phone.resync()
    assert set(phone.replica) == scope
    add_followup(world)
    assert phone.pull() == 1


# --- WatermelonDB: `last_pulled_at` carries no epoch; issued timestamps are recorded ----


def test_watermelon_timestamps_the_restored_database_never_issued_get_a_replacement(
    client_for, world
):
    covered = Device(client_for("rep_north"))
    covered.pull()  # before the backup: its timestamp is in the backup
    lost = Device(client_for("rep_north"))
    add_followup(world)
    lost.pull()
    assert lost.last_pulled_at > covered.last_pulled_at
    # The restore: the lost history took the record of the second timestamp with it.
    WatermelonTimestamp.objects.filter(timestamp=lost.last_pulled_at).delete()
    restart_epoch_after_restore()
    add_followup(world)  # the watermark moves past both timestamps

    body = covered.pull()
    assert "experimentalStrategy" not in body  # incremental: only what changed since
    assert sum(len(t["created"]) + len(t["updated"]) for t in body["changes"].values()) == 2
    from_lost = lost.last_pulled_at
    body = lost.pull()
    assert body["experimentalStrategy"] == "replacement"
    assert {r["id"] for r in body["changes"]["stores"]["created"]} == {
        str(world["rep_north"]["store"])
    }
    # The replacement's timestamp is this epoch's: the next pull is incremental again.
    assert "experimentalStrategy" not in lost.pull()
    # A push on the lost timestamp asks for a pull first (410), then goes through.
    response = lost.push({}, last_pulled_at=from_lost)
    assert response.status_code == 410
    assert lost.push({}).status_code == 200


def test_watermelon_timestamps_before_any_restore_are_not_looked_up(client_for, world):
    device = Device(client_for("rep_north"))
    device.pull()
    WatermelonTimestamp.objects.all().delete()  # as issued before they were recorded
    add_followup(world)
    assert "experimentalStrategy" not in device.pull()


def test_watermelon_timestamp_records_past_their_retention_are_dropped(settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "WATERMELON_TIMESTAMP_RETENTION_DAYS": 30}
    now = timezone.now()
    for timestamp, age_days in ((1, 31), (2, 29)):
        WatermelonTimestamp.objects.create(
            epoch=sync_epoch(), timestamp=timestamp, issued_at=now - dt.timedelta(days=age_days)
        )
    assert prune_watermelon_timestamps() == 1
    assert list(WatermelonTimestamp.objects.values_list("timestamp", flat=True)) == [2]

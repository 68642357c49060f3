import datetime as dt
import uuid

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import push_one

pytestmark = pytest.mark.django_db


def test_sync_state_lists_devices_statuses_and_scope(people, world, capsys):
    rep = people["rep_north"]
    survey = world["rep_north"]["survey"]
    moment = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    push_one(
        rep,
        "survey",
        "update",
        survey,
        base_version=1,
        fields={"notes": "a"},
        mutation_id=uuid.uuid4(),
        device_id="phone-1",
        client_ts=moment,
    )
    push_one(
        rep,
        "survey",
        "update",
        survey,
        base_version=1,
        fields={"notes": "b"},
        mutation_id=uuid.uuid4(),
        device_id="phone-2",
        client_ts=moment - dt.timedelta(minutes=1),
    )
    push_one(
        rep,
        "survey",
        "update",
        survey,
        base_version=2,
        fields={"footfall_weekday": -1},
        mutation_id=uuid.uuid4(),
        device_id="phone-2",
    )
    call_command("sync_state", "rep-north-1")
    out = capsys.readouterr().out
    assert "scope: store 1, survey 1, photo 1, visit 1, followup 1, task 1" in out
    lines = {line.split(":")[0]: line for line in out.splitlines() if line.startswith("device")}
    assert lines["device phone-1"].endswith("applied 1; 0 conflicts")
    assert lines["device phone-2"].endswith("conflict 1, rejected 1; 1 conflicts")


def test_sync_state_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user named"):
        call_command("sync_state", "nobody")

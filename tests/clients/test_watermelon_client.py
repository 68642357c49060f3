"""A stock WatermelonDB client (tests/clients, Node) syncs two phones with a live server."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

CLIENTS = Path(__file__).resolve().parent
NODE = shutil.which("node")
NODE_TIMEOUT_S = 300


def missing_client() -> str | None:
    if NODE is None:
        return "node not found: skipping WatermelonDB client tests"
    if not (CLIENTS / "node_modules" / "@nozbe" / "watermelondb").is_dir():
        return "tests/clients/node_modules is absent: run `npm ci --prefix tests/clients`"
    return None


@pytest.mark.skipif(missing_client() is not None, reason=missing_client() or "")
def test_stock_watermelondb_client_syncs_with_a_live_server(live_server, people, world):
    rep = people["rep_north"]
    store = create("store", name="Second kiosk", lat=53.56, lon=10.01, region="north", owner=rep.pk)
    create("survey", store=store, footfall_weekday=180, equipment=["freezer"])
    create("visit", store=store, check_in_at="2026-11-03T10:00:00Z", purpose="routine")
    env = {
        **os.environ,
        "FIELDLINE_URL": live_server.url,
        "FIELDLINE_REP": rep.username,
        "FIELDLINE_OTHER_REP": people["rep_north_2"].username,
        "FIELDLINE_MANAGER": people["manager_north"].username,
        "FIELDLINE_PASSWORD": PASSWORD,
    }
    result = subprocess.run(
        [NODE, "--test"],
        cwd=CLIENTS,
        env=env,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, (
        f"node --test exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    )

"""PostgreSQL connections run without JIT: compiling the completeness scoring query took
~30 s with 14,000 surveys, running it well under one."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_postgresql_connections_have_jit_off():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def settings_under(**env: str) -> dict:
    """DATABASES and DATABASE_REPLICAS as settings.py makes them from this environment."""
    import json
    import os
    import subprocess
    import sys

    from tests.server_process import ROOT

    code = (
        "import json; from fieldline import settings as s; "
        "print(json.dumps({'databases': s.DATABASES, 'replicas': s.DATABASE_REPLICAS}, "
        "default=str))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE"))}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "backend",
        env={**clean, "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_behind_a_transaction_pool_nothing_relies_on_session_state():
    """PgBouncer in transaction mode: no server-side cursors, no prepared statements, no
    startup options (JIT is turned off on the database instead)."""
    pooled = settings_under(
        DATABASE_URL="postgres://app@pool:6432/fieldline", DATABASE_POOLED="true"
    )["databases"]["default"]
    assert pooled["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert pooled["OPTIONS"]["prepare_threshold"] is None
    assert "options" not in pooled["OPTIONS"]
    direct = settings_under(DATABASE_URL="postgres://app@db:5432/fieldline")["databases"]
    assert not direct["default"].get("DISABLE_SERVER_SIDE_CURSORS")
    assert "jit=off" in direct["default"]["OPTIONS"]["options"]


def test_replica_urls_become_aliases_that_nothing_migrates():
    made = settings_under(
        DATABASE_URL="postgres://app@db:5432/fieldline",
        DATABASE_REPLICA_URLS="postgres://app@r1:5432/fieldline,postgres://app@r2:5432/fieldline",
    )
    assert made["replicas"] == ["replica_1", "replica_2"]
    assert made["databases"]["replica_2"]["HOST"] == "r2"
    assert made["databases"]["replica_1"]["OPTIONS"]["connect_timeout"] == 2
    assert made["databases"]["replica_1"]["TEST"] == {"MIRROR": "default"}

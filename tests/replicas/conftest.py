"""The hot standby set-up: a temporary primary (migrated), its standby, PgBouncer in
transaction mode in front of the primary, and two gunicorn app servers that share a
database cache. Skipped with the reason where the binaries are missing; under CI that is
a failure. `pytest -m replica` selects these tests."""

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import connections
from django.db.utils import load_backend

from tests.replicas.cluster import AppServer, Cluster, missing, pgbouncer_missing
from tests.server_process import ROOT

CACHE_TABLE = "fieldline_cache"


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"the replica tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/replicas/" in str(item.fspath):
            item.add_marker(pytest.mark.replica)
            item.add_marker(pytest.mark.live)
            # One worker runs them all, on one temporary cluster (make test: --dist loadgroup).
            item.add_marker(pytest.mark.xdist_group("replica"))


@dataclass
class Deployment:
    cluster: Cluster
    servers: list[AppServer]
    through_bouncer: bool

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]


def manage(database_url: str, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DATABASE_URL=database_url, DEBUG="true", PYTHONDONTWRITEBYTECODE="1")
    subprocess.run(
        [sys.executable, "backend/manage.py", *args, "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    reason = missing()
    if reason:
        unavailable(reason)
    cluster = Cluster()
    servers: list[AppServer] = []
    try:
        cluster.start_primary()
        manage(cluster.primary.url(), "migrate", "--noinput")
        manage(cluster.primary.url(), "createcachetable", CACHE_TABLE)
        cluster.start_standby()
        bouncer = pgbouncer_missing() is None
        if bouncer:
            cluster.start_bouncer()
        elif os.environ.get("CI"):
            pytest.fail("pgbouncer is required under CI (make pgbouncer)", pytrace=False)
        logs = tmp_path_factory.mktemp("app-logs")
        for number in (1, 2):
            server = AppServer(
                database_url=cluster.bouncer_url() if bouncer else cluster.primary.url(),
                log_path=logs / f"app{number}.log",
                extra_env={
                    "DATABASE_REPLICA_URLS": cluster.standby.url(),
                    "DATABASE_POOLED": "true" if bouncer else "false",
                    "CACHE_URL": f"dbcache://{CACHE_TABLE}",
                    "FIELDLINE_REPLICA_MAX_LAG_S": "60",
                    "FIELDLINE_REPLICA_HEALTH_TTL_S": "0.5",
                    "LOG_LEVEL": "WARNING",
                    # Persistent connections to the pool: what would carry session state
                    # (prepared statements, cursors) from one transaction to the next.
                    "CONN_MAX_AGE": "60",
                },
            )
            servers.append(server.start())
        yield Deployment(cluster=cluster, servers=servers, through_bouncer=bouncer)
    finally:
        for server in servers:
            server.stop()
        cluster.stop()


@contextlib.contextmanager
def django_on(database_url_server, django_db_blocker) -> Iterator[None]:
    """This thread's Django connection on the temporary primary (directly, not through
    the pool), for setting data up and checking it; the test database afterwards."""
    before = connections["default"]
    before.close()
    settings_dict = {
        **before.settings_dict,
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "127.0.0.1",
        "PORT": database_url_server.port,
        "NAME": "fieldline",
        "USER": "postgres",
        "PASSWORD": "",
        "OPTIONS": {},
    }
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")
    connections["default"] = wrapper
    try:
        with django_db_blocker.unblock():
            yield
    finally:
        wrapper.close()
        connections["default"] = before

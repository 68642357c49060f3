"""The benchmark's own database: PostgreSQL when it can be reached, SQLite otherwise."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
# The bench drops and recreates its own database: by default the name given in DATABASE_URL
# with "_bench" appended, so two checkouts pointed at different databases never collide.
BENCH_DB_SUFFIX = "_bench"


def configure() -> str:
    """Point Django at a fresh bench database; returns its vendor ('postgresql'/'sqlite')."""
    sys.path[:0] = [str(ROOT / "backend"), str(ROOT)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldline.settings")
    # The callers choose DEBUG (the bench runs with it off, as deployed); only a bare call
    # gets the demo's settings.
    os.environ.setdefault("DEBUG", "true")
    base = os.environ.get("DATABASE_URL", DEFAULT_PG)
    vendor = "sqlite"
    name = base.rsplit("/", 1)[-1].split("?")[0] if base.startswith("postgres") else ""
    bench_db = os.environ.get("BENCH_DATABASE") or (
        "fieldline_bench" if name in ("", "postgres") else name + BENCH_DB_SUFFIX
    )
    if base.startswith("postgres"):
        try:
            import psycopg

            server = base.replace("postgres://", "postgresql://").rsplit("/", 1)[0]
            with psycopg.connect(server + "/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')
                conn.execute(f'CREATE DATABASE "{bench_db}"')
            os.environ["DATABASE_URL"] = base.rsplit("/", 1)[0] + f"/{bench_db}"
            vendor = "postgresql"
        except Exception as error:  # noqa: BLE001 - any failure means: use the fallback
            print(f"PostgreSQL unavailable ({error}); falling back to SQLite", file=sys.stderr)
    if vendor == "sqlite":
        path = ROOT / "var" / "bench.sqlite3"
        path.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return vendor

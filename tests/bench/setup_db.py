"""The benchmark's own database: PostgreSQL when it can be reached, SQLite otherwise."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "fieldline_bench"


def configure() -> str:
    """Point Django at a fresh bench database; returns its vendor ('postgresql'/'sqlite')."""
    sys.path[:0] = [str(ROOT / "backend"), str(ROOT)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldline.settings")
    os.environ["DEBUG"] = "true"
    base = os.environ.get("DATABASE_URL", DEFAULT_PG)
    vendor = "sqlite"
    if base.startswith("postgres"):
        try:
            import psycopg

            with psycopg.connect(
                base.replace("postgres://", "postgresql://"), autocommit=True
            ) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
                conn.execute(f"CREATE DATABASE {BENCH_DB}")
            os.environ["DATABASE_URL"] = base.rsplit("/", 1)[0] + f"/{BENCH_DB}"
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

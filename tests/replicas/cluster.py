"""A throwaway PostgreSQL primary and hot standby on spare loopback ports, made with the
server's own binaries (`initdb`, `pg_basebackup -R`), and a PgBouncer in transaction mode
in front of the primary. Run as the `postgres` OS user when the tests run as root (the
server refuses to run as root). Everything lives under one temporary directory that
`stop()` removes."""

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.server_process import ServerProcess, free_port

PG_ROOT = Path("/usr/lib/postgresql")
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
DATABASE = "fieldline"


def pg_bin() -> Path | None:
    """The newest installed server's binaries (Debian's layout), if any."""
    found = sorted(
        (p for p in PG_ROOT.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return found[-1] if found else None


def missing() -> str | None:
    """Why a cluster cannot be made here, or None."""
    binaries = pg_bin()
    if binaries is None:
        return f"no PostgreSQL server binaries under {PG_ROOT}"
    for name in ("initdb", "pg_ctl", "pg_basebackup", "psql"):
        if not (binaries / name).exists():
            return f"{name} missing in {binaries}"
    if os.geteuid() == 0 and not shutil.which("runuser"):
        return "running as root without runuser to become postgres"
    return None


def pgbouncer_missing() -> str | None:
    return None if Path(PGBOUNCER).exists() else "pgbouncer not installed (make pgbouncer)"


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@dataclass
class AppServer(ServerProcess):
    """A gunicorn app server (tests/server_process.py) with variables of its own."""

    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.extra_env}


@dataclass
class Server:
    data: Path
    port: int
    log: Path

    def url(self, database: str = DATABASE) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"


@dataclass
class Cluster:
    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fieldline-pg-")))
    primary: Server | None = None
    standby: Server | None = None
    bouncer_port: int | None = None
    bouncer_process: subprocess.Popen | None = None

    def run(self, *command: str, timeout: float = 120) -> str:
        binary = pg_bin()
        assert binary is not None
        argv = [str(binary / command[0]), *command[1:]]
        done = subprocess.run(
            _as_postgres(argv), capture_output=True, text=True, timeout=timeout, cwd=self.base
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)}: {done.stderr or done.stdout}")
        return done.stdout

    def sql(self, server: Server, query: str, database: str = DATABASE) -> str:
        return self.run(
            "psql", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "-d", database,
            "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", query,
        ).strip()  # fmt: skip

    def start_primary(self) -> Server:
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        data = self.base / "primary"
        self.run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        port = free_port()
        settings = {
            "port": port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.base}'",
            "wal_level": "replica",
            "max_wal_senders": 4,
            "hot_standby": "on",
            # A throwaway cluster: durability against power loss buys nothing here.
            "fsync": "off",
            "full_page_writes": "off",
            "shared_buffers": "'32MB'",
            "max_connections": 120,
            "jit": "off",
        }
        with open(data / "postgresql.conf", "a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self.primary = Server(data=data, port=port, log=self.base / "primary.log")
        self._ctl(self.primary, "start")
        self.sql(self.primary, f"CREATE DATABASE {DATABASE}", database="postgres")
        return self.primary

    def start_standby(self) -> Server:
        assert self.primary is not None
        data = self.base / "standby"
        self.run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres",
            "-D", str(data), "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        port = free_port()
        with open(data / "postgresql.auto.conf", "a") as conf:
            conf.write(f"port = {port}\n")
        self.standby = Server(data=data, port=port, log=self.base / "standby.log")
        self._ctl(self.standby, "start")
        return self.standby

    def _ctl(self, server: Server, action: str) -> None:
        args = ["pg_ctl", "-D", str(server.data), "-l", str(server.log), "-w", "-t", "60"]
        if action == "stop":
            args += ["-m", "fast"]
        self.run(*args, action)

    def load_schema_from(self, source_url: str) -> None:
        """The schema (and the few rows migrations write) of an already migrated database,
        copied into the primary: seconds, where running the migrations takes a minute."""
        assert self.primary is not None
        binary = pg_bin()
        assert binary is not None
        dump = subprocess.run(
            [str(binary / "pg_dump"), "--no-owner", "--no-privileges", "-d", source_url],
            capture_output=True,
            check=True,
            timeout=300,
        ).stdout
        subprocess.run(
            [str(binary / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", self.primary.url()],
            input=dump,
            capture_output=True,
            check=True,
            timeout=300,
        )

    def stop_standby(self) -> None:
        assert self.standby is not None
        self._ctl(self.standby, "stop")

    def restart_standby(self) -> None:
        assert self.standby is not None
        self._ctl(self.standby, "start")

    def wait_replayed(self, timeout_s: float = 30) -> None:
        """Until the standby has replayed everything the primary has written so far."""
        assert self.primary is not None
        assert self.standby is not None
        target = self.sql(self.primary, "SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            behind = self.sql(self.standby, f"SELECT pg_last_wal_replay_lsn() < '{target}'::pg_lsn")
            if behind == "f":
                return
            time.sleep(0.05)
        raise TimeoutError("the standby did not catch up")

    def start_bouncer(self) -> int:
        """PgBouncer, transaction pooling, in front of the primary."""
        assert self.primary is not None
        port = free_port()
        ini = self.base / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            f"{DATABASE} = host=127.0.0.1 port={self.primary.port} dbname={DATABASE}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\n"
            f"unix_socket_dir = {self.base}\n"
            "auth_type = trust\n"
            f"auth_file = {self.base / 'userlist.txt'}\n"
            "pool_mode = transaction\n"
            "default_pool_size = 10\nmax_client_conn = 400\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {self.base / 'pgbouncer.log'}\n"
        )
        (self.base / "userlist.txt").write_text('"postgres" ""\n')
        for path in (ini, self.base / "userlist.txt"):
            if os.geteuid() == 0:
                shutil.chown(path, "postgres", "postgres")
        self.bouncer_process = subprocess.Popen(
            _as_postgres([PGBOUNCER, str(ini)]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                self.run(
                    "psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                    "-d", DATABASE, "-XAtqc", "SELECT 1", timeout=5,
                )  # fmt: skip
                self.bouncer_port = port
                return port
            except RuntimeError:
                time.sleep(0.1)
        raise RuntimeError("pgbouncer did not come up")

    def bouncer_url(self) -> str:
        assert self.bouncer_port is not None
        return f"postgres://postgres@127.0.0.1:{self.bouncer_port}/{DATABASE}"

    def stop(self) -> None:
        if self.bouncer_process is not None and self.bouncer_process.poll() is None:
            os.killpg(self.bouncer_process.pid, 15)
            self.bouncer_process.wait(timeout=10)
        for server in (self.standby, self.primary):
            if server is not None and (server.data / "postmaster.pid").exists():
                with contextlib.suppress(RuntimeError):
                    self._ctl(server, "stop")
        shutil.rmtree(self.base, ignore_errors=True)

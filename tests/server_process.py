"""The app as a real server process (gunicorn on a free loopback port) against the test
database, for tests that kill it, restart it or watch its memory and connections."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
# One key for every server process of a run, as one deployment keeps its key across
# restarts and restores: signed values (pull cursors) stay valid from one to the next.
DEPLOYMENT_SECRET_KEY = secrets.token_urlsafe(64)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def current_database_url() -> str:
    """DATABASE_URL of the database this test runs on (pytest-django's test database)."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = quote(db.get("USER") or "postgres", safe="")
        if db.get("PASSWORD"):
            user += ":" + quote(db["PASSWORD"], safe="")
        host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
        return f"postgres://{user}@{host}:{port}/{db['NAME']}"
    return f"sqlite:///{Path(db['NAME']).resolve()}"


@dataclass
class ServerProcess:
    """One gunicorn master with one threaded worker; `kill()` is a SIGKILL of both."""

    database_url: str
    threads: int = 4
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
        env.update(
            DATABASE_URL=self.database_url,
            DEBUG="false",  # no per-connection query log growing under load
            JOBS_INLINE="true",  # no broker: jobs run in the request, as in the tests
            SECRET_KEY=DEPLOYMENT_SECRET_KEY,
            SECURE_SSL_REDIRECT="false",
            ALLOWED_HOSTS="127.0.0.1",
            PYTHONDONTWRITEBYTECODE="1",
            CONN_MAX_AGE="0",
        )
        return env

    def start(self, timeout_s: float = 30.0) -> "ServerProcess":
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "fieldline.wsgi:application",
                "--chdir",
                str(ROOT / "backend"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--worker-class",
                "gthread",
                "--threads",
                str(self.threads),
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=log,
            start_new_session=True,  # its own process group: kill() takes the worker too
        )
        if log is not subprocess.DEVNULL:
            log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/health", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not come up")

    def kill(self) -> None:
        """SIGKILL, as the kernel's OOM killer or a pulled plug would: no cleanup at all."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def worker_pid(self) -> int:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return int(children.read_text().split()[0])

    def worker_rss_kb(self) -> int:
        for line in Path(f"/proc/{self.worker_pid()}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

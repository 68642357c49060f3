"""The background worker loop (`manage.py process_jobs`)."""

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from reports.management.commands import process_jobs

ROOT = Path(__file__).resolve().parents[2]
MANAGE = ROOT / "backend" / "manage.py"

calls: list[str] = []


def counting_job() -> int:
    from accounts.models import User

    calls.append(f"counting {User.objects.count()}")
    return 2


def failing_job() -> int:
    calls.append("failing")
    raise RuntimeError("boom")


@pytest.fixture(autouse=True)
def _reset_calls():
    calls.clear()


@pytest.mark.django_db
def test_one_pass_runs_every_registered_job(monkeypatch, caplog):
    monkeypatch.setattr(
        process_jobs,
        "JOBS",
        [f"{__name__}.failing_job", f"{__name__}.counting_job"],
    )
    out = StringIO()
    call_command("process_jobs", "--once", stdout=out)
    assert calls == ["failing", "counting 0"]
    assert "worker ready (2 job(s) registered" in out.getvalue()
    assert "worker stopped" in out.getvalue()
    assert "job tests.fieldline.test_process_jobs.failing_job failed" in caplog.text


def test_an_unknown_job_is_an_error(monkeypatch):
    monkeypatch.setattr(process_jobs, "JOBS", ["reports.no_such_module.job"])
    with pytest.raises(CommandError, match="cannot import job"):
        call_command("process_jobs", "--once")


def test_interval_must_be_positive():
    with pytest.raises(CommandError, match="--interval"):
        call_command("process_jobs", "--interval", "0")


def worker_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")}
    env.update(DATABASE_URL=database_url, PYTHONDONTWRITEBYTECODE="1")
    return env


def test_worker_stops_cleanly_on_sigterm(tmp_path):
    worker = subprocess.Popen(
        [sys.executable, str(MANAGE), "process_jobs", "--interval", "60"],
        cwd=ROOT,
        env=worker_env(f"sqlite:///{tmp_path / 'worker.sqlite3'}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout.readline().startswith("worker ready"), worker.stderr.read()
        started = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        stdout, stderr = worker.communicate(timeout=15)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, stderr
    assert "worker stopped" in stdout
    # The signal cuts the 60-second wait short.
    assert time.monotonic() - started < 10


def test_worker_fails_without_a_database():
    result = subprocess.run(
        [sys.executable, str(MANAGE), "process_jobs", "--once"],
        cwd=ROOT,
        env=worker_env("postgres://fieldline:x@127.0.0.1:1/fieldline"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "worker ready" not in result.stdout
    assert "OperationalError" in result.stderr

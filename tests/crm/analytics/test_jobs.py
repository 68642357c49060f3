"""The analytics recompute as a real Celery job: a worker process on Redis runs it
against the test database."""

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from crm.analytics.models import AnalyticsRun
from crm.analytics.services import analytics_run_request
from stores.models import Store
from tests.crm.fixtures import AS_OF, EXPECTED_SEGMENTS, build_history

ROOT = Path(__file__).resolve().parents[3]
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
BROKER_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/7"


def redis_reachable() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1):
            return True
    except OSError:
        return False


def test_database_url() -> str:
    """The URL of the database this test runs on (the test database), for the worker."""
    conf = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{conf['NAME']}"
    user = conf["USER"] + (f":{conf['PASSWORD']}" if conf["PASSWORD"] else "")
    return f"postgres://{user}@{conf['HOST']}:{conf['PORT'] or 5432}/{conf['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_runs_the_requested_recompute(people):
    if not redis_reachable():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT}")
        pytest.skip(f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT}")
    history = build_history(people)
    run = analytics_run_request(actor=people["hq"], as_of=AS_OF)
    # A queue of its own, so that no other worker on this Redis takes the job.
    queue = f"fieldline-test-{uuid.uuid4().hex[:12]}"
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG",)}
    env.update(
        CELERY_BROKER_URL=BROKER_URL,
        DATABASE_URL=test_database_url(),
        DJANGO_SETTINGS_MODULE="fieldline.settings",
        PYTHONPATH=f"backend{os.pathsep}.",
        PYTHONDONTWRITEBYTECODE="1",
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "fieldline",
            "worker",
            "--pool=solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-Q",
            queue,
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Not the current app: later tests' jobs must keep running inline on the project's app.
    sender = Celery(broker=BROKER_URL, set_as_current=False)
    try:
        sender.send_task(
            "crm.jobs.analytics_recompute_job", kwargs={"run_id": str(run.pk)}, queue=queue
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and worker.poll() is None:
            if AnalyticsRun.objects.filter(pk=run.pk, finished_at__isnull=False).exists():
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        sender.close()

    run.refresh_from_db()
    assert run.finished_at is not None, output
    assert run.counts["churn_warnings"] == 6
    assert run.parameters["as_of"] == AS_OF.isoformat()
    assert "crm.jobs.analytics_recompute_job" in output
    segments = dict(Store.objects.values_list("name", "segment"))
    assert segments == EXPECTED_SEGMENTS
    assert AnalyticsRun.objects.count() == 1
    assert Store.objects.get(pk=history["s7"]).tags == ["churn_risk"]

"""What every bench case shares: the result row, timing and memory, the data set, servers."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from tests.bench.setup_db import ROOT

# The naive per-object baselines run at a constant rate per object; past this many their
# rate is measured on a sample, which keeps the larger sizes within minutes.
NAIVE_SAMPLE = 3_000


def sample_note(sample: int, size: int) -> str:
    return f" ({sample:,} of {size:,})" if sample < size else ""


@dataclass
class Row:
    case: str
    method: str
    size: int
    seconds: float
    per_second: float
    peak_mb: float
    ratio: str = ""
    # Peak memory of the measured side above what it held when the case started: the
    # bench process, or the server subprocess when `memory` says "server".
    growth_mb: float = 0.0
    memory: str = "bench"
    target: str = ""
    met: bool | None = None
    # CPU the server worker spent on the case (HTTP cases only): what is left of the time
    # is the database, the client and the loopback.
    server_cpu_s: float | None = None


def rss_of(pid: int | str = "self", field: str = "VmRSS:") -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak_rss(pid: int | str = "self") -> None:
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss_mb(pid: int | str = "self") -> float:
    return rss_of(pid, "VmHWM:")


def measure(case: str, method: str, size: int, work: Callable[[], Any]) -> Row:
    reset_peak_rss()
    before = rss_of()
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    return Row(case, method, size, seconds, size / seconds, peak, growth_mb=max(0.0, peak - before))


def http_call(url: str, method: str, path: str, token: str, body: Any = None) -> bytes:
    data = orjson.dumps(body) if body is not None else None
    request = urllib.request.Request(
        url + path,
        data=data,
        method=method,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return response.read()


def http_stream(url: str, path: str, token: str, chunk: int = 1 << 16) -> Iterator[bytes]:
    request = urllib.request.Request(url + path, headers={"Authorization": f"Token {token}"})
    with urllib.request.urlopen(request, timeout=600) as response:
        while block := response.read(chunk):
            yield block


class LiveServer:
    """Fieldline under gunicorn in its own process, as deployed: the server's memory and
    CPU are measured apart from the client's."""

    def __init__(self, *, workers: int = 2, threads: int = 4) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "fieldline.wsgi:application",
                "--chdir",
                str(ROOT / "backend"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(threads),
                "--timeout",
                "600",
                "--log-level",
                "warning",
            ],
            env=os.environ | {"PYTHONPATH": f"{ROOT / 'backend'}:{ROOT}"},
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/api/health", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)

    def call(self, method: str, path: str, token: str, body: Any = None) -> Any:
        """One request; the answer parsed with orjson, as a fast client would."""
        return orjson.loads(http_call(self.url, method, path, token, body))

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            return [int(pid) for pid in children.read_text().split()]
        return []

    def reset_peaks(self) -> dict[int, float]:
        """Clear the workers' peak RSS; returns each one's current RSS."""
        before = {}
        for pid in self.worker_pids():
            reset_peak_rss(pid)
            before[pid] = rss_of(pid)
        return before

    def peak_growth(self, before: dict[int, float]) -> tuple[float, float]:
        """(largest worker peak RSS, largest growth of a worker's peak over its start)."""
        peaks = {pid: peak_rss_mb(pid) for pid in before}
        if not peaks:
            return 0.0, 0.0
        return max(peaks.values()), max(peaks[pid] - before[pid] for pid in peaks)

    def cpu_seconds(self) -> float:
        """CPU time the workers have used so far (user + system)."""
        total = 0.0
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def make_user(role: str = "rep", region_code: str = "north") -> tuple[Any, str]:
    from knox.models import AuthToken

    from accounts.models import Region, User

    region, _ = Region.objects.get_or_create(
        code=region_code, defaults={"name": region_code.title()}
    )
    user = User.objects.create_user(
        username=f"bench-{role}-{uuid.uuid4().hex[:8]}", password="x", role=role, region=region
    )
    _, token = AuthToken.objects.create(user=user)
    return user, token


def make_world(
    stores: int, surveys_per_store: int = 1, *, region_code: str = "north"
) -> dict[str, Any]:
    """`stores` stores owned by a new rep, and surveys of them, written through the sync
    engine's bulk path (versioned, in the changelog, as if seeded)."""
    from sync.bulk import bulk_create_records

    rep, token = make_user("rep", region_code)
    store_ids = [uuid.uuid4() for _ in range(stores)]
    bulk_create_records(
        entity="store",
        rows=(
            {
                "id": pk,
                "name": f"Kiosk {n}",
                "lat": 53.55,
                "lon": 9.99,
                "region": region_code,
                "owner": rep.pk,
                "trade_area_type": "office",
                "tags": ["bench"],
            }
            for n, pk in enumerate(store_ids)
        ),
    )
    survey_ids = [uuid.uuid4() for _ in range(stores * surveys_per_store)]
    bulk_create_records(
        entity="survey",
        rows=(
            {
                "id": pk,
                "store": store_ids[n % stores],
                "footfall_weekday": 100 + n % 400,
                "equipment": ["microwave"] if n % 3 else [],
                "notes": "initial",
            }
            for n, pk in enumerate(survey_ids)
        ),
    )
    analyze()
    return {"rep": rep, "token": token, "stores": store_ids, "surveys": survey_ids}


def analyze() -> None:
    """Fresh planner statistics, as a live database has them (autovacuum would catch up
    only later): without, a query plans for the empty tables the bench started with."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def survey_update_pushes(surveys: list, *, device_id: str, per_push: int = 500):
    """The push bodies the push cases send: every survey's notes and footfall updated from
    version 1, `per_push` mutations a body."""
    for start in range(0, len(surveys), per_push):
        yield {
            "device_id": device_id,
            "mutations": [
                {
                    "mutation_id": str(uuid.uuid4()),
                    "entity": "survey",
                    "op": "update",
                    "record_id": str(pk),
                    "base_version": 1,
                    "client_ts": "2026-11-30T08:00:00Z",
                    "fields": {"notes": f"push {start}", "footfall_weekday": 321},
                }
                for pk in surveys[start : start + per_push]
            ],
        }


def naive_task_create(
    *, store_id, assignee_id, region_id, created_by, title: str, new_values: dict, **extra
) -> None:
    """The naive baseline of bulk task writes: one task and its changelog row at a time
    through the ORM, each in its own transaction, as a first version would."""
    from django.db import transaction
    from django.utils import timezone

    from sync.models import ChangeLog
    from tasks.models import Task, TaskStatus

    with transaction.atomic():
        now = timezone.now()
        task = Task.objects.create(
            store_id=store_id,
            assignee_id=assignee_id,
            created_by=created_by,
            type="visit",
            title=title,
            status=TaskStatus.OPEN,
            created_at=now,
            updated_at=now,
            scope_owner_id=assignee_id,
            scope_region_id=region_id,
            **extra,
        )
        ChangeLog.objects.create(
            seq=0,
            txid=0,
            entity="task",
            record_id=task.pk,
            version=1,
            op="create",
            new_values=new_values,
            source="dispatch",
            at=now,
        )

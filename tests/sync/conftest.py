"""Fixtures of the sync engine's tests."""

import pytest
from django.db import connection

from sync.batch import Batch


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks between concurrent transactions")


@pytest.fixture
def batch_runs(monkeypatch) -> list[int]:
    """Counts the engine's batch runs: a deadlock or lock timeout shows as a second run."""
    runs: list[int] = []
    run = Batch.run

    def counted(self, batch):
        runs.append(len(batch))
        return run(self, batch)

    monkeypatch.setattr(Batch, "run", counted)
    return runs

"""What the tests, linters and benches write stays out of git: a run leaves the work tree
clean, so `git status` shows only what an engineer changed."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Paths a tool writes into the tree: test artifacts (screenshots), hypothesis' example
# database, schemathesis' reports, caches, the demo's and the tests' SQLite files, the
# node clients' packages.
TOOL_OUTPUT = [
    "test-artifacts/hq/dashboard.png",
    ".hypothesis/examples/x",
    ".schemathesis/report.tar.gz",
    ".pytest_cache/v/cache/lastfailed",
    ".ruff_cache/CACHEDIR.TAG",
    ".mypy_cache/3.11/cache.db",
    ".coverage",
    "var/test-fieldline-123.sqlite3",
    "var/media/photos/x.jpg",
    "tests/clients/node_modules",
    "tests/fieldapp/node_modules/x/package.json",
    "backend/sync/__pycache__/merge.cpython-311.pyc",
]


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout"
)
@pytest.mark.parametrize("path", TOOL_OUTPUT)
def test_tool_output_is_ignored_by_git(path):
    answer = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, check=False
    )
    assert answer.returncode == 0, f"{path} would show up in git status"

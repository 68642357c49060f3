"""The README's examples run as written.

Structurally: commands go through `.venv/bin/python` (or `make` targets that exist), no
example pushes fixed ids (a second run would only replay the first), and a short quick
start comes before the long sections. Live: the shell block of "Using it" is run with
bash against a live server, as a developer would paste it.
"""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DEMO_URL = "http://127.0.0.1:8000"
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)


def commands() -> list[str]:
    """Shell blocks and inline code spans: everything a reader may paste."""
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", README, flags=re.DOTALL))
    return [*shell_blocks(), *inline]


def test_python_runs_from_the_projects_virtualenv():
    """A bare `python` is whichever one the shell finds (often none, or without Django);
    `python3 -c` one-liners that only read JSON or make a UUID need nothing installed."""
    for text in commands():
        for match in re.finditer(r"(?<![\w/.-])python3?\b(?: -c)?", text):
            assert match.group(0) == "python3 -c", f"{match.group(0)!r} in {text!r}"


def test_make_targets_named_exist():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, flags=re.MULTILINE))
    for text in commands():
        for target in re.findall(r"(?:^|\s)make ([a-z][\w-]*)", text):
            assert target in targets, target


def test_no_example_sends_a_fixed_id():
    for block in shell_blocks():
        assert not UUID.search(block), UUID.search(block).group(0)


def test_a_short_quick_start_comes_first():
    sections = re.findall(r"^## (.+)$", README, flags=re.MULTILINE)
    assert sections[0] == "Quick start"
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert len(quick.splitlines()) <= 15
    assert "make demo" in quick


def using_it_block() -> str:
    section = README.split("## Using it", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    return block


@pytest.mark.django_db(transaction=True)
@pytest.mark.live
def test_the_using_it_examples_run_against_a_live_server(live_server, people, world):
    """The block as printed, with the demo's address replaced by the live server's."""
    rep = people["rep_north"]
    rep.set_password("fieldline-demo")  # the demo's password, which the example sends
    rep.save(update_fields=["password"])
    script = using_it_block().replace(DEMO_URL, live_server.url)
    assert DEMO_URL not in script
    assert script.count(live_server.url) >= 6
    # Each answer on its own line, to read them back.
    script = script.replace("curl -s", "curl -s -w '\\n'")

    def run() -> list[str]:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr
        return [line for line in done.stdout.splitlines() if line.strip()]

    answers = run()
    me, stores, pull, applied, replayed = answers
    assert '"username":"rep-north-1"' in me.replace(" ", "")
    assert str(world["rep_north"]["store"]) in stores
    assert '"changes"' in pull
    assert '"cursor"' in pull
    assert '"status":"applied"' in applied
    assert "replayed" not in applied
    assert '"replayed":true' in replayed
    # Run again as written: fresh ids, so it applies again instead of replaying.
    again = run()
    assert '"status":"applied"' in again[3]
    assert "replayed" not in again[3]

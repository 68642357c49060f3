"""api_schema/openapi.yaml is generated from the code; this test fails when it drifts.

The schema is regenerated in-process exactly as `make schema` does it
(`manage.py spectacular --file api_schema/openapi.yaml --validate`) and compared byte for
byte with the committed file.
"""

import difflib
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "api_schema" / "openapi.yaml"
OUT_OF_DATE = "api_schema/openapi.yaml is out of date; run `make schema`"
DIFF_LINES = 80


def test_committed_schema_matches_the_code(tmp_path):
    generated = tmp_path / "openapi.yaml"
    # --validate checks the result against the OpenAPI 3 JSON schema, as `make schema` does.
    call_command("spectacular", "--file", str(generated), "--validate")

    if not COMMITTED.is_file():
        pytest.fail(f"{OUT_OF_DATE} (the file does not exist)")
    expected = COMMITTED.read_text(encoding="utf-8")
    actual = generated.read_text(encoding="utf-8")
    if actual != expected:
        diff = list(
            difflib.unified_diff(
                expected.splitlines(),
                actual.splitlines(),
                fromfile="api_schema/openapi.yaml (committed)",
                tofile="generated from the code",
                lineterm="",
            )
        )
        shown = "\n".join(diff[:DIFF_LINES])
        more = f"\n... {len(diff) - DIFF_LINES} more diff lines" if len(diff) > DIFF_LINES else ""
        pytest.fail(f"{OUT_OF_DATE}\n{shown}{more}", pytrace=False)

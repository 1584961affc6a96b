"""The schema page is generated from the field table and must not drift from it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_schema_page_matches_the_field_table():
    proc = subprocess.run(
        [sys.executable, "-m", "gensql", "schema", "--format", "markdown"], capture_output=True, text=True, check=True
    )
    page = (ROOT / "docs" / "schema.md").read_text()
    assert page.endswith(proc.stdout)
    assert "| model_id | string | LLM model id used for the call. | llm_model_id, model_id |" in page

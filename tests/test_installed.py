"""gensql works installed: `pip install .` (not editable) into a fresh virtual environment.

The project is copied to a temporary directory first (pip builds in the source tree; this keeps the
checkout clean and proves the package declares every file it needs: views/*.sql, the named queries
shipped as ``gensql.queries``). Dependencies come from the package index (pip's cache makes it quick,
about 20 s). Then, from another directory, ``gensql query --list``, ``gensql refresh`` and
``gensql sql`` run with the installed package only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hand_store import HandStore

pytestmark = pytest.mark.slow  # a fresh virtual environment and a pip install: ~20 s

REPO = Path(__file__).resolve().parents[1]
SHIPPED = {
    "cohort_coverage",
    "latest_attempts",
    "lineage",
    "overview",
    "problems_summary",
    "score_pivot",
    "tokens_by_model",
}


def test_pip_install_then_run_from_another_directory(tmp_path):
    src = tmp_path / "src"
    top_level = {".venv", ".git", "data", "bench", "tests", "build", "docs", "notebooks"}
    anywhere = shutil.ignore_patterns("*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis")

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = set(anywhere(folder, names))
        return skipped | (top_level & set(names) if Path(folder) == REPO else set())

    shutil.copytree(REPO, src, ignore=ignore)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "GENSQL_DATA_ROOT", "GENSQL_INDEX_DIR", "GENSQL_QUERIES_DIR")
    }
    pip = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(src)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert pip.returncode == 0, pip.stderr[-3000:]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def gensql(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(venv / "bin" / "gensql"), *args], capture_output=True, text=True, cwd=elsewhere, env=env, timeout=120
        )

    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import gensql, gensql.queries; print(gensql.__file__)"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
    )
    assert where.returncode == 0, where.stderr
    assert where.stdout.startswith(str(venv)), where.stdout  # the installed copy, not the checkout

    listed = gensql("query", "--list", "--format", "csv")
    assert listed.returncode == 0, listed.stderr
    names = {line.split(",")[0] for line in listed.stdout.splitlines()[1:]}
    assert SHIPPED <= names

    s = HandStore(tmp_path / "store")
    s.draft("d1", at=10)
    s.essay("e1", "d1", at=20)
    s.evaluation("v1", "e1", at=30)
    refreshed = gensql("refresh", "--data-root", str(s.data), "-q")
    assert refreshed.returncode == 0, refreshed.stderr
    answered = gensql(
        "sql",
        "SELECT stage, count(*) AS n FROM documents GROUP BY 1 ORDER BY 1",
        "--data-root",
        str(s.data),
        "--format",
        "csv",
    )
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout == "stage,n\ndraft,1\nessay,1\nevaluation,1\n"
    named = gensql("query", "lineage", "-p", "gen_id=v1", "--data-root", str(s.data), "--format", "csv")
    assert named.returncode == 0, named.stderr
    assert [line.split(",")[3] for line in named.stdout.splitlines()[1:]] == ["d1", "e1", "v1"]

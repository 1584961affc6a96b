"""An output file that cannot be written is one line on stderr and exit 2, in every command.

Each command runs through the real entry point (``python -m gensql``) on the indexed sample store,
with ``-o`` (or ``--db``) pointing into a folder that does not exist or a file system that refuses
files. The message names the path and says what to do; no traceback.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from report_store import sample_store

BAD = "/nonexistent/dir/x.csv"

COMMANDS = {
    "sql": ["sql", "SELECT 1 AS one", "-o", BAD],
    "query": ["query", "overview", "-o", BAD],
    "views": ["views", "-o", BAD],
    "schema": ["schema", "-o", BAD],
    "summary": ["summary", "-o", "/nonexistent/dir/x.txt"],
    "search": ["search", "essay", "-o", BAD],
    "lineage": ["lineage", "{essay}", "-o", "/nonexistent/dir/x.txt"],
    "cohort list": ["cohort", "list", "-o", BAD],
    "prices suggest": ["prices", "suggest", "-o", BAD],
    "prices check": ["prices", "check", "-o", BAD],
    "report tokens": ["report", "tokens", "-o", BAD],
    "report scores": ["report", "scores", "-o", BAD],
    "export sqlite": ["export", "sqlite", "--db", "/proc/x.sqlite"],
}


@pytest.fixture(scope="module")
def data():
    import gensql

    root, _truth = sample_store()
    con = gensql.connect(root)
    essay = con.sql("SELECT gen_id FROM gens WHERE stage = 'essay' ORDER BY gen_id LIMIT 1").fetchall()[0][0]
    con.close()
    return root, essay


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_an_unwritable_output_is_one_line_and_exit_2(data, name):
    root, essay = data
    args = [a.replace("{essay}", essay) for a in COMMANDS[name]]
    if name not in ("schema", "prices suggest"):
        args += ["--data-root", str(root)]
    if name == "prices suggest":
        args += ["--data-root", str(root)]
    proc = subprocess.run([sys.executable, "-m", "gensql", *args], capture_output=True, text=True)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, (name, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1, (name, proc.stderr)
    path = args[args.index("--db") + 1] if "--db" in args else args[args.index("-o") + 1]
    assert lines[0].startswith("gensql: error: cannot write ") and path in lines[0], lines[0]
    assert proc.stdout == ""


def test_an_unknown_view_points_at_gensql_views(data):
    """DuckDB suggests its own catalog (``duckdb_views``); the user needs gensql's views."""
    root, _ = data
    proc = subprocess.run(
        [sys.executable, "-m", "gensql", "sql", "SELECT * FROM nosuchview", "--data-root", str(root)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "nosuchview does not exist" in proc.stderr and "`gensql views`" in proc.stderr
    assert "duckdb_views" not in proc.stderr


def test_a_cohort_list_of_a_missing_data_root_is_an_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "gensql", "cohort", "list", "--data-root", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("gensql: error: no data root at ") and len(proc.stderr.splitlines()) == 1


def test_a_cohort_query_that_finds_nothing_writes_nothing(data, tmp_path):
    import shutil

    root, _ = data
    copy = tmp_path / "data"
    shutil.copytree(root, copy, symlinks=True)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gensql",
            "cohort",
            "create",
            "empty",
            "--from-sql",
            "SELECT stage, gen_id FROM gens WHERE template_id = $t",
            "-p",
            "t=no-such-template",
            "--data-root",
            str(copy),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stderr
    assert "returned no rows" in proc.stderr and not (copy / "cohorts" / "empty").exists()


def test_a_checkouts_own_queries_shadow_nothing(tmp_path):
    """Run beside a copy of the shipped queries (a checkout's queries/ with an installed gensql): no
    warning; a query changed in that folder is the one that shadows, and the only one named."""
    from importlib import resources

    folder = tmp_path / "queries"
    folder.mkdir()
    for entry in resources.files("gensql.queries").iterdir():
        if entry.name.endswith(".sql"):
            (folder / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")

    def listing() -> subprocess.CompletedProcess:
        env = {k: v for k, v in __import__("os").environ.items() if k != "GENSQL_QUERIES_DIR"}
        return subprocess.run(
            [sys.executable, "-m", "gensql", "query", "--list"], cwd=tmp_path, env=env, capture_output=True, text=True
        )

    quiet = listing()
    assert quiet.returncode == 0 and "shadows" not in quiet.stderr, quiet.stderr
    (folder / "overview.sql").write_text("-- mine\nSELECT 1 AS one\n", encoding="utf-8")
    loud = listing()
    assert (
        [line for line in loud.stderr.splitlines() if "shadows" in line]
        == [line for line in loud.stderr.splitlines() if "'overview'" in line]
        != []
    )

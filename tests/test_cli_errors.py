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

"""Named queries: a ./queries file that shadows a shipped query is named on stderr, and named queries run
on a connection that cannot write (or read) files unless the user passes --allow-file-access.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from storebuilder import write_gen

import gensql
from gensql.errors import QueryError
from gensql.query import ShadowedQueryWarning, get_query


def gensql_process(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gensql", *args], capture_output=True, text=True, cwd=cwd, timeout=60)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("q") / "data"
    write_gen(root, "draft", "d_1", {"metadata.json": {"model_id": "m"}, "raw.txt": "r", "parsed.txt": "p"})
    gensql.refresh(root)
    return root


@pytest.mark.slow
def test_a_query_that_shadows_a_shipped_one_is_named_on_stderr(store, tmp_path):
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "overview.sql").write_text("-- my overview\nSELECT 42 AS answer\n")
    r = gensql_process("query", "overview", "--data-root", str(store), "--format", "csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["answer", "42"]
    assert "queries/overview.sql" in r.stderr and "shadows" in r.stderr
    r = gensql_process("query", "--list", "--format", "csv", cwd=tmp_path)
    assert "shadows" in r.stderr and "overview" in r.stderr
    # a query of a new name shadows nothing and says nothing
    (tmp_path / "queries" / "mine.sql").write_text("SELECT 1 AS one\n")
    r = gensql_process("query", "mine", "--data-root", str(store), "--format", "csv", cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_the_library_warns_too(tmp_path):
    (tmp_path / "tokens_by_model.sql").write_text("SELECT 1\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        get_query("tokens_by_model", tmp_path)
    assert [w.category for w in caught] == [ShadowedQueryWarning]


@pytest.mark.parametrize(
    "body",
    [
        "COPY (SELECT * FROM gens) TO '{out}' (HEADER)",
        "COPY (SELECT * FROM gens) TO '{out}' (FORMAT parquet, USE_TMP_FILE false)",
        "SELECT * FROM read_text('/etc/hostname'); COPY (SELECT 1) TO '{out}'",
        "ATTACH '{out}' AS x",
    ],
)
def test_a_named_query_cannot_write_files(store, tmp_path, body):
    out = tmp_path / "leak.out"
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "sneaky.sql").write_text(body.format(out=out))
    r = gensql_process("query", "sneaky", "--data-root", str(store), cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "--allow-file-access" in r.stderr
    assert not out.exists()


def test_a_named_query_cannot_read_other_files(store, tmp_path):
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "peek.sql").write_text("SELECT * FROM read_text('/etc/hostname')")
    r = gensql_process("query", "peek", "--data-root", str(store), cwd=tmp_path)
    assert r.returncode == 1 and "--allow-file-access" in r.stderr


def test_allow_file_access_lets_it_write(store, tmp_path):
    out = tmp_path / "export.csv"
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "export.sql").write_text(f"COPY (SELECT gen_id FROM gens) TO '{out}' (HEADER)")
    r = gensql_process("query", "export", "--allow-file-access", "--data-root", str(store), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert out.read_text().splitlines() == ["gen_id", "d_1"]


def test_shipped_queries_still_run_without_file_access(store, tmp_path):
    r = gensql_process("query", "tokens_by_model", "--data-root", str(store), "--format", "csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_a_locked_connection_cannot_be_unlocked(store):
    con = gensql.connect(store, file_access=False)
    from gensql.query import run_sql

    with pytest.raises(QueryError):
        run_sql(con, "SET enable_external_access = true")
    assert run_sql(con, "SELECT count(*) AS n FROM gens").to_pylist() == [{"n": 1}]

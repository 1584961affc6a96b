"""CSV that is safe to open in a spreadsheet: text a spreadsheet would run as a formula gets a leading '.

Model outputs are untrusted text. In every CSV gensql writes (the CLI's --format csv, the server's
downloads) a text cell starting with = + - @ tab or CR is prefixed with ' (OWASP's rule); numbers,
negative ones included, stay numbers; --raw-csv keeps the exact text, and JSON and Parquet always do.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import warnings
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from storebuilder import write_gen

import gensql

FORMULAS = ["=1+2", "=cmd|' /C calc'!A0", "@SUM(A1)", "+1", "-2+3"]
SAFE = ["plain", "a=b", "x-1"]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("csv") / "data"
    for i, model in enumerate(FORMULAS + SAFE):
        write_gen(root, "draft", f"d_{i:02d}", {"metadata.json": {"model_id": model}, "raw.txt": "r"})
    gensql.refresh(root)
    return root


def gensql_process(*args: str) -> subprocess.CompletedProcess:
    """Run gensql; stdout decoded as is (text mode would turn a CR inside a CSV field into a newline)."""
    r = subprocess.run([sys.executable, "-m", "gensql", *args], capture_output=True, timeout=120)
    return subprocess.CompletedProcess(r.args, r.returncode, r.stdout.decode(), r.stderr.decode())


#: The store's model ids, two numbers and text starting with a tab and a carriage return (refresh strips those).
SQL = "SELECT model_id, -1.5 AS delta, -3 AS n, chr(9) || '=1' AS tab, chr(13) || '=1' AS cr FROM gens ORDER BY gen_id"


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_cli_csv_neutralises_formulas_and_keeps_numbers(store):
    r = gensql_process("sql", SQL, "--data-root", str(store), "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = parsed(r.stdout)
    assert rows[0] == ["model_id", "delta", "n", "tab", "cr"]
    assert [row[0] for row in rows[1:]] == ["'" + f for f in FORMULAS] + SAFE
    assert {tuple(row[1:3]) for row in rows[1:]} == {("-1.5", "-3")}  # numbers are not text: never prefixed
    assert {tuple(row[3:]) for row in rows[1:]} == {("'\t=1", "'\r=1")}


def test_raw_csv_keeps_the_exact_text(store):
    r = gensql_process("sql", SQL, "--data-root", str(store), "--format", "csv", "--raw-csv")
    assert r.returncode == 0, r.stderr
    assert [row[0] for row in parsed(r.stdout)[1:]] == FORMULAS + SAFE
    assert {tuple(row[3:]) for row in parsed(r.stdout)[1:]} == {("\t=1", "\r=1")}


def test_named_query_csv_and_json(store, tmp_path):
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "models.sql").write_text("-- models\n" + SQL)
    base = ("query", "models", "--queries-dir", str(queries), "--data-root", str(store))
    r = gensql_process(*base, "--format", "csv")
    assert [row[0] for row in parsed(r.stdout)[1:]] == ["'" + f for f in FORMULAS] + SAFE
    r = gensql_process(*base, "--format", "json")
    assert [row["model_id"] for row in json.loads(r.stdout)] == FORMULAS + SAFE  # JSON is exact


def test_server_downloads(store):
    pytest.importorskip("starlette")
    pytest.importorskip("httpx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from starlette.testclient import TestClient

    from gensql.serve import create_app

    app = create_app(store)
    with TestClient(app) as c:
        gens = parsed(c.get("/generations", params={"format": "csv", "sort": "gen_id", "dir": "asc"}).text)
        column = gens[0].index("model_id")
        assert sorted(row[column] for row in gens[1:]) == sorted(["'" + f for f in FORMULAS] + SAFE)
        console = parsed(c.get("/sql", params={"q": SQL, "format": "csv"}).text)
        assert [row[0] for row in console[1:]] == ["'" + f for f in FORMULAS] + SAFE
        exact = pq.read_table(io.BytesIO(c.get("/sql", params={"q": SQL, "format": "parquet"}).content))
        assert exact.column("model_id").to_pylist() == FORMULAS + SAFE
    app.state.workbench.close()


@pytest.mark.parametrize("kind", ["string", "large_string", "string_view"])
def test_every_arrow_string_type_is_neutralised(kind):
    """DuckDB gives plain and large strings, polars (the reports) string views: one rule for all."""
    import pyarrow as pa

    from gensql.render import render_bytes

    table = pa.table({"s": pa.array(["=1+2", "ok", None], getattr(pa, kind)()), "n": [-1, 2, None]})
    assert render_bytes(table, "csv").decode().splitlines() == ["s,n", "'=1+2,-1", "ok,2", ","]

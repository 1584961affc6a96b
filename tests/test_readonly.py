"""Read-only means read-only: no statement run through a read-only door changes the index or anything else.

The doors are the web SQL console (over HTTP), named queries (`gensql query`) and `gensql sql`, all on
gensql.readonly's connection. Every statement kind DuckDB has runs alone and wrapped (EXPLAIN, EXPLAIN
ANALYZE, a CTE, a subquery); afterwards the index files and the catalog are byte-identical, no file
appeared outside, every view gives what it gave before to another user, and the answer was a result
or a one-line error (never a traceback or a 500). docs/hardening.md ("Read-only") states the guarantee.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from storebuilder import tree_digest, write_gen

import gensql
from gensql.errors import QueryError
from gensql.query import run_sql
from gensql.readonly import ReadOnlyIndex, connect_readonly

pytest.importorskip("starlette", reason="gensql serve needs the serve extra: pip install -e '.[test]'")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx: pip install -e '.[test]'")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient

from gensql.serve import create_app  # noqa: E402

#: The query inside the statements that take one: it selects nothing, so a COPY of it empties a file.
INNER = "SELECT * FROM gens WHERE false"

#: Every statement kind (name, SQL). {part} is a Parquet file of the index, {catalog} the snapshot's
#: DuckDB catalog, {out} a file outside the index, {outdir} a folder outside; {q} the inner query.
STATEMENTS: list[tuple[str, str]] = [
    ("copy-to-index-file", "COPY ({q}) TO '{part}' (FORMAT parquet)"),
    ("copy-to-index-file-no-tmp", "COPY ({q}) TO '{part}' (FORMAT parquet, USE_TMP_FILE false)"),
    ("copy-to-outside", "COPY ({q}) TO '{out}' (HEADER)"),
    ("copy-from", "COPY gens FROM '{part}' (FORMAT parquet)"),
    ("copy-database", "COPY FROM DATABASE views TO memory"),
    ("export-database", "EXPORT DATABASE '{outdir}'"),
    ("attach-catalog", "ATTACH '{catalog}' AS c"),
    ("attach-new", "ATTACH '{out}' AS x"),
    ("detach", "DETACH views"),
    ("install", "INSTALL httpfs"),
    ("load", "LOAD httpfs"),
    ("load-file", "LOAD '{out}'"),
    ("set-external-access", "SET enable_external_access = true"),
    ("set-memory", "SET memory_limit = '1TB'"),
    ("set-temp-dir", "SET temp_directory = '{outdir}'"),
    ("set-allowed-dirs", "SET allowed_directories = ['/']"),
    ("set-global-threads", "SET GLOBAL threads = 64"),
    ("reset-lock", "RESET lock_configuration"),
    ("create-replace-view", "CREATE OR REPLACE VIEW gens AS SELECT 'PWNED' AS gen_id"),
    ("create-view", "CREATE VIEW pwned AS {q}"),
    ("create-table", "CREATE TABLE t AS {q}"),
    ("create-macro", "CREATE OR REPLACE MACRO problems() AS TABLE SELECT 1"),
    ("create-schema", "CREATE SCHEMA s"),
    ("create-sequence", "CREATE SEQUENCE seq"),
    ("create-secret", "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'k', SECRET 's')"),
    ("drop-view", "DROP VIEW scores"),
    ("drop-schema", "DROP SCHEMA main CASCADE"),
    ("alter-view", "ALTER VIEW gens RENAME TO gens_old"),
    ("insert", "INSERT INTO gens {q}"),
    ("update", "UPDATE gens SET gen_id = 'x'"),
    ("delete", "DELETE FROM gens"),
    ("pragma-profile", "PRAGMA profiling_output = '{out}'"),
    ("pragma-memory", "PRAGMA memory_limit = '1TB'"),
    ("call-checkpoint", "CALL checkpoint()"),
    ("checkpoint", "CHECKPOINT"),
    ("force-checkpoint", "FORCE CHECKPOINT"),
    ("vacuum", "VACUUM"),
    ("prepare-execute", "PREPARE p AS COPY ({q}) TO '{part}' (FORMAT parquet); EXECUTE p"),
    ("multiple", "SELECT 1; COPY ({q}) TO '{part}' (FORMAT parquet); DROP VIEW gens"),
    ("read-other-file", "SELECT * FROM read_text('/etc/hostname')"),
]

#: How a statement is wrapped: alone, explained, explained and run, its query in a CTE or a subquery.
WRAPS: dict[str, tuple[str, str]] = {
    "alone": ("{s}", INNER),
    "explain": ("EXPLAIN {s}", INNER),
    "explain-analyze": ("EXPLAIN ANALYZE {s}", INNER),
    "cte": ("{s}", "WITH w AS (SELECT * FROM gens) SELECT * FROM w WHERE false"),
    "subquery": ("{s}", "SELECT * FROM (SELECT * FROM gens) AS sub WHERE false"),
}
#: Statements that must fail (they would change the index, the catalog or the settings if they ran).
MUST_FAIL = {
    "copy-to-index-file",
    "copy-to-index-file-no-tmp",
    "copy-to-outside",
    "export-database",
    "attach-catalog",
    "attach-new",
    "install",
    "set-external-access",
    "set-memory",
    "set-temp-dir",
    "set-allowed-dirs",
    "create-replace-view",
    "create-table",
    "drop-view",
    "alter-view",
    "delete",
    "prepare-execute",
    "multiple",
    "read-other-file",
}
#: What every view gives: checked after each statement, from another connection.
FINGERPRINT_SQL = (
    "SELECT (SELECT count(*) FROM gens), (SELECT min(gen_id) FROM gens), (SELECT count(*) FROM scores),"
    " (SELECT count(*) FROM problems), (SELECT count(*) FROM texts), (SELECT count(*) FROM membership)"
)


#: The quick loop (``-m "not slow"``) runs every statement alone and each other wrap over these: a
#: write through the inner query, one through a statement around it, and a setting. ``make test`` runs
#: the whole matrix.
QUICK_WRAPPED = {"copy-to-index-file", "insert", "set-external-access"}


def cases(names: set[str] | None = None):
    for name, template in STATEMENTS:
        for wrap in WRAPS:
            if names is None or name in names:
                quick = wrap == "alone" or name in QUICK_WRAPPED
                marks = () if quick else (pytest.mark.slow,)
                yield pytest.param(name, template, wrap, id=f"{name}-{wrap}", marks=marks)


def build(template: str, wrap: str, paths: dict[str, str]) -> str:
    outer, inner = WRAPS[wrap]
    return outer.format(s=template.format(q=inner, **paths))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    base = tmp_path_factory.mktemp("ro")
    root = base / "data"
    write_gen(root, "draft", "d_1", {"metadata.json": {"model_id": "m", "template_id": "t"}, "raw.txt": "r"})
    write_gen(root, "essay", "e_1", {"metadata.json": {"model_id": "m", "parent_gen_id": "d_1"}, "parsed.txt": "p"})
    write_gen(
        root,
        "evaluation",
        "v_1",
        {"metadata.json": {"model_id": "j", "parent_gen_id": "e_1"}, "parsed.txt": "SCORE: 7"},
    )
    gensql.refresh(root)
    snapshot = (root / "index" / "current").resolve()
    outside = base / "outside"
    outside.mkdir()
    paths = {
        "part": str(next((snapshot / "gens").glob("stage=essay/*.parquet"))),
        "catalog": str(snapshot / "gensql.duckdb"),
        "out": str(outside / "leak.out"),
        "outdir": str(outside / "leak-dir"),
    }
    con = gensql.connect(root)
    fingerprint = con.sql(FINGERPRINT_SQL).fetchall()
    con.close()
    return {"root": root, "outside": outside, "paths": paths, "fingerprint": fingerprint}


@pytest.fixture(scope="module")
def client(store):
    app = create_app(store["root"])
    with TestClient(app) as c:
        yield c
    app.state.workbench.close()


def unchanged(store, before) -> None:
    assert tree_digest(store["root"]) == before, "a file of the store or index changed"
    assert list(store["outside"].iterdir()) == [], "a file appeared outside the index"


def console_fingerprint(client) -> list:
    r = client.get("/sql", params={"q": FINGERPRINT_SQL, "format": "json"})
    assert r.status_code == 200, r.text
    return [tuple(row.values()) for row in r.json()]


@pytest.mark.parametrize("name,template,wrap", list(cases()))
def test_console_cannot_write(store, client, name, template, wrap):
    before = tree_digest(store["root"])
    sql = build(template, wrap, store["paths"])
    r = client.get("/sql", params={"q": sql})
    assert r.status_code in (200, 400), r.text[:500]
    error = re.search(r'<pre class="error-message" id="sql-error">(.*?)</pre>', r.text, re.DOTALL)
    if name in MUST_FAIL and wrap != "explain":
        assert r.status_code == 400 and error, f"{sql!r} ran"
    if error:
        assert html.unescape(error.group(1)).strip(), "an empty error"
        assert "Traceback" not in r.text
    unchanged(store, before)
    assert console_fingerprint(client) == store["fingerprint"], "the views changed for the next user"


@pytest.fixture(scope="module")
def readonly_index(store):
    index = ReadOnlyIndex((store["root"] / "index" / "current").resolve())
    yield index
    index.close()


@pytest.mark.parametrize("name,template,wrap", list(cases()))
def test_readonly_connection_cannot_write(store, readonly_index, name, template, wrap):
    """What `gensql sql` and `gensql query` run on (connect_readonly is one cursor of a ReadOnlyIndex)."""
    before = tree_digest(store["root"])
    sql = build(template, wrap, store["paths"])
    con = readonly_index.cursor()
    try:
        run_sql(con, sql)
    except QueryError as exc:
        assert str(exc).strip()
    else:
        assert name not in MUST_FAIL or wrap == "explain", f"{sql!r} ran"
    finally:
        con.close()
    unchanged(store, before)
    other = readonly_index.cursor()
    try:
        assert other.sql(FINGERPRINT_SQL).fetchall() == store["fingerprint"]
    finally:
        other.close()


def gensql_process(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gensql", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def check_process(r: subprocess.CompletedProcess, name: str) -> None:
    assert "Traceback" not in r.stderr, r.stderr
    if name in MUST_FAIL:
        assert r.returncode == 1, (r.returncode, r.stderr)
    if r.returncode:
        assert r.stderr.startswith("gensql: error: "), r.stderr
        assert "--allow-file-access" in r.stderr or "Error" in r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name,template,wrap", list(cases()))
def test_named_query_cannot_write(store, tmp_path, name, template, wrap):
    before = tree_digest(store["root"])
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "sneaky.sql").write_text(build(template, wrap, store["paths"]))
    r = gensql_process("query", "sneaky", "--data-root", str(store["root"]), cwd=tmp_path)
    if wrap == "explain":
        assert "Traceback" not in r.stderr
    else:
        check_process(r, name)
    unchanged(store, before)


@pytest.mark.slow
@pytest.mark.parametrize("name,template,wrap", list(cases()))
def test_cli_sql_cannot_write(store, tmp_path, name, template, wrap):
    before = tree_digest(store["root"])
    r = gensql_process("sql", build(template, wrap, store["paths"]), "--data-root", str(store["root"]), cwd=tmp_path)
    if wrap == "explain":
        assert "Traceback" not in r.stderr
    else:
        check_process(r, name)
    unchanged(store, before)


def test_the_attack_of_issue_21_is_refused_with_one_line(store, tmp_path):
    """The statement that emptied every essay of the live index: each door says what happened in one line."""
    before = tree_digest(store["root"])
    attack = f"EXPLAIN ANALYZE COPY ({INNER}) TO '{store['paths']['part']}' (FORMAT parquet)"
    r = gensql_process("sql", attack, "--data-root", str(store["root"]), cwd=tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    lines = r.stderr.splitlines()
    assert lines[0].startswith("gensql: error: Permission Error: ") and "read-only" in lines[0], r.stderr
    assert "--allow-file-access" in r.stderr and "Traceback" not in r.stderr
    unchanged(store, before)


@pytest.mark.slow
def test_allow_file_access_still_lets_a_trusted_query_write(store, tmp_path):
    out = tmp_path / "export.csv"
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "export.sql").write_text(f"COPY (SELECT gen_id FROM gens ORDER BY 1) TO '{out}' (HEADER)")
    r = gensql_process("query", "export", "--allow-file-access", "--data-root", str(store["root"]), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert out.read_text().splitlines() == ["gen_id", "d_1", "e_1", "v_1"]
    r = gensql_process("sql", f"COPY (SELECT 1 AS a) TO '{out}'", "--data-root", str(store["root"]), cwd=tmp_path)
    assert r.returncode == 1 and "--allow-file-access" in r.stderr
    r = gensql_process(
        "sql",
        f"COPY (SELECT 1 AS a) TO '{out}'",
        "--allow-file-access",
        "--data-root",
        str(store["root"]),
        cwd=tmp_path,
    )
    assert r.returncode == 0 and out.read_text().splitlines() == ["a", "1"]


def test_temporary_objects_are_private_to_one_request(store, client):
    r = client.get("/sql", params={"q": "CREATE TEMP VIEW gens AS SELECT 'PWNED' AS gen_id; SELECT gen_id FROM gens"})
    assert r.status_code == 200 and "PWNED" in r.text  # the statement's own connection sees its own view...
    assert console_fingerprint(client) == store["fingerprint"]  # ...and nobody else does


def test_the_connection_reads_no_other_file_and_spills_nowhere_near_the_index(store):
    con = connect_readonly(store["root"])
    try:
        external, locked, temp = con.sql(
            "SELECT current_setting('enable_external_access'), current_setting('lock_configuration'),"
            " current_setting('temp_directory')"
        ).fetchall()[0]
        assert (external, locked) == (False, True)
        assert not temp.startswith(str(store["root"]))  # spills into its own temporary folder, never the index
    finally:
        con.close()

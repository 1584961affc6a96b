"""Snapshot consistency of connections and the catalog file written by each refresh."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from hand_store import HandStore, rows

import gensql
from gensql.catalog import describe_views
from gensql.errors import IndexNotFoundError

VIEWS = (
    "gens",
    "documents",
    "membership",
    "attempts",
    "latest_attempt",
    "lineage",
    "token_usage",
    "scores",
    "problems",
    "scan_errors",
)


def small_store(root: Path) -> HandStore:
    s = HandStore(root)
    s.draft("d1", at=10)
    s.essay("e1", "d1", at=20)
    s.evaluation("v1", "e1", at=30)
    s.evaluation("v2", "gone", at=40)
    s.cohort("A", [("draft", "d1"), ("essay", "nope")])
    s.refresh()
    return s


def counts(con) -> dict[str, int]:
    return {v: rows(con, f"SELECT count(*) FROM {v}")[0][0] for v in VIEWS}


def test_connection_keeps_its_snapshot_after_a_refresh(tmp_path):
    s = small_store(tmp_path)
    before = gensql.connect(s.data)
    first = counts(before)
    s.evaluation("v3", "e1", at=50)
    s.draft("d2", at=60)
    s.refresh()
    after = gensql.connect(s.data)
    assert counts(after)["gens"] == first["gens"] + 2
    assert counts(before) == first  # every view of the old connection still reads the old snapshot
    assert rows(before, "SELECT count(*) FROM lineage l JOIN gens g USING (stage, gen_id)") == [(4,)]
    assert rows(after, "SELECT gen_id FROM descendants('e1') WHERE depth = 1 ORDER BY 1") == [("v1",), ("v3",)]
    assert rows(before, "SELECT gen_id FROM descendants('e1') WHERE depth = 1 ORDER BY 1") == [("v1",)]


def test_connect_without_an_index(tmp_path):
    (tmp_path / "gens").mkdir()
    with pytest.raises(IndexNotFoundError, match="gensql refresh"):
        gensql.connect(tmp_path)


def catalog_path(data: Path) -> Path:
    return data / "index" / "current" / "gensql.duckdb"


def test_catalog_file_opens_in_plain_duckdb_from_another_cwd(tmp_path, monkeypatch):
    s = small_store(tmp_path / "store")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cat = duckdb.connect(str(catalog_path(s.data)), read_only=True)
    mem = gensql.connect(s.data)
    assert describe_views(cat).to_pylist() == describe_views(mem).to_pylist()
    assert counts(cat) == counts(mem)
    assert rows(cat, "SELECT depth, gen_id FROM ancestors('v1')") == [(0, "v1"), (1, "e1"), (2, "d1")]
    # the file holds views (and macros) only: the data stays in the snapshot's Parquet files
    assert rows(cat, "SELECT count(*) FROM duckdb_tables()") == [(0,)]
    cat.close()


def test_catalog_file_works_in_a_fresh_process(tmp_path):
    s = small_store(tmp_path / "store")
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
        "print(con.sql('SELECT count(*) FROM documents').to_arrow_table().column(0)[0].as_py(), "
        "con.sql(\"SELECT count(*) FROM problems WHERE kind = 'member_missing'\").to_arrow_table().column(0)[0].as_py())"
    )
    p = subprocess.run(
        [sys.executable, "-c", code, str(catalog_path(s.data))], capture_output=True, text=True, cwd=tmp_path
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["4", "1"]


def test_an_open_catalog_does_not_block_a_refresh(tmp_path):
    s = small_store(tmp_path)
    cat = duckdb.connect(str(catalog_path(s.data)), read_only=True)
    assert rows(cat, "SELECT count(*) FROM gens") == [(4,)]
    s.draft("d2", at=60)
    p = subprocess.run(
        [sys.executable, "-m", "gensql", "refresh", "--data-root", str(s.data), "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert rows(cat, "SELECT count(*) FROM gens") == [(4,)]  # still its own snapshot
    new = duckdb.connect(str(catalog_path(s.data)), read_only=True)
    assert rows(new, "SELECT count(*) FROM gens") == [(5,)]
    cat.close()
    new.close()


@pytest.mark.slow
def test_a_catalog_carried_over_from_the_previous_snapshot_reads_only_its_own(tmp_path):
    """Refresh starts each catalog from the previous one (same views) and re-points its base relations:
    after the older snapshots are deleted it still answers, and it answers like a catalog built afresh."""
    s = small_store(tmp_path / "store")
    for i in range(4):  # more refreshes than the three snapshots kept: the first catalog's snapshot is gone
        s.draft(f"d{10 + i}", at=100 + i)
        s.refresh()
    snapshots = sorted(p.name for p in (s.data / "index" / "snapshots").iterdir())
    current = catalog_path(s.data).resolve()
    carried = duckdb.connect(str(current), read_only=True)
    definitions = " ".join(
        sql for (sql,) in carried.execute("SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall()
    )
    assert current.parent.name in definitions
    assert [name for name in snapshots if name != current.parent.name and name in definitions] == []
    fresh_index = tmp_path / "fresh"
    gensql.refresh(s.data, fresh_index, full=True)
    fresh = duckdb.connect(str(fresh_index / "current" / "gensql.duckdb"), read_only=True)
    assert counts(carried) == counts(fresh)
    assert counts(carried)["gens"] == 8
    assert describe_views(carried).to_pylist() == describe_views(fresh).to_pylist()
    carried.close()
    fresh.close()


# --- the catalog in the DuckDB 1.x CLI, copied, moved, read-only (issue 23) ------------------------


def duckdb_1x_cli() -> str:
    """The ``duckdb`` CLI of the test extra's ``duckdb-cli`` (1.x): the one people install from PyPI."""
    import shutil

    found = Path(sys.executable).parent / "duckdb"
    cli = str(found) if found.exists() else shutil.which("duckdb")
    if cli is None:
        pytest.skip("no duckdb CLI (pip install 'duckdb-cli<2': it is in the test extra)")
    version = subprocess.run([cli, "--version"], capture_output=True, text=True, timeout=60).stdout
    if not version.startswith("v1."):
        pytest.skip(f"the duckdb CLI is {version.strip()}, not 1.x")
    return cli


CLI_SQL = (
    "SELECT 'gens', count(*) FROM gens UNION ALL SELECT 'lineage', count(*) FROM lineage "
    "UNION ALL SELECT 'ancestors', count(*) FROM ancestors('v1') "
    "UNION ALL SELECT 'meta', count(*) FROM gens WHERE meta->>'gen_id' = gen_id"
)


def cli(catalog: Path, cwd: Path, search_path: str | None = None) -> subprocess.CompletedProcess:
    args = [duckdb_1x_cli(), "-readonly", "-csv", "-noheader"]
    if search_path is not None:
        args += ["-cmd", f"SET file_search_path = '{search_path}'"]
    return subprocess.run(args + [str(catalog), "-c", CLI_SQL], capture_output=True, text=True, cwd=cwd, timeout=120)


def cli_counts(p: subprocess.CompletedProcess) -> dict[str, int]:
    assert p.returncode == 0, p.stderr + p.stdout
    return {name: int(n) for name, n in (line.split(",") for line in p.stdout.split())}


def test_duckdb_1x_cli_reads_a_refreshed_copied_and_moved_store(tmp_path):
    import shutil

    s = small_store(tmp_path / "store")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    mem = gensql.connect(s.data)
    want = {
        "gens": rows(mem, "SELECT count(*) FROM gens")[0][0],
        "lineage": rows(mem, "SELECT count(*) FROM lineage")[0][0],
        "ancestors": 3,
        "meta": rows(mem, "SELECT count(*) FROM gens")[0][0],
    }
    assert cli_counts(cli(catalog_path(s.data), elsewhere)) == want  # any working directory
    assert oct(catalog_path(s.data).resolve().stat().st_mode & 0o777) == "0o444"

    copy = tmp_path / "copy"
    shutil.copytree(s.data, copy, symlinks=True)
    p = cli(catalog_path(copy), elsewhere)  # would read the original's files: refused, in one line
    assert p.returncode != 0 and "gensql refresh" in p.stderr and len(p.stderr.strip().splitlines()) <= 3
    assert cli_counts(cli(catalog_path(copy), elsewhere, str(catalog_path(copy).parent))) == want
    snap_dir = catalog_path(copy).resolve().parent
    assert cli_counts(cli(catalog_path(copy), snap_dir, ".")) == want

    moved = tmp_path / "moved"
    shutil.copytree(s.data, tmp_path / "before-move", symlinks=True)
    (tmp_path / "before-move").rename(moved)
    assert cli_counts(cli(catalog_path(moved), elsewhere, str(catalog_path(moved).parent))) == want
    shutil.rmtree(s.data)  # the original gone: a refresh in the new place makes it plain again
    assert cli(catalog_path(moved), elsewhere).returncode != 0
    gensql.refresh(moved)
    assert cli_counts(cli(catalog_path(moved), elsewhere)) == want


def test_objects_a_client_creates_in_the_catalog_are_not_carried_over(tmp_path):
    s = small_store(tmp_path / "store")
    first = catalog_path(s.data).resolve()
    assert first.stat().st_mode & 0o222 == 0  # nobody writes into it
    first.chmod(0o644)  # a client that makes it writable anyway (root needs no write bit)
    first.parent.chmod(0o755)
    con = duckdb.connect(str(first))
    con.execute("CREATE TABLE notes AS SELECT 1 AS x")
    con.execute("CREATE SCHEMA mine")
    con.execute("CREATE VIEW mine.v AS SELECT 2 AS y")
    con.execute("CREATE MACRO twice(a) AS a * 2")
    con.close()
    s.draft("d2", at=60)
    s.refresh()
    second = catalog_path(s.data).resolve()
    assert second != first and second.stat().st_mode & 0o777 == 0o444
    cat = duckdb.connect(str(second), read_only=True)
    assert rows(cat, "SELECT count(*) FROM duckdb_tables()") == [(0,)]
    assert rows(cat, "SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'mine'") == [(0,)]
    assert rows(cat, "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'twice'") == [(0,)]
    assert rows(cat, "SELECT count(*) FROM gens") == [(5,)]
    assert describe_views(cat).to_pylist() == describe_views(gensql.connect(s.data)).to_pylist()
    cat.close()


def test_a_duckdb_session_holding_the_catalog_keeps_its_snapshot_across_refreshes(tmp_path):
    """DuckDB locks a database file while it is open: refresh keeps that snapshot as it keeps a
    gensql.connect() lease, however many refreshes run; it goes once the session closes."""
    s = small_store(tmp_path / "store")
    held = catalog_path(s.data).resolve()
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); q = 'SELECT count(*) FROM gens'\n"
        "for line in sys.stdin:\n"
        "    print(con.sql(q).fetchall()[0][0], flush=True)\n"
    )
    session = subprocess.Popen(
        [sys.executable, "-c", code, str(held)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        session.stdin.write("\n")
        session.stdin.flush()
        assert session.stdout.readline().strip() == "4"
        for i in range(4):  # more refreshes than the three snapshots kept
            s.draft(f"d{10 + i}", at=100 + i)
            s.refresh()
        assert held.exists()
        session.stdin.write("\n")
        session.stdin.flush()
        assert session.stdout.readline().strip() == "4"  # still its own snapshot, not "No files found"
    finally:
        session.stdin.close()
        session.wait(timeout=60)
    s.draft("d20", at=200)
    s.refresh()
    assert not held.parent.exists()  # closed: collected at the next refresh

"""`gensql refresh`: the CLI contract, incremental == full, safety of the store and of the index."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from pause import kill_at
from storebuilder import tree_digest, write_gen, write_membership

import gensql
from gensql import refresh
from gensql.partitions import read_table, table_files

STAGES = ("draft", "essay", "evaluation")


def run_cli(*args, env=None, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "gensql", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        **kwargs,
    )


def small_gen(root: Path, stage: str, i: int, *, model: str = "m1") -> None:
    gen_id = f"{stage[0]}_{i:04d}"
    parent = {"draft": None, "essay": f"d_{i:04d}", "evaluation": f"e_{i:04d}"}[stage]
    files = {
        "metadata.json": {
            "stage": stage,
            "gen_id": gen_id,
            "mode": "llm",
            "template_id": f"t{i % 3}",
            "llm_model_id": model,
            "parent_gen_id": parent,
            "combo_id": f"c{i % 5}" if stage == "draft" else None,
        },
        "raw_metadata.json": {
            "usage": {"completion_tokens": 100 + i, "max_tokens": 1000},
            "finish_reason": "stop",
            "duration_s": i / 10,
        },
        "prompt.txt": "prompt " * (i % 7 + 1),
        "raw.txt": f"raw {i}\n",
        "parsed.txt": f"{i % 10}.0\n" if stage == "evaluation" else f"parsed {i}\n",
    }
    write_gen(root, stage, gen_id, files)


def make_small_store(root: Path, n: int = 4) -> Path:
    for i in range(n):
        for stage in STAGES:
            small_gen(root, stage, i)
    write_membership(root, "c1", "stage,gen_id\n" + "".join(f"{s},{s[0]}_{i:04d}\n" for i in range(n) for s in STAGES))
    return root


def snapshot_tables(index_dir: Path) -> dict[str, list[dict]]:
    current = index_dir / "current"
    out = {}
    for table, keys in (
        ("gens", ("stage", "gen_id")),
        ("scan_errors", ("path", "kind")),
        ("membership", ("cohort_id", "line")),
    ):
        rows = read_table(current, table).to_pylist()
        out[table] = sorted(rows, key=lambda r: tuple(str(r[k]) for k in keys))
    return out


# --- CLI contract ------------------------------------------------------------------------------


def test_cli_refresh_writes_index_and_talks_on_stderr(tmp_path):
    make_small_store(tmp_path)
    proc = run_cli("refresh", "--data-root", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith(
        "indexed 12 generations (4 draft, 4 essay, 4 evaluation): 12 new, 0 changed, 0 deleted, 0 unchanged; 12 cohort members; search: 36 texts (36 indexed); 0 scan errors;"
    )
    assert (tmp_path / "index" / "current" / "gens" / "stage=draft" / "part-00-0000.parquet").is_file()
    assert read_table(tmp_path / "index" / "current", "gens").num_rows == 12


def test_cli_refresh_quiet_env_and_index_dir(tmp_path):
    make_small_store(tmp_path / "store")
    proc = run_cli(
        "refresh",
        "--quiet",
        "--index-dir",
        str(tmp_path / "elsewhere"),
        env={"GENSQL_DATA_ROOT": str(tmp_path / "store")},
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert read_table(tmp_path / "elsewhere" / "current", "gens").num_rows == 12
    assert not (tmp_path / "store" / "index").exists()


def test_cli_missing_gens_is_a_clear_error(tmp_path):
    proc = run_cli("refresh", "--data-root", str(tmp_path / "nowhere"))
    assert proc.returncode == 2
    assert (
        proc.stderr
        == f"gensql: error: no gens store at {tmp_path / 'nowhere' / 'gens'}: expected <data-root>/gens/<stage>/<gen_id>/. Pass --data-root or set GENSQL_DATA_ROOT.\n"
    )
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_cli_strict_fails_after_writing_the_index(tmp_path):
    make_small_store(tmp_path)
    (tmp_path / "gens" / "draft" / "d_0001" / "raw_metadata.json").write_text("{oops")
    assert run_cli("refresh", "--data-root", str(tmp_path), "-q").returncode == 0
    proc = run_cli("refresh", "--data-root", str(tmp_path), "--strict", "--full")
    assert proc.returncode == 4
    assert "--strict: 1 file problem(s)" in proc.stderr
    errors = pq.read_table(tmp_path / "index" / "current" / "scan_errors.parquet").to_pylist()
    assert [(e["path"], e["kind"]) for e in errors] == [("gens/draft/d_0001/raw_metadata.json", "invalid_json")]


# --- incremental refresh -----------------------------------------------------------------------

MUTATIONS = (
    "add",
    "delete",
    "same_size_rewrite",
    "grow_raw",
    "drop_parsed",
    "add_parsed",
    "corrupt_json",
    "touch",
    "membership",
    "stray_file",
)
MIXED_MUTATIONS = MUTATIONS + (
    "wide_membership",
    "doc_add",
    "doc_delete",
    "doc_rewrite",
    "doc_flatten",
    "gens_takes_doc_id",
    "sqlite_row",
    "copy_template",
)


def docs_index_module():
    """The real SQLiteDocumentsIndex of seed 000's era (tests/realwriter/docs_0907)."""
    from realwriter.gens_common import import_gens_era

    return import_gens_era("realwriter.docs_0907", "utils.documents_index")[0]


def write_doc(root: Path, stage: str, doc_id: str, i: int, *, bucket: str | None = None) -> Path:
    path = root / "docs" / stage / (f"{bucket}/{doc_id}" if bucket else doc_id)
    path.mkdir(parents=True, exist_ok=True)
    meta = {"task_id": f"task_{i}", "model_id": "m1", "function": f"{stage}_response"}
    meta.update(
        {
            "draft": {"combo_id": f"c{i % 2}", "draft_template": "t1"},
            "essay": {"essay_template": f"e{i % 2}", "parent_doc_id": f"x_{i:04d}"},
        }.get(stage, {})
    )
    (path / "metadata.json").write_text(json.dumps(meta, indent=2))
    (path / "raw.txt").write_text(f"raw {i}\n")
    (path / "parsed.txt").write_text(f"parsed {i}\n")
    return path


def make_mixed_store(root: Path, n: int = 5) -> Path:
    """The small gens store plus seed 000's docs store (both nestings, documents.sqlite) and a wide cohort."""
    make_small_store(root, n)
    index = docs_index_module()
    db = index.SQLiteDocumentsIndex(root / "db" / "documents.sqlite", root / "docs")
    db.init_maybe_create_tables()
    for i in range(3):
        write_doc(root, "draft", f"x_{i:04d}", i, bucket=f"lk{i}")
        write_doc(root, "essay", f"y_{i:04d}", i)
        if i < 2:
            db.insert_document(
                index.DocumentRow(
                    doc_id=f"x_{i:04d}",
                    logical_key_id=f"lk{i}",
                    stage="draft",
                    task_id=f"task_{i}",
                    doc_dir=f"draft/lk{i}/x_{i:04d}",
                    run_id=f"run{i}",
                    template_id="t1",
                    model_id="m1",
                )
            )
    db.close()
    write_membership(
        root,
        "wide",
        "stage,gen_id,cohort_id,parent_gen_id,combo_id,template_id,llm_model_id,replicate\nessay,e_0001,wide,d_0001,c1,t1,m1,1\n",
    )
    return root


def mutate(root: Path, kind: str, stage: str, i: int) -> str | None:
    """Apply one mutation; return the touched '<stage>/<gen_id>' (None for store-level changes)."""
    gen_id = f"{stage[0]}_{i:04d}"
    gen_dir = root / "gens" / stage / gen_id
    if kind == "add":
        small_gen(root, stage, 100 + i, model="m2")
        return f"{stage}/{stage[0]}_{100 + i:04d}"
    if not gen_dir.exists():
        return None
    if kind == "delete":
        shutil.rmtree(gen_dir)
    elif kind == "same_size_rewrite":
        meta = gen_dir / "metadata.json"
        text = meta.read_text()
        meta.write_text(text.replace('"m1"', '"mX"') if '"m1"' in text else text.replace('"m2"', '"mY"'))
    elif kind == "grow_raw":
        with open(gen_dir / "raw.txt", "a") as f:
            f.write("more\n")
    elif kind == "drop_parsed":
        (gen_dir / "parsed.txt").unlink(missing_ok=True)
    elif kind == "add_parsed":
        (gen_dir / "parsed.txt").write_text("SCORE: 3\n")
    elif kind == "corrupt_json":
        (gen_dir / "raw_metadata.json").write_text('{"usage": ')
    elif kind == "touch":
        os.utime(gen_dir / "raw.txt") if (gen_dir / "raw.txt").exists() else os.utime(gen_dir)
    elif kind == "membership":
        write_membership(root, f"c_{stage}_{i}", f"stage,gen_id\n{stage},{gen_id}\n")
        return None
    elif kind == "stray_file":
        (root / "gens" / stage / f"stray-{i}.txt").write_text("x")
        return None
    return f"{stage}/{gen_id}"


def mutate_mixed(root: Path, kind: str, stage: str, i: int) -> str | None:
    """The mutations of :func:`mutate`, plus changes to the docs store and to facts outside directories."""
    doc_stage = "draft" if stage == "draft" else "essay"
    doc_id = f"{'x' if doc_stage == 'draft' else 'y'}_{i % 4:04d}"
    docs = {p.parent.name: p.parent for p in (root / "docs" / doc_stage).glob("**/metadata.json")}
    if kind == "wide_membership":
        write_membership(
            root,
            f"w_{stage}_{i}",
            f"stage,gen_id,combo_id,llm_model_id,replicate\n{stage},{stage[0]}_{i:04d},cw{i},mw{i},{i + 1}\n{doc_stage},{doc_id},cw{i},,\n",
        )
        return None
    if kind == "sqlite_row":
        con = sqlite3.connect(root / "db" / "documents.sqlite")
        with con:
            con.execute(
                "INSERT OR REPLACE INTO documents (doc_id, logical_key_id, stage, task_id, doc_dir, status, run_id, template_id, created_at) VALUES (?, 'lk', ?, 't', 'd', 'ok', ?, ?, ?)",
                (doc_id, doc_stage, f"r{i}", f"tpl{i}", f"2025-09-0{1 + i % 5}T10:00:00.000Z"),
            )
        con.close()
        return None
    if kind == "copy_template":
        (root / "1_raw").mkdir(exist_ok=True)
        (root / "1_raw" / "essay_templates.csv").write_text(f"template_id,generator\ne{i % 2},copy\ne{1 - i % 2},llm\n")
        return None
    if kind == "doc_add":  # a new document, or its files written again where it is
        bucket = docs[doc_id].parent.name if doc_id in docs and docs[doc_id].parent.name != doc_stage else None
        write_doc(root, doc_stage, doc_id, i, bucket=bucket if doc_id in docs else (None if i % 2 else f"lk{i}"))
        return f"{doc_stage}/{doc_id}"
    if doc_id not in docs:
        return mutate(root, kind, stage, i) if kind in MUTATIONS else None
    if kind == "doc_delete":
        shutil.rmtree(docs[doc_id])
    elif kind == "doc_rewrite":
        meta = docs[doc_id] / "metadata.json"
        meta.write_text(meta.read_text().replace('"m1"', '"mZ"'))
    elif kind == "doc_flatten":
        target = root / "docs" / doc_stage / doc_id
        if target == docs[doc_id]:
            return None
        shutil.move(docs[doc_id], target)
    elif kind == "gens_takes_doc_id":  # a gens directory with the document's id: it wins from now on
        source = root / "gens" / doc_stage / f"{doc_stage[0]}_0001"
        if (root / "gens" / doc_stage / doc_id).exists() or not source.exists():
            return None
        shutil.copytree(source, root / "gens" / doc_stage / doc_id)
    else:
        return mutate(root, kind, stage, i)
    return f"{doc_stage}/{doc_id}"


@pytest.mark.slow
@settings(max_examples=examples(0.25))
@given(
    st.lists(st.tuples(st.sampled_from(MUTATIONS), st.sampled_from(STAGES), st.integers(0, 5)), min_size=1, max_size=8)
)
def test_incremental_refresh_equals_full_refresh(monkeypatch, mutations):
    monkeypatch.setenv("GENSQL_RACY_WINDOW", "0.02")
    with tempfile.TemporaryDirectory() as tmp:
        root = make_small_store(Path(tmp) / "store", n=5)
        time.sleep(0.03)  # let the fresh store age past the racy window
        refresh(root)
        touched = {m for m in (mutate(root, *args) for args in mutations) if m}
        incremental = refresh(root)
        full_index = Path(tmp) / "full-index"
        full = refresh(root, full_index, full=True)
        assert snapshot_tables(root / "index") == snapshot_tables(full_index)
        assert incremental.generations == full.generations
        existing = {f"{s}/{p.name}" for s in STAGES for p in (root / "gens" / s).iterdir() if p.is_dir()}
        # Only the touched directories were re-read; every other one was carried over from the index.
        assert incremental.unchanged == len(existing - touched)
        assert incremental.new + incremental.changed == len(existing & touched)


@pytest.mark.slow
@settings(max_examples=examples(0.08))
@given(
    st.lists(
        st.tuples(st.sampled_from(MIXED_MUTATIONS), st.sampled_from(STAGES), st.integers(0, 5)), min_size=1, max_size=8
    )
)
def test_incremental_refresh_equals_full_refresh_with_docs_and_borrowed_facts(monkeypatch, mutations):
    """The same with seed 000's docs store, documents.sqlite, wide membership and essay templates."""
    monkeypatch.setenv("GENSQL_RACY_WINDOW", "0.02")
    with tempfile.TemporaryDirectory() as tmp:
        root = make_mixed_store(Path(tmp) / "store", n=5)
        time.sleep(0.03)
        refresh(root)
        touched = {m for m in (mutate_mixed(root, *args) for args in mutations) if m}
        incremental = refresh(root)
        full_index = Path(tmp) / "full-index"
        full = refresh(root, full_index, full=True)
        assert snapshot_tables(root / "index") == snapshot_tables(full_index)
        assert incremental.generations == full.generations
        indexed = {f"{r['stage']}/{r['gen_id']}" for r in read_table(full_index / "current", "gens").to_pylist()}
        assert incremental.unchanged == len(indexed - touched)


def test_same_size_rewrite_right_after_a_refresh_is_seen(tmp_path):
    """No sleeping: changes within one timestamp tick of the scan must not be missed."""
    make_small_store(tmp_path)
    refresh(tmp_path)
    meta = tmp_path / "gens" / "draft" / "d_0000" / "metadata.json"
    meta.write_text(meta.read_text().replace('"m1"', '"m9"'))
    refresh(tmp_path)
    rows = {r["gen_id"]: r for r in read_table(tmp_path / "index" / "current", "gens").to_pylist()}
    assert rows["d_0000"]["model_id"] == "m9"


def test_unchanged_store_rereads_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("GENSQL_RACY_WINDOW", "0.02")
    make_small_store(tmp_path)
    time.sleep(0.03)
    first = refresh(tmp_path)
    second = refresh(tmp_path)
    assert (first.new, second.new, second.changed, second.deleted, second.unchanged) == (12, 0, 0, 0, 12)


# --- safety ------------------------------------------------------------------------------------


def test_refresh_never_writes_into_the_store(tmp_path):
    make_small_store(tmp_path)
    (tmp_path / "gens" / "essay" / "e_0002" / "metadata.json").write_text("[]")
    before = tree_digest(tmp_path / "gens", tmp_path / "cohorts")
    refresh(tmp_path)
    refresh(tmp_path)
    refresh(tmp_path, full=True)
    assert tree_digest(tmp_path / "gens", tmp_path / "cohorts") == before


@pytest.mark.slow
def test_second_concurrent_refresh_fails_clearly(tmp_path):
    make_small_store(tmp_path)
    index = tmp_path / "index"
    index.mkdir()
    with open(index / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.write("4242")
        lock.flush()
        proc = run_cli("refresh", "--data-root", str(tmp_path))
    assert proc.returncode == 3
    assert (
        proc.stderr
        == f"gensql: error: another refresh is writing the index at {index} (pid 4242); wait for it to finish and run the command again\n"
    )
    assert run_cli("refresh", "--data-root", str(tmp_path), "-q").returncode == 0


@pytest.mark.slow
def test_two_refreshes_at_once_leave_a_valid_index(tmp_path):
    make_small_store(tmp_path, n=300)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "gensql", "refresh", "--data-root", str(tmp_path), "--full", "-q"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = [(p.wait(), p.stderr.read()) for p in procs]
    assert any(code == 0 for code, _ in outcomes)
    for code, err in outcomes:
        assert code == 0 or (code == 3 and "another refresh is writing the index" in err)
    assert read_table(tmp_path / "index" / "current", "gens").num_rows == 900


@pytest.mark.slow
def test_sigkill_mid_refresh_keeps_the_previous_index(tmp_path):
    """A refresh killed at each step of writing its snapshot (where gensql.faults stops it, never at a
    guessed moment) leaves `current` whole: the previous snapshot up to the swap, the new one after."""
    make_small_store(tmp_path, n=20)
    refresh(tmp_path)
    before = snapshot_tables(tmp_path / "index")
    small_gen(tmp_path, "draft", 9999, model="new")
    args = ["-m", "gensql", "refresh", "--data-root", str(tmp_path), "--full", "-q", "-j", "1"]
    kills = [("snapshot.part", 1), ("snapshot.part", 3), ("snapshot.commit", 1), ("snapshot.swap", 1)]
    for point, nth in kills:
        assert kill_at(point, nth, args) == f"{point} {nth}"
        assert snapshot_tables(tmp_path / "index") == before, point
    assert kill_at("snapshot.current", 1, args) == "snapshot.current 1"
    assert len(snapshot_tables(tmp_path / "index")["gens"]) == 61
    result = refresh(tmp_path)
    assert result.generations == 61
    leftovers = [p.name for p in (tmp_path / "index" / "snapshots").iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []


def test_a_removed_stage_directory_drops_its_rows(tmp_path):
    make_small_store(tmp_path)
    refresh(tmp_path)
    shutil.rmtree(tmp_path / "gens" / "evaluation")
    result = refresh(tmp_path)
    assert (result.deleted, result.by_stage) == (4, {"draft": 4, "essay": 4, "evaluation": 0})
    refresh(tmp_path, tmp_path / "full-index", full=True)
    assert snapshot_tables(tmp_path / "index") == snapshot_tables(tmp_path / "full-index")


def test_borrowed_facts_are_reused_when_nothing_changed_and_redone_when_membership_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("GENSQL_RACY_WINDOW", "0.02")
    make_small_store(tmp_path)
    write_membership(tmp_path, "wide", "stage,gen_id,combo_id\ndraft,d_0001,c-wide\n")
    (tmp_path / "gens" / "draft" / "d_0001" / "metadata.json").write_text('{"template_id": "t1", "llm_model_id": "m1"}')
    time.sleep(0.03)
    refresh(tmp_path)
    first = (tmp_path / "index" / "current").resolve()
    refresh(tmp_path)
    second = (tmp_path / "index" / "current").resolve()
    assert first != second and all(
        os.path.samefile(a, b) for a, b in zip(table_files(first, "gens"), table_files(second, "gens"), strict=True)
    )  # linked, not recomputed
    write_membership(tmp_path, "wide", "stage,gen_id,combo_id\ndraft,d_0001,c-changed\n")
    refresh(tmp_path)
    rows = {r["gen_id"]: r for r in read_table(tmp_path / "index" / "current", "gens").to_pylist()}
    assert (rows["d_0001"]["combo_id"], rows["d_0001"]["facts_from"]) == ("c-changed", "membership")


def test_refresh_runs_without_importing_pandas(tmp_path):
    """pyarrow would import pandas (0.3 s, ~40 MB) on its first list conversion; `gensql refresh` has
    no use for it, so its start-up stays short (bench/bench_startup.py). Library callers keep pandas."""
    store = make_small_store(tmp_path / "store", n=3)
    code = (
        "import runpy, sys\n"
        "sys.argv = ['gensql', 'refresh', '-q', '--data-root', sys.argv[1]]\n"
        "try:\n    runpy.run_module('gensql', run_name='__main__')\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print(sorted(m for m in ('pyarrow', 'duckdb', 'gensql.refresh.index', 'pandas') if m in sys.modules))\n"
    )
    p = subprocess.run([sys.executable, "-c", code, str(store)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.split("\n")[-2] == "['duckdb', 'gensql.refresh.index', 'pyarrow']"
    assert gensql.connect(store).execute("SELECT count(*) FROM gens").fetchall() == [(9,)]

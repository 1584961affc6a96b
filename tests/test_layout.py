"""The snapshot layout as a contract (docs/index-layout.md): partition paths and hashes any engine can
recompute, snapshot.json listing every file, untouched partitions shared with the previous snapshot,
and incremental (listing or event-driven, across repartitions) equal to full, partitions included."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import orjson
import pyarrow.parquet as pq
import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from storebuilder import write_membership
from test_refresh import MUTATIONS, STAGES, make_small_store, mutate, small_gen, snapshot_tables

import gensql
from gensql import partitions
from gensql.partitions import read_table, table_files
from gensql.refresh import Changes, refresh

PARTITIONED = ("gens", "_gens_scan", "texts", "_manifest")


@pytest.fixture
def small_parts(monkeypatch):
    """Partitions of 4 rows, so a store of a few dozen generations has several per stage."""
    monkeypatch.setattr(partitions, "TARGET_ROWS", 4)
    monkeypatch.setenv("GENSQL_RACY_WINDOW", "0.02")


def current(root: Path) -> Path:
    return (root / "index" / "current").resolve()


def info(snapshot: Path) -> dict:
    return orjson.loads((snapshot / "snapshot.json").read_bytes())


def all_tables(index_dir: Path) -> dict[str, list]:
    out = snapshot_tables(index_dir)
    snap = (index_dir / "current").resolve()
    for table in ("texts", "_manifest", "_gens_scan"):
        columns = ["stage", "gen_id", "mask"] if table == "_manifest" else None  # sig: stat times differ by copy
        out[table] = read_table(snap, table, columns).to_pylist() if columns else read_table(snap, table).to_pylist()
    for table in PARTITIONED:  # the same files with the same rows in the same order
        out[f"{table}/files"] = {
            str(p.relative_to(snap)): pq.ParquetFile(p).read(columns=["gen_id"]).column("gen_id").to_pylist()
            for p in table_files(snap, table)
        }
    return out


def md5_bucket(gen_id: str, bits: int) -> int:
    return int(hashlib.md5(gen_id.encode()).hexdigest()[:8], 16) >> (32 - bits) if bits else 0


def test_files_follow_the_documented_paths_and_hashes(tmp_path, small_parts):
    make_small_store(tmp_path, n=20)
    refresh(tmp_path)
    snap = current(tmp_path)
    meta = info(snap)
    assert meta["layout"] == 3 and set(meta["partition_bits"]) == set(STAGES)
    listed = set(meta["files"])
    on_disk = {str(p.relative_to(snap)) for t in PARTITIONED for p in table_files(snap, t)}
    assert listed == on_disk
    for table in PARTITIONED:
        for stage in STAGES:
            bits = meta["partition_bits"][stage]
            assert bits == 3  # 20 rows, 4 per partition -> 8 partitions
            for bucket in range(1 << bits):
                rel = f"{table}/stage={stage}/part-{bits:02d}-{bucket:04x}.parquet"
                rows = pq.ParquetFile(snap / rel).read()
                assert rows.num_rows == meta["files"][rel]
                assert "stage" not in rows.column_names  # the directory holds it (hive partitioning)
                read = partitions.read_partition(snap / rel)
                assert set(read.column("stage").to_pylist()) <= {stage}
                assert all(md5_bucket(g, bits) == bucket for g in rows.column("gen_id").to_pylist())
                assert rows.column("gen_id").to_pylist() == sorted(rows.column("gen_id").to_pylist())
    # the same bucket in SQL, as the contract spells it for DuckDB
    con = duckdb.connect()
    glob = str(snap / "gens" / "*" / "*.parquet")
    wrong = con.execute(
        "SELECT count(*) FROM read_parquet(?, hive_partitioning = true, filename = true) "
        "WHERE NOT ends_with(filename, printf('-%04x.parquet', (('0x' || md5(gen_id)[1:8])::UBIGINT >> 29)::INTEGER))",
        [glob],
    ).fetchone()[0]
    assert wrong == 0


def test_a_small_change_rewrites_only_its_partitions(tmp_path, small_parts):
    make_small_store(tmp_path, n=20)
    time.sleep(0.03)
    refresh(tmp_path)
    first = current(tmp_path)
    meta = tmp_path / "gens" / "essay" / "e_0003" / "metadata.json"
    meta.write_text(meta.read_text().replace('"m1"', '"m7"'))
    result = refresh(tmp_path)
    second = current(tmp_path)
    assert (result.changed, result.partitions_written) == (1, 1)
    bucket = md5_bucket("e_0003", info(second)["partition_bits"]["essay"])
    for table in PARTITIONED:
        for old, new in zip(table_files(first, table), table_files(second, table), strict=True):
            touched = new.parent.name == "stage=essay" and new.name.endswith(f"-{bucket:04x}.parquet")
            assert os.path.samefile(old, new) != touched, new
    rows = dict(gensql.connect(tmp_path).sql("SELECT stage || '/' || gen_id, model_id FROM gens").fetchall())
    assert rows["essay/e_0003"] == "m7" and rows["evaluation/e_0003"] == "m1" and len(rows) == 60


@pytest.mark.slow
def test_growing_and_shrinking_stages_repartition_and_equal_full(tmp_path, small_parts):
    make_small_store(tmp_path, n=3)
    refresh(tmp_path)
    assert info(current(tmp_path))["partition_bits"] == {"draft": 0, "essay": 0, "evaluation": 0}
    for i in range(3, 40):
        small_gen(tmp_path, "draft", i)
    time.sleep(0.03)
    grown = refresh(tmp_path)
    assert info(current(tmp_path))["partition_bits"]["draft"] == 4 and grown.new == 37
    refresh(tmp_path, tmp_path / "full", full=True)
    assert all_tables(tmp_path / "index") == all_tables(tmp_path / "full")
    for i in range(2, 40):
        shutil.rmtree(tmp_path / "gens" / "draft" / f"d_{i:04d}")
    shrunk = refresh(tmp_path)
    assert info(current(tmp_path))["partition_bits"]["draft"] == 0 and shrunk.deleted == 38
    shutil.rmtree(tmp_path / "full")
    refresh(tmp_path, tmp_path / "full", full=True)
    assert all_tables(tmp_path / "index") == all_tables(tmp_path / "full")


def test_an_empty_stage_still_has_its_files(tmp_path):
    make_small_store(tmp_path, n=2)
    shutil.rmtree(tmp_path / "gens" / "evaluation")
    refresh(tmp_path)
    snap = current(tmp_path)
    for table in PARTITIONED:
        path = snap / table / "stage=evaluation" / "part-00-0000.parquet"
        assert pq.ParquetFile(path).metadata.num_rows == 0
    assert gensql.connect(tmp_path).sql("SELECT count(*) FROM gens WHERE stage = 'evaluation'").fetchall() == [(0,)]


EVENT_MUTATIONS = MUTATIONS + ("rename",)


def event_mutate(root: Path, kind: str, stage: str, i: int) -> set[tuple[str, str]]:
    """A mutation and the entries its file-system events would name."""
    gen_id = f"{stage[0]}_{i:04d}"
    if kind == "rename":
        source = root / "gens" / stage / gen_id
        if not source.exists():
            return set()
        target = f"{stage[0]}_{500 + i:04d}"
        if (root / "gens" / stage / target).exists():
            return set()
        os.rename(source, root / "gens" / stage / target)
        return {(stage, gen_id), (stage, target)}
    touched = mutate(root, kind, stage, i)
    if kind == "stray_file":  # a file where a directory is expected: the update lists the store instead
        return {(stage, f"stray-{i}.txt")}
    if touched is None:
        return set()
    s, g = touched.split("/")
    return {(s, g)}


@pytest.mark.slow
@settings(max_examples=examples(0.06))  # ~2 s each
@given(
    st.lists(
        st.tuples(st.sampled_from(EVENT_MUTATIONS), st.sampled_from(STAGES), st.integers(0, 11)),
        min_size=1,
        max_size=10,
    )
)
def test_event_driven_update_equals_full_refresh(small_parts, mutations):
    with tempfile.TemporaryDirectory() as tmp:
        root = make_small_store(Path(tmp) / "store", n=12)
        time.sleep(0.03)
        refresh(root)
        named: set[tuple[str, str]] = set()
        cohorts = False
        for kind, stage, i in mutations:
            named |= event_mutate(root, kind, stage, i)
            cohorts |= kind == "membership"
        update = refresh(root, changes=Changes(frozenset(named), cohorts))
        full = refresh(root, Path(tmp) / "full", full=True)
        assert all_tables(root / "index") == all_tables(Path(tmp) / "full")
        assert update.generations == full.generations


@pytest.mark.slow
def test_an_event_driven_update_still_borrows_facts_from_a_wide_membership(tmp_path, small_parts):
    """An update without cohort events skips reading the membership when no row of it lends facts;
    with a wide file it must still fill the rewritten rows from it."""
    make_small_store(tmp_path, n=12)
    write_membership(tmp_path, "wide", "stage,gen_id,combo_id,template_id\ndraft,d_0003,c-wide,t-wide\n")
    meta = tmp_path / "gens" / "draft" / "d_0003" / "metadata.json"
    data = orjson.loads(meta.read_bytes())
    data.pop("combo_id", None)
    meta.write_bytes(orjson.dumps(data))
    time.sleep(0.03)
    refresh(tmp_path)
    small_gen(tmp_path, "draft", 3)  # the directory is written again; its combo_id is back
    data = orjson.loads(meta.read_bytes())
    data.pop("combo_id", None)
    meta.write_bytes(orjson.dumps(data))
    update = refresh(tmp_path, changes=Changes(frozenset({("draft", "d_0003")})))
    assert (update.listed, update.changed) == (False, 1)
    full = tmp_path / "full"
    refresh(tmp_path, full, full=True)
    assert all_tables(tmp_path / "index") == all_tables(full)
    got = gensql.connect(tmp_path).execute("SELECT combo_id, facts_from FROM gens WHERE gen_id = 'd_0003'").fetchall()
    assert got == [("c-wide", "membership")]


def test_event_driven_update_reads_only_the_named_directories(tmp_path, small_parts):
    make_small_store(tmp_path, n=20)
    time.sleep(0.03)
    refresh(tmp_path)
    small_gen(tmp_path, "essay", 77)
    shutil.rmtree(tmp_path / "gens" / "draft" / "d_0004")
    result = refresh(tmp_path, changes=Changes(frozenset({("essay", "e_0077"), ("draft", "d_0004")})))
    assert (result.listed, result.new, result.changed, result.deleted, result.unchanged) == (False, 1, 0, 1, 59)
    assert result.partitions_written == 2


@settings(max_examples=examples(3))
@given(st.data())
def test_splicing_a_partition_gives_the_rows_a_full_sort_would(data):
    """An update splices its fresh rows into the previous file's (slices, no sort); the result must be
    the rows, in the order, that dropping and sorting everything gives, a generation's rows kept together."""
    import pyarrow as pa

    schema = pa.schema([("gen_id", pa.string()), ("k", pa.int64()), ("src", pa.string())])
    pool = [f"g{i:02d}" for i in range(40)]
    old_ids = sorted(data.draw(st.sets(st.sampled_from(pool), max_size=25)))
    old_rows = [{"gen_id": g, "k": k, "src": "old"} for g in old_ids for k in range(data.draw(st.integers(1, 3)))]
    fresh_ids = data.draw(st.lists(st.sampled_from(pool), unique=True, max_size=6))
    drop = data.draw(st.sets(st.sampled_from(pool), max_size=8)) | (set(fresh_ids) & set(old_ids))
    fresh_rows = [{"gen_id": g, "k": k, "src": "new"} for g in fresh_ids for k in range(data.draw(st.integers(1, 3)))]
    got = partitions.splice(
        pa.Table.from_pylist(old_rows, schema=schema),
        drop,
        pa.Table.from_pylist(fresh_rows, schema=schema) if fresh_rows else None,
    )
    kept = [r for r in old_rows if r["gen_id"] not in drop]
    expected = sorted(kept + fresh_rows, key=lambda r: r["gen_id"])  # stable: a generation's rows keep their order
    assert got.to_pylist() == expected

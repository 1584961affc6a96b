"""The index read by the clients a data team already has, with their defaults and without gensql
(docs/index-layout.md): pandas, pyarrow.dataset, polars and Dask read ``index/current/gens`` of a
refreshed store, of a copy of it and of a moved one, and see the rows gensql's views see. ``stage`` is in
the directory names only, so no reader finds it twice with two types. Spark: tests/test_layout_spark.py;
the DuckDB 1.x CLI on the catalog: tests/test_catalog.py.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from test_refresh import make_small_store, small_gen

import gensql
from gensql import partitions

PLACES = ("refreshed", "copied", "moved")


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, Path]:
    """One store refreshed in place, a copy of it, and a copy that was then moved (its first path gone)."""
    base = tmp_path_factory.mktemp("clients")
    mp = pytest.MonkeyPatch()
    mp.setattr(partitions, "TARGET_ROWS", 4)  # several partitions per stage
    try:
        root = make_small_store(base / "store", n=10)
        for i in range(10, 14):
            small_gen(root, "draft", i, model="m2")
        gensql.refresh(root)
    finally:
        mp.undo()
    shutil.copytree(root, base / "copy", symlinks=True)
    shutil.copytree(root, base / "before-move", symlinks=True)
    (base / "before-move").rename(base / "moved")
    return {"refreshed": root, "copied": base / "copy", "moved": base / "moved"}


@pytest.fixture(scope="module")
def expected(stores) -> Counter:
    con = gensql.connect(stores["refreshed"])
    return Counter(
        dict(((s, g), n) for s, g, n in con.sql("SELECT stage, gen_id, count(*) FROM gens GROUP BY ALL").fetchall())
    )


def gens_dir(root: Path) -> str:
    return str(root / "index" / "current" / "gens")


def check(pairs, expected: Counter) -> None:
    got = Counter((str(s), str(g)) for s, g in pairs)
    assert got == expected
    assert {s for s, _ in got} == {"draft", "essay", "evaluation"}


@pytest.mark.parametrize("place", PLACES)
def test_pandas_reads_the_gens_directory(stores, expected, place):
    import pandas as pd

    frame = pd.read_parquet(gens_dir(stores[place]))
    check(zip(frame["stage"], frame["gen_id"]), expected)
    assert json.loads(frame["meta"].iloc[0])["gen_id"] == frame["gen_id"].iloc[0]  # meta: JSON text


@pytest.mark.parametrize("place", PLACES)
def test_pyarrow_dataset_reads_it_with_inferred_partitioning(stores, expected, place):
    import pyarrow.dataset as ds

    for partitioning in ("hive", ds.HivePartitioning.discover(infer_dictionary=True)):
        table = ds.dataset(gens_dir(stores[place]), partitioning=partitioning).to_table()
        check(zip(table.column("stage").to_pylist(), table.column("gen_id").to_pylist()), expected)
    table = pq.read_table(gens_dir(stores[place]))  # pyarrow.parquet's own default
    check(zip(table.column("stage").to_pylist(), table.column("gen_id").to_pylist()), expected)


@pytest.mark.parametrize("place", PLACES)
def test_polars_scans_it(stores, expected, place):
    import polars as pl

    frame = pl.scan_parquet(gens_dir(stores[place])).select("stage", "gen_id", "completion_tokens").collect()
    check(zip(frame["stage"], frame["gen_id"]), expected)
    # a glob turns polars' hive inference off unless asked (its documented default)
    by_glob = pl.scan_parquet(gens_dir(stores[place]) + "/stage=*/*.parquet", hive_partitioning=True).collect()
    check(zip(by_glob["stage"], by_glob["gen_id"]), expected)


@pytest.mark.parametrize("place", PLACES)
def test_dask_reads_it(stores, expected, place):
    dd = pytest.importorskip("dask.dataframe", reason="dask is in the test extra")

    frame = dd.read_parquet(gens_dir(stores[place]), columns=["gen_id", "stage"]).compute()
    check(zip(frame["stage"], frame["gen_id"]), expected)


@pytest.mark.parametrize("place", PLACES)
def test_duckdb_reads_the_files_with_hive_partitioning(stores, expected, place):
    rows = duckdb.sql(
        "SELECT stage, gen_id FROM read_parquet(?, hive_partitioning = true)",
        params=[gens_dir(stores[place]) + "/stage=*/*.parquet"],
    ).fetchall()
    check(rows, expected)


def test_stage_is_only_in_the_directory_names_and_meta_is_typed_json(stores):
    snap = (stores["refreshed"] / "index" / "current").resolve()
    for table in ("gens", "texts"):
        for path in partitions.table_files(snap, table):
            assert "stage" not in pq.ParquetFile(path).schema_arrow.names, path
    first = partitions.table_files(snap, "gens")[0]
    meta = pq.ParquetFile(first).schema.column(pq.ParquetFile(first).schema_arrow.get_field_index("meta"))
    assert str(meta.logical_type) == "JSON"
    types = duckdb.sql("SELECT DISTINCT typeof(meta) FROM read_parquet(?)", params=[str(first)]).fetchall()
    assert types == [("JSON",)]  # no cast needed
    import polars as pl

    assert "json" in str(pl.read_parquet(first).schema["meta"]).lower()
    # gensql's own reader gives the table as declared: stage back in its place, meta a string
    table = partitions.read_partition(first)
    assert table.schema.names[:2] == ["gen_id", "stage"] and str(table.schema.field("meta").type) == "string"

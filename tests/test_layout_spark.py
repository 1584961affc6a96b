"""The index layout read by another engine (docs/index-layout.md): Spark reads a snapshot's partitioned
tables straight from the files, and its group-bys equal DuckDB's over the same files and gensql's views.

Slow (a JVM starts: about 30-40 s on 2 cores); skipped with the reason when pyspark or Java is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import duckdb
import orjson
import pytest
from test_refresh import make_small_store, small_gen

import gensql

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (it is in the test extra)")


def _java_ok() -> bool:
    java = shutil.which("java") or (os.environ.get("JAVA_HOME") and str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    if not java:
        return False
    try:
        return subprocess.run([java, "-version"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


pytestmark = [
    pytest.mark.slow,  # a JVM and a Spark session: ~20 s
    pytest.mark.skipif(not _java_ok(), reason="no working Java (pyspark needs Java 17+)"),
]

GROUP_BY = (
    "SELECT stage, coalesce(model_id, '-') AS model, status, count(*) AS n, "
    "coalesce(sum(completion_tokens), 0) AS tokens, count(DISTINCT logical_key) AS products "
    "FROM gens GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
)
TEXTS_BY = "SELECT stage, file, count(*) AS n, coalesce(sum(bytes), 0) AS bytes FROM texts GROUP BY 1, 2 ORDER BY 1, 2"


def test_spark_reads_the_index_and_agrees_with_duckdb(tmp_path, monkeypatch):
    from gensql import partitions

    monkeypatch.setattr(partitions, "TARGET_ROWS", 8)  # several partitions per stage
    root = make_small_store(tmp_path / "store", n=30)
    for i in range(30, 45):
        small_gen(root, "draft", i, model="m2")
    gensql.refresh(root)
    snap = (root / "index" / "current").resolve()
    shutil.copytree(root, tmp_path / "copy", symlinks=True)  # a copied store, and a moved one
    shutil.copytree(root, tmp_path / "before-move", symlinks=True)
    (tmp_path / "before-move").rename(tmp_path / "moved")

    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .appName("gensql-layout")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    try:
        spark.sparkContext.setLogLevel("ERROR")
        for table in ("gens", "texts"):
            spark.read.parquet(str(snap / table)).createOrReplaceTempView(table)
        spark_rows = [tuple(r) for r in spark.sql(GROUP_BY).collect()]
        spark_texts = [tuple(r) for r in spark.sql(TEXTS_BY).collect()]
        types = {f.name: f.dataType.simpleString() for f in spark.table("gens").schema.fields}
        meta_keys = spark.sql(  # meta is JSON text: Spark's JSON functions read it without a cast
            "SELECT count(*) FROM gens WHERE get_json_object(meta, '$.gen_id') = gen_id"
        ).collect()[0][0]
        elsewhere = {}
        for place in ("copy", "moved"):  # the same rows from the copy and the moved store (relative symlink)
            frame = spark.read.parquet(str(tmp_path / place / "index" / "current" / "gens"))
            elsewhere[place] = sorted(tuple(r) for r in frame.groupBy("stage").count().collect())
        bits = orjson.loads((snap / "snapshot.json").read_bytes())["partition_bits"]
        assert set(bits.values()) != {0}
        spark.createDataFrame(list(bits.items()), "stage string, b int").createOrReplaceTempView("bits")
        placed = spark.sql(  # the partition formula of docs/index-layout.md, in Spark SQL
            "SELECT f, stage, b, shiftright(CAST(conv(substr(md5(gen_id), 1, 8), 16, 10) AS BIGINT), 32 - b) "
            "FROM (SELECT input_file_name() AS f, stage, gen_id FROM gens) JOIN bits USING (stage)"
        ).collect()
    finally:
        spark.stop()

    con = duckdb.connect()
    for table in ("gens", "texts"):
        con.execute(
            f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{snap / table}/stage=*/*.parquet', hive_partitioning = true)"
        )
    duck_rows = con.execute(GROUP_BY).fetchall()
    assert len(placed) == 105
    for path, stage, b, part in placed:
        assert unquote(path).endswith(f"/gens/stage={stage}/part-{b:02d}-{part:04x}.parquet"), (path, stage, b, part)
    assert spark_rows == duck_rows
    assert spark_texts == con.execute(TEXTS_BY).fetchall()
    assert gensql.connect(root).execute(GROUP_BY).fetchall() == duck_rows  # the views read the same rows
    assert sum(r[3] for r in duck_rows) == 105
    assert meta_keys == 105
    by_stage = sorted(con.execute("SELECT stage, count(*) FROM gens GROUP BY 1").fetchall())
    assert elsewhere == {"copy": by_stage, "moved": by_stage}
    assert {"draft", "essay", "evaluation"} == {r[0] for r in duck_rows}
    # stable column types, as docs/index-layout.md lists them
    assert (types["stage"], types["gen_id"], types["completion_tokens"], types["created_at"], types["truncated"]) == (
        "string",
        "string",
        "bigint",
        "timestamp",
        "boolean",
    )

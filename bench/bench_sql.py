"""Benchmark `gensql sql` on a 1,000,000-generation index, start-up included.

    .venv/bin/python bench/bench_sql.py [--n 1000000] [--runs 5] [--rebuild]

A real refresh of a million directories takes minutes, so the index is synthesised directly: a
``gens.parquet`` with the real ``GENS_SCHEMA`` (every column, realistic values: 5% drafts, 5% essays,
90% evaluations, 24 models, ~50 templates, lineage links with a few dangling, statuses, token counts,
a merged-metadata JSON of a few hundred bytes per row), written in row groups of the size a full
refresh writes, plus membership and scan_errors tables, committed with the real ``SnapshotBuilder``
and ``write_catalog`` so ``gensql.connect`` and the catalog file accept it. It is cached under
``bench/out/sql_<n>/``.

Then, each ``--runs`` times (warm cache), as whole processes:

1. ``gensql sql "<tokens by model>"`` (the ``tokens_by_model`` named query's text), csv to stdout;
2. ``gensql query tokens_by_model``;
3. a bare ``python -c "import duckdb; ..."`` running the same aggregation straight over gens.parquet;
4. ``python -c "import gensql.catalog"`` alone (the import floor of the CLI path);

reporting wall time and CPU time (user + system of all the process's threads; the machine's load
average is printed, since other work on a small machine inflates wall time). Then, in-process, the
time of ``gensql.connect()`` and of a full pass over every view (``SELECT count(*) FROM (SELECT *
...)``) and named query on the million rows. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PY = sys.executable
GENSQL = [PY, "-m", "gensql"]
sys.path.insert(0, str(REPO))
from gensql.partitions import ROW_GROUP_ROWS  # noqa: E402

#: Rows per row group: what a refresh writes (gensql.partitions.ROW_GROUP_ROWS). ``--row-group`` shows
#: what other sizes would give (2,000 was the first refresh's one-group-per-batch layout).
ROW_GROUP = ROW_GROUP_ROWS


def synth_sql(n: int) -> str:
    """One SELECT producing every gens column for ``n`` generations, deterministic (hash of the row)."""
    n_draft = max(1, n // 20)
    n_essay = max(1, n // 20)
    return f"""
    WITH base AS (
        SELECT
            i,
            CASE WHEN i < {n_draft} THEN 'draft' WHEN i < {n_draft + n_essay} THEN 'essay' ELSE 'evaluation' END AS stage,
            hash(i, 'a') AS h1, hash(i, 'b') AS h2, hash(i, 'c') AS h3, hash(i, 'd') AS h4
        FROM range({n}) AS t(i)
    ), ids AS (
        SELECT *,
            CASE stage WHEN 'draft' THEN 'd_' WHEN 'essay' THEN 'e_' ELSE 'v_' END || substr(md5(i::VARCHAR), 1, 14) AS gen_id,
            CASE stage
                WHEN 'essay' THEN 'd_' || substr(md5((h1 % {n_draft})::VARCHAR), 1, 14)
                WHEN 'evaluation' THEN CASE WHEN h1 % 200 = 0 THEN 'task_' || (h1 % 9973)::VARCHAR
                                            ELSE 'e_' || substr(md5(({n_draft} + h1 % {n_essay})::VARCHAR), 1, 14) END
            END AS parent_gen_id,
            CASE stage WHEN 'draft' THEN 'model-' || lpad((h2 % 24)::VARCHAR, 2, '0')
                       WHEN 'essay' THEN 'model-' || lpad((h2 % 12)::VARCHAR, 2, '0')
                       ELSE 'judge-' || (h2 % 6)::VARCHAR END AS model_id,
            CASE stage WHEN 'draft' THEN 'draft-tpl-' || (h3 % 10)::VARCHAR
                       WHEN 'essay' THEN 'essay-tpl-' || (h3 % 15)::VARCHAR
                       ELSE 'eval-tpl-' || (h3 % 25)::VARCHAR END AS template_id,
            stage = 'essay' AND h4 % 10 = 0 AS is_copy,
            (h2 >> 8) % 100 AS roll,
            TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_seconds((h3 >> 8) % (30 * 86400)) AS created_at
        FROM base
    ), shaped AS (
        SELECT *,
            CASE WHEN is_copy THEN 'ok'
                 WHEN roll < 92 THEN 'ok' WHEN roll < 95 THEN 'truncated' WHEN roll < 98 THEN 'parse_error'
                 WHEN roll < 99 THEN 'gen_error' ELSE 'skipped' END AS status,
            CASE WHEN is_copy OR roll >= 98 THEN NULL
                 WHEN stage = 'draft' THEN 400 + (h4 >> 8) % 1200
                 WHEN stage = 'essay' THEN 900 + (h4 >> 8) % 2500
                 ELSE 150 + (h4 >> 8) % 400 END AS completion_tokens,
            CASE WHEN stage = 'evaluation' THEN 1024 ELSE 4096 END AS max_tokens,
            CASE WHEN roll = 99 THEN NULL ELSE 1500 + (h1 >> 8) % 6000 END AS prompt_bytes,
            CASE WHEN stage = 'evaluation' THEN 1 + (h4 >> 16) % 3 ELSE 1 END AS replicate
        FROM ids
    )
    SELECT
        gen_id,
        stage,
        'gens/' || stage || '/' || gen_id AS gen_dir,
        model_id,
        template_id,
        parent_gen_id,
        'cohort-' || ((h1 >> 20) % 40)::VARCHAR AS origin_cohort_id,
        CASE WHEN stage = 'draft' THEN 'combo-' || lpad(((h4 >> 4) % 500)::VARCHAR, 3, '0') END AS combo_id,
        replicate,
        CASE WHEN is_copy THEN 'copy' ELSE 'llm' END AS mode,
        'run-' || ((h3 >> 24) % 300)::VARCHAR AS run_id,
        NULL::VARCHAR AS task_id,
        stage || '_raw' AS "function",
        CASE WHEN stage = 'evaluation' THEN 'score_line' WHEN NOT is_copy THEN 'identity' END AS parser_name,
        CASE WHEN is_copy THEN 'copy' WHEN status = 'truncated' THEN 'length' WHEN status IN ('gen_error', 'skipped') THEN NULL ELSE 'stop' END AS finish_reason,
        status = 'truncated' AS truncated,
        status,
        NULL::BIGINT AS prompt_tokens,
        CASE WHEN status = 'truncated' THEN max_tokens ELSE completion_tokens END AS completion_tokens,
        NULL::BIGINT AS total_tokens,
        CASE WHEN is_copy OR status = 'skipped' THEN NULL ELSE max_tokens END AS max_tokens,
        CASE WHEN is_copy OR roll >= 98 THEN NULL ELSE 1.5 + ((h2 >> 16) % 28000) / 1000.0 END AS duration_s,
        prompt_bytes,
        CASE WHEN status = 'skipped' THEN NULL ELSE 4 * coalesce(completion_tokens, 600) END AS raw_bytes,
        CASE WHEN status IN ('ok', 'truncated') THEN CASE WHEN stage = 'evaluation' THEN 4 ELSE 4 * coalesce(completion_tokens, 600) END END AS parsed_bytes,
        prompt_bytes IS NOT NULL AS has_prompt,
        status <> 'skipped' AS has_raw,
        status IN ('ok', 'truncated') AS has_parsed,
        created_at,
        'raw' AS created_at_source,
        CASE WHEN stage = 'evaluation' AND status = 'ok' THEN ((h1 >> 12) % 10)::DOUBLE END AS score,
        CASE WHEN stage = 'evaluation' AND status <> 'ok' THEN 'parsed.txt is missing' END AS score_error,
        substr(md5(stage || coalesce(parent_gen_id, '') || template_id || model_id || replicate::VARCHAR), 1, 16) AS logical_key,
        NOT is_copy AND status <> 'skipped' AS is_model_call,
        CASE WHEN is_copy THEN NULL ELSE status = 'truncated' END AS recorded_truncated,
        CASE WHEN is_copy THEN 'copy' ELSE 'prompt' END AS input_mode,
        CASE WHEN status = 'ok' THEN true WHEN status = 'parse_error' THEN false END AS parse_success,
        CASE WHEN status = 'parse_error' THEN 'no score line found' END AS parse_error,
        stage AS meta_stage,
        gen_id AS meta_gen_id,
        true AS has_metadata,
        NOT is_copy AS has_raw_metadata,
        status IN ('ok', 'parse_error') AS has_parsed_metadata,
        0::BIGINT AS error_count,
        json_object(
            'stage', stage, 'gen_id', gen_id, 'origin_cohort_id', 'cohort-' || ((h1 >> 20) % 40)::VARCHAR,
            'mode', CASE WHEN is_copy THEN 'copy' ELSE 'llm' END, 'template_id', template_id,
            'llm_model_id', model_id, 'parent_gen_id', parent_gen_id, 'replicate', replicate,
            'function', stage || '_raw', 'run_id', 'run-' || ((h3 >> 24) % 300)::VARCHAR,
            'usage', json_object('completion_tokens', completion_tokens, 'max_tokens', max_tokens),
            'finish_reason', CASE WHEN status = 'truncated' THEN 'length' ELSE 'stop' END,
            'truncated', status = 'truncated', 'duration_s', 1.5 + ((h2 >> 16) % 28000) / 1000.0,
            'input_mode', 'prompt', 'raw_path', '/home/pipeline/data/gens/' || stage || '/' || gen_id || '/raw.txt'
        )::VARCHAR AS meta
    FROM shaped
    ORDER BY stage, gen_id
    """


def build_index(root: Path, n: int, row_group: int = ROW_GROUP) -> Path:
    """Write a synthetic store root (empty gens/) with an index of ``n`` generations; return the data root."""
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gensql import layout
    from gensql.catalog import write_catalog
    from gensql.fields import GENS_SCHEMA
    from gensql.index import SnapshotBuilder, current_snapshot
    from gensql.membership import MEMBERSHIP_SCHEMA
    from gensql.scan import ERRORS_SCHEMA, MANIFEST_SCHEMA

    data = root / "data"
    for stage in layout.STAGES:
        (data / layout.GENS_DIR / stage).mkdir(parents=True, exist_ok=True)
    index_dir = data / layout.INDEX_DIR
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    gens = con.sql(synth_sql(n)).to_arrow_table()
    gens = pa.Table.from_arrays(  # columns the synthetic rows do not fill (added to the schema since) are NULL
        [
            gens.column(f.name).cast(f.type) if f.name in gens.column_names else pa.nulls(gens.num_rows, f.type)
            for f in GENS_SCHEMA
        ],
        schema=GENS_SCHEMA,
    )
    con.register("g", gens)
    members = (
        con.sql(
            """
        SELECT 'cohort-' || (hash(gen_id, 'm') % 40)::VARCHAR AS cohort_id, stage, gen_id,
               (row_number() OVER (PARTITION BY 'cohort-' || (hash(gen_id, 'm') % 40)::VARCHAR ORDER BY gen_id) + 1)::BIGINT AS line,
               NULL::VARCHAR AS extras
        FROM g WHERE hash(gen_id, 'keep') % 4 = 0
        UNION ALL
        SELECT 'cohort-0', 'evaluation', 'v_never' || i::VARCHAR, (100000 + i)::BIGINT, NULL FROM range(50) t(i)
        """
        )
        .to_arrow_table()
        .cast(MEMBERSHIP_SCHEMA)
    )
    errors = (
        con.sql(
            """
        SELECT 'gens/' || stage || '/' || gen_id || '/raw_metadata.json' AS path, stage, gen_id,
               'raw_metadata.json' AS file, 'invalid_json' AS kind, 'invalid JSON: unexpected end of data' AS message
        FROM g WHERE hash(gen_id, 'err') % 2000 = 0
        """
        )
        .to_arrow_table()
        .cast(ERRORS_SCHEMA)
    )
    con.close()

    builder = SnapshotBuilder(index_dir)
    try:
        # the partitioned layout refresh writes (docs/index-layout.md): gens hash-partitioned per stage
        import pyarrow as pa
        import pyarrow.compute as pc

        from gensql.partitions import buckets, ideal_bits
        from gensql.scan import TEXTS_SCHEMA

        bits, files = {}, {}
        for stage in layout.STAGES:
            rows = gens.filter(pc.equal(gens.column("stage"), stage))
            bits[stage] = ideal_bits(rows.num_rows)
            of = pa.array(buckets(rows.column("gen_id").to_pylist(), bits[stage]), pa.int32())
            for b in range(1 << bits[stage]):
                part = rows.filter(pc.equal(of, b))
                part = part.take(pc.sort_indices(part, sort_keys=[("gen_id", "ascending")]))
                for table, content in (
                    ("gens", part),
                    ("_gens_scan", part),
                    ("texts", TEXTS_SCHEMA.empty_table()),
                    ("_manifest", MANIFEST_SCHEMA.empty_table()),
                ):
                    pq.write_table(content, builder.part_path(table, stage, bits[stage], b), row_group_size=row_group)
                    files[layout.partition_file(table, stage, bits[stage], b)] = content.num_rows
        pq.write_table(members, builder.path("membership"))
        pq.write_table(errors, builder.path("scan_errors"))
        builder.commit(
            {
                "generations": n,
                "synthetic": True,
                "data_root": str(data),
                "layout": layout.INDEX_LAYOUT_VERSION,
                "partition_bits": bits,
                "files": files,
            },
            before_swap=write_catalog,
        )
    except BaseException:
        builder.abort()
        raise
    snap = current_snapshot(index_dir)
    print(f"built a {n:,}-row synthetic index in {time.perf_counter() - started:.1f}s -> {snap.path}", file=sys.stderr)
    return data


def ensure_index(n: int, rebuild: bool, row_group: int = ROW_GROUP) -> Path:
    from gensql.index import current_snapshot

    root = HERE / "out" / (f"sql_{n}_rg{row_group}")
    data = root / "data"
    snap = current_snapshot(data / "index")
    if rebuild or snap is None or snap.info.get("generations") != n:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
        return build_index(root, n, row_group)
    return data


def query_body(name: str) -> str:
    """A named query's SQL without its comment lines."""
    text = (REPO / "queries" / f"{name}.sql").read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("--")).strip()


def bare_query(sql: str, gens_parquet: Path) -> str:
    """``sql`` with the token_usage view replaced by its definition straight over the Parquet file."""
    inline = (
        "(SELECT model_id, prompt_tokens, completion_tokens, total_tokens, prompt_bytes, truncated, duration_s, "
        "(prompt_tokens IS NOT NULL OR completion_tokens IS NOT NULL OR total_tokens IS NOT NULL) AS usage_recorded, "
        "CAST(round(prompt_bytes / 4.0) AS BIGINT) AS prompt_tokens_estimate "
        f"FROM read_parquet('{gens_parquet}/stage=*/*.parquet', hive_partitioning = true) WHERE is_model_call) AS token_usage"
    )
    assert "FROM token_usage" in sql
    return sql.replace("FROM token_usage", "FROM " + inline)


def timed(cmd: list[str], cwd: Path, runs: int) -> tuple[list[float], list[float], str]:
    """Wall seconds and CPU seconds (user + system, all threads) of each run, and the last stdout."""
    import resource

    walls, cpus, out = [], [], ""
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if proc.returncode:
            raise SystemExit(f"failed: {cmd}\n{proc.stderr}")
        out = proc.stdout
    return walls, cpus, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument(
        "--row-group", type=int, default=ROW_GROUP, help=f"rows per Parquet row group (refresh writes {ROW_GROUP})"
    )
    ap.add_argument("--no-views", action="store_true", help="skip the in-process timing of every view")
    args = ap.parse_args()

    data = ensure_index(args.n, args.rebuild, args.row_group)
    from gensql.index import current_snapshot

    snap = current_snapshot(data / "index")
    gens_parquet = snap.table_path("gens")
    sql = query_body("tokens_by_model")
    # The same aggregation, straight over the Parquet file (what token_usage + tokens_by_model do).
    bare_sql = bare_query(sql, gens_parquet)
    bare = f"import duckdb\nfor row in duckdb.sql({bare_sql!r}).fetchall(): print(*row, sep=',')"
    elsewhere = HERE / "out"  # run from another directory than the repo, with explicit --data-root
    routes = [
        (
            "gensql sql '<tokens by model>' --format csv",
            GENSQL + ["sql", sql, "--data-root", str(data), "--format", "csv"],
        ),
        ("gensql sql '<tokens by model>' (table)", GENSQL + ["sql", sql, "--data-root", str(data)]),
        (
            "gensql query tokens_by_model --format csv",
            GENSQL + ["query", "tokens_by_model", "--data-root", str(data), "--format", "csv"],
        ),
        ("python -c 'import duckdb; <same SQL over parquet>'", [PY, "-c", bare]),
        (
            "python -c 'import gensql.catalog' (import floor)",
            [PY, "-c", "import gensql.catalog, gensql.query, gensql.render"],
        ),
        ("python -c 'import duckdb' (interpreter + duckdb)", [PY, "-c", "import duckdb"]),
    ]
    import pyarrow.parquet as pq

    groups = sum(pq.ParquetFile(f).metadata.num_row_groups for f in sorted(gens_parquet.glob("stage=*/*.parquet")))
    env_note = (
        f"{args.n:,} generations in {groups} row groups, {args.runs} runs each, warm cache, {os.cpu_count()} CPUs"
    )
    print(f"\n`gensql sql` on a synthetic index: {env_note}\n")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"{'command (whole process)':54} {'wall min':>9} {'wall median':>12} {'cpu median':>11}")
    for label, cmd in routes:
        walls, cpus, _ = timed(cmd, elsewhere, args.runs)
        print(f"{label:54} {min(walls):9.3f} {statistics.median(walls):12.3f} {statistics.median(cpus):11.3f}")
    import duckdb

    import gensql

    con = gensql.connect(data)
    same = con.sql(sql).fetchall() == duckdb.sql(bare_sql).fetchall()
    print(f"\ngensql view and bare parquet query give identical rows: {same}")

    if args.no_views:
        return
    # In-process: connect and every view / named query over the million rows.
    from gensql.query import list_queries, run_named

    started = time.perf_counter()
    con = gensql.connect(data)
    connect_s = time.perf_counter() - started
    print(f"\nin-process: gensql.connect() {connect_s * 1000:.0f} ms\n")
    print(f"{'view / named query':40} {'rows':>10} {'seconds':>8}")
    for view in (
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
    ):
        started = time.perf_counter()
        rows = con.sql(f"SELECT count(*) FROM (SELECT * FROM {view})").fetchall()[0][0]
        print(f"{'SELECT * FROM ' + view:40} {rows:>10,} {time.perf_counter() - started:8.3f}")
    sample_eval = con.sql("SELECT gen_id FROM scores WHERE NOT broken_link ORDER BY gen_id LIMIT 1").fetchall()[0][0]
    params = {"latest_attempts": {"stage": "evaluation"}, "lineage": {"gen_id": sample_eval}}
    for q in list_queries():
        started = time.perf_counter()
        result = run_named(con, q.name, params.get(q.name, {}))
        print(f"{'query ' + q.name:40} {result.num_rows:>10,} {time.perf_counter() - started:8.3f}")
    for macro in ("ancestors", "descendants"):
        started = time.perf_counter()
        rows = con.sql(f"SELECT count(*) FROM {macro}($g)", params={"g": sample_eval}).fetchall()[0][0]
        print(f"{macro + '(<one evaluation>)':40} {rows:>10,} {time.perf_counter() - started:8.3f}")


if __name__ == "__main__":
    main()

"""Benchmark `gensql serve`: every page's server time on a 1,000,000-row index.

    .venv/bin/python bench/bench_serve.py [--n 1000000] [--runs 5] [--rebuild]

The index is synthesised with bench_sql.py's generator (its ``synth_sql``: 5% drafts, 5% essays, 90%
evaluations, lineage links, statuses, tokens, metadata JSON), gens columns it does not make filled in
(``store_root``, ``gen_dir``; the rest NULL), written in refresh's layout (per-generation tables
hash-partitioned by gen_id within each stage, docs/index-layout.md) and committed with the real
``SnapshotBuilder`` and ``write_catalog``; built once and cached under ``bench/out/serve_<n>/``. Each page is
requested in-process through Starlette's TestClient (no network, no browser): the first request of a
page (cold: nothing cached for this snapshot) and the median and worst of ``--runs`` more. The server's
own time is the ``Server-Timing`` header the app sets (routing, queries, template). Not part of the tests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import bench_sql  # noqa: E402  (its generator of a synthetic gens table)

TARGET_MS = 150.0


def build_index(n: int, rebuild: bool) -> Path:
    """A data root whose index holds ``n`` synthetic generations (gens/ itself stays empty)."""
    import shutil

    import duckdb
    import pyarrow as pa

    from gensql import layout
    from gensql.catalog import write_catalog
    from gensql.fields import GENS_SCHEMA
    from gensql.index import SnapshotBuilder, current_snapshot
    from gensql.membership import MEMBERSHIP_SCHEMA
    from gensql.scan import ERRORS_SCHEMA

    data = HERE / "out" / f"serve_{n}" / "data"
    snap = current_snapshot(data / layout.INDEX_DIR)
    if snap is not None and not rebuild and snap.info.get("generations") == n and "partition_bits" in snap.info:
        return data
    shutil.rmtree(data.parent, ignore_errors=True)
    for stage in layout.STAGES:
        (data / layout.GENS_DIR / stage).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    made = con.sql(bench_sql.synth_sql(n)).to_arrow_table()
    import pyarrow.compute as pc

    filled = {
        "store_root": lambda: pa.array(["gens"] * made.num_rows),
        "gen_dir": lambda: pc.binary_join_element_wise("gens", made.column("stage"), made.column("gen_id"), "/"),
    }
    columns = []
    for f in GENS_SCHEMA:
        if f.name in made.column_names:
            columns.append(made.column(f.name).cast(f.type))
        elif f.name in filled:
            columns.append(filled[f.name]().cast(f.type))
        else:
            columns.append(pa.nulls(made.num_rows, f.type))
    gens = pa.Table.from_arrays(columns, schema=GENS_SCHEMA)
    con.register("g", gens)
    members = (
        con.sql(
            "SELECT 'cohort-' || (hash(gen_id, 'm') % 40)::VARCHAR AS cohort_id, stage, gen_id, "
            "(row_number() OVER (PARTITION BY hash(gen_id, 'm') % 40 ORDER BY gen_id) + 1)::BIGINT AS line, NULL::VARCHAR AS extras "
            "FROM g WHERE hash(gen_id, 'keep') % 4 = 0"
        )
        .to_arrow_table()
        .cast(MEMBERSHIP_SCHEMA)
    )
    errors = (
        con.sql(
            "SELECT 'gens/' || stage || '/' || gen_id || '/raw_metadata.json' AS path, stage, gen_id, 'raw_metadata.json' AS file, "
            "'invalid_json' AS kind, 'invalid JSON: unexpected end of data' AS message FROM g WHERE hash(gen_id, 'err') % 2000 = 0"
        )
        .to_arrow_table()
        .cast(ERRORS_SCHEMA)
    )
    con.close()
    builder = SnapshotBuilder(data / layout.INDEX_DIR)
    try:
        bits_of = write_tables(builder, gens, {"membership": members, "scan_errors": errors})
        builder.commit(
            {"generations": n, "synthetic": True, "data_root": str(data), "partition_bits": bits_of},
            before_swap=write_catalog,
        )
    except BaseException:
        builder.abort()
        raise
    print(f"built a {n:,}-row synthetic index in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return data


def write_tables(builder, gens, others: dict) -> dict[str, int]:
    """Write the snapshot's tables in the layout refresh writes (docs/index-layout.md): the per-generation
    tables hash-partitioned by gen_id within each stage, rows sorted by gen_id; the others one file each."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from gensql import layout
    from gensql.fields import GENS_SCHEMA
    from gensql.partitions import ROW_GROUP_ROWS, buckets, choose_bits, sort_by_gen_id
    from gensql.scan import MANIFEST_SCHEMA, TEXTS_SCHEMA

    for name, table in others.items():
        pq.write_table(table, builder.path(name))
    bits_of = {}
    for stage in layout.STAGES:
        rows = gens.filter(pc.equal(gens.column("stage"), stage))
        bits = bits_of[stage] = choose_bits(rows.num_rows, None)
        of = pa.array(buckets(rows.column("gen_id").to_pylist(), bits), pa.int32())
        for b in range(1 << bits):
            part = sort_by_gen_id(rows.filter(pc.equal(of, b))).cast(GENS_SCHEMA)
            for table in ("gens", "_gens_scan"):
                pq.write_table(part, builder.part_path(table, stage, bits, b), row_group_size=ROW_GROUP_ROWS)
        pq.write_table(
            TEXTS_SCHEMA.empty_table(), builder.part_path("texts", stage, bits, 0)
        )  # no texts: no search index
        pq.write_table(MANIFEST_SCHEMA.empty_table(), builder.part_path("_manifest", stage, bits, 0))
    return bits_of


def server_ms(response) -> float:
    timing = response.headers.get("server-timing", "")
    return float(timing.split("dur=", 1)[1].split(",", 1)[0]) if "dur=" in timing else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()

    import gensql

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from starlette.testclient import TestClient

    from gensql.serve import create_app

    data = build_index(args.n, args.rebuild)
    con = gensql.connect(data)
    draft = con.sql(
        "SELECT parent_gen_id FROM gens WHERE stage = 'essay' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    ).fetchall()[0][0]
    essay = con.sql(
        "SELECT parent_gen_id FROM gens WHERE stage = 'evaluation' AND parent_gen_id LIKE 'e_%' "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    ).fetchall()[0][0]
    model = con.sql("SELECT model_id FROM gens GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchall()[0][0]
    con.close()

    started = time.perf_counter()
    app = create_app(data)
    client = TestClient(app)
    created = time.perf_counter()
    first = client.get("/sql")  # the first request opens the snapshot: connections, views, schema
    print(
        f"app created in {(created - started) * 1000:.0f} ms; first page (/sql: opens the snapshot) after "
        f"{(time.perf_counter() - started) * 1000:.0f} ms (HTTP {first.status_code})"
    )
    app.state.workbench.warm_done.wait(300)
    print(
        f"background warm-up of the snapshot's facts (overview, facets, problems, reports) done after "
        f"{(time.perf_counter() - started):.1f} s; 'first' below is a page's first request after it"
    )

    page2 = client.get("/generations").text.split('id="next-page" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    deep = "/generations"
    for _ in range(20):  # the 21st page: keyset pagination does not rescan the pages before it
        deep = client.get(deep).text.split('id="next-page" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    pages = [
        ("overview", "/"),
        ("generations", "/generations"),
        ("generations, page 2", page2),
        ("generations, page 21", deep),
        ("generations, 2 facets", f"/generations?stage=evaluation&model={model}"),
        ("generations, sort by tokens", "/generations?sort=completion_tokens&dir=desc"),
        ("generations, id contains", "/generations?q=v_00"),
        ("generation (essay)", f"/gen/essay/{essay}"),
        ("generation, diff", f"/gen/essay/{essay}?diff={essay}&file=raw"),
        ("compare (draft)", f"/compare/draft/{draft}"),
        ("reports, by model", "/reports?by=model"),
        ("reports, by day", "/reports?by=day"),
        ("problems", "/problems"),
        ("scan errors", "/scan-errors"),
        ("search", "/search?q=network"),
        ("sql console", "/sql?q=SELECT+model_id%2C+count(*)+FROM+gens+GROUP+BY+1"),
        ("generations CSV (50k rows)", "/generations?stage=essay&format=csv"),
    ]
    print(
        f"\n{args.n:,}-row index; server time in ms (Server-Timing), target {TARGET_MS:.0f} ms; {args.runs} warm runs\n"
    )
    print(f"{'page':<30} {'status':>6} {'first':>8} {'median':>8} {'worst':>8}")
    slow = []
    for name, url in pages:
        t0 = time.perf_counter()
        r = client.get(url)
        cold = server_ms(r) if "format=" not in url else (time.perf_counter() - t0) * 1000
        warm = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            r = client.get(url)
            warm.append(server_ms(r) if "format=" not in url else (time.perf_counter() - t0) * 1000)
        med, worst = statistics.median(warm), max(warm)
        if "format=" not in url and max(cold, worst) > TARGET_MS:
            slow.append(name)
        print(f"{name:<30} {r.status_code:>6} {cold:>8.1f} {med:>8.1f} {worst:>8.1f}")
    app.state.workbench.close()
    print("\nover the target: " + (", ".join(slow) if slow else "none"))


if __name__ == "__main__":
    main()

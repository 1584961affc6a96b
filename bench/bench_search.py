"""Benchmark texts and full-text search against what a user would do instead, side by side in one run.

    python bench/bench_search.py [--n 100000] [--queries 200]

On the bench store (gensql's generator, bench profile: realistic lognormal text sizes; built once and
cached under bench/out/, shared with bench_refresh.py), times, warm cache:

1. `gensql refresh --full --no-texts` and `gensql refresh --full` (texts table + search index), against
   the read floor with texts: `cat` of every file a refresh with texts reads (three JSON files and the
   three texts per generation), one process and two (the machine's cores);
2. the search index size against the bytes of text it covers;
3. search latency in process (`gensql.search`, p50/p95 over --queries queries: words, phrases,
   booleans, prefixes, filters) and as a whole `gensql search` command (start-up included);
4. the alternatives: SQLite FTS5 over the same texts (build time, size, query p50/p95 with bm25 and
   snippet) and `grep -r -l -i` over the store (one phrase).

Peak memory is the summed PSS of each command's process tree. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from _measure import run, table  # noqa: E402

PY = sys.executable
WORDS = (
    "network",
    "serendipity",
    "critic",
    "feedback",
    "library",
    "mechanism",
    "compounding",
    "verifier",
    "incubation",
    "analogical",
    "curiosity",
    "moats",
    "evolutionary",
    "graphs",
    "wandering",
)
PHRASES = ('"default mode network"', '"feedback loops"', '"knowledge graphs"', '"peer review"', '"economic moats"')


def build_store(n: int) -> Path:
    root = HERE / "out" / f"store-{n}"
    if not (root / ".complete").exists():
        from gensql.synth import make_store

        if root.exists():
            shutil.rmtree(root)
        print(f"building a {n:,}-generation store in {root} ...", file=sys.stderr)
        started = time.perf_counter()
        make_store(root, n=n, seed=0, profile="bench")
        (root / ".complete").write_text("ok")
        print(f"  built in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return root


def queries(count: int) -> list[tuple[str, dict]]:
    rng = random.Random(1)
    out: list[tuple[str, dict]] = []
    for i in range(count):
        kind = i % 5
        if kind == 0:
            out.append((rng.choice(WORDS), {}))
        elif kind == 1:
            out.append((rng.choice(PHRASES), {}))
        elif kind == 2:
            out.append((f"{rng.choice(WORDS)} AND {rng.choice(WORDS)}", {}))
        elif kind == 3:
            out.append((rng.choice(WORDS)[:5] + "*", {}))
        else:
            out.append((rng.choice(WORDS), {"stage": "essay", "file": "parsed"}))
    return out


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def text_paths(root: Path) -> list[tuple[str, str, Path]]:
    out = []
    for stage in ("draft", "essay", "evaluation"):
        for d in os.scandir(root / "gens" / stage):
            for kind in ("prompt", "raw", "parsed"):
                out.append((d.name, kind, Path(d.path) / f"{kind}.txt"))
    return out


def bench_fts5(root: Path, work: Path, qs: list[tuple[str, dict]]) -> tuple[float, int, list[float]]:
    db = work / "fts5.sqlite"
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute("CREATE VIRTUAL TABLE t USING fts5(gen_id UNINDEXED, file UNINDEXED, body)")
    batch = []
    for gen_id, kind, path in text_paths(root):
        batch.append((gen_id, kind, path.read_bytes().decode("utf-8", errors="replace")))
        if len(batch) >= 10_000:
            con.executemany("INSERT INTO t VALUES (?, ?, ?)", batch)
            batch.clear()
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", batch)
    con.commit()
    build = time.perf_counter() - started
    size = db.stat().st_size
    times = []
    for q, _filters in qs:
        fts = q.replace(" AND ", " AND ")
        t0 = time.perf_counter()
        con.execute(
            "SELECT gen_id, file, bm25(t), snippet(t, 2, '**', '**', '...', 16) FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT 20",
            (fts,),
        ).fetchall()
        times.append(time.perf_counter() - t0)
    con.close()
    return build, size, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--cli-runs", type=int, default=20)
    parser.add_argument("--skip-fts5", action="store_true")
    args = parser.parse_args()
    root = build_store(args.n)
    work = HERE / "out" / f"search-{args.n}"
    work.mkdir(parents=True, exist_ok=True)
    no_texts, with_texts = work / "index-no-texts", work / "index-texts"
    base = [PY, "-m", "gensql", "refresh", "--data-root", str(root), "-q", "--full"]
    every_file = f"cd {root} && find gens -type f -print0"
    floor1 = f"{every_file} | xargs -0 cat > /dev/null"
    floor2 = f"{every_file} | xargs -0 -P 2 -n 2000 cat > /dev/null"
    run("warm-up", floor1, shell=True)

    rows = [
        run("gensql refresh --full --no-texts", base + ["--no-texts", "--index-dir", str(no_texts)]),
        run("gensql refresh --full (texts + search index)", base + ["--index-dir", str(with_texts)]),
        run("floor: cat every file, 1 process", floor1, shell=True),
        run("floor: cat every file, 2 processes", floor2, shell=True),
    ]
    full = rows[1]

    import gensql

    search_dir = Path(os.path.realpath(with_texts / "current")) / "search"
    index_bytes = sum(p.stat().st_size for p in search_dir.iterdir() if p.is_file())
    con = gensql.connect(root, with_texts)
    text_bytes, n_texts = con.execute("SELECT sum(bytes), count(*) FROM texts").fetchone()

    qs = queries(args.queries)
    gensql.search(root, "network", index_dir=with_texts)  # open once: the first query pays the mmap
    in_process = []
    for q, filters in qs:
        t0 = time.perf_counter()
        gensql.search(root, q, index_dir=with_texts, **filters)
        in_process.append(time.perf_counter() - t0)
    cli = []
    for q, _ in qs[: args.cli_runs]:
        t0 = time.perf_counter()
        subprocess.run(
            [
                PY,
                "-m",
                "gensql",
                "search",
                q,
                "--data-root",
                str(root),
                "--index-dir",
                str(with_texts),
                "--format",
                "csv",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        cli.append(time.perf_counter() - t0)
    grep = run(
        "grep -r -l -i 'default mode network' over the store",
        f"grep -r -l -i 'default mode network' {root}/gens > /dev/null",
        shell=True,
    )

    print(
        f"\n{args.n:,} generations, {n_texts:,} texts, {text_bytes / 1e6:,.0f} MB of text, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}\n"
    )
    print(table(rows + [grep], baseline=full))
    print(
        f"\nrefresh with texts / refresh without = {full.seconds / rows[0].seconds:.2f}x; "
        f"with texts / 2-process cat floor = {full.seconds / rows[3].seconds:.2f}x (goal <= 1.5x); "
        f"/ 1-process floor = {full.seconds / rows[2].seconds:.2f}x"
    )
    print(f"search index: {index_bytes / 1e6:,.1f} MB = {index_bytes / text_bytes:.2f}x the text (goal <= 0.4x)")
    print(
        f"gensql.search in process: p50 {pct(in_process, 50) * 1e3:.1f} ms, p95 {pct(in_process, 95) * 1e3:.1f} ms "
        f"over {len(in_process)} queries (goal < 20 ms)"
    )
    print(
        f"gensql search (whole command): p50 {pct(cli, 50):.2f} s, p95 {pct(cli, 95):.2f} s over {len(cli)} runs (goal < 0.5 s)"
    )
    print(
        f"grep -r: {grep.seconds:.2f} s per query = {grep.seconds / statistics.median(in_process):,.0f}x gensql.search p50"
    )
    if not args.skip_fts5:
        build, size, fts = bench_fts5(root, work, qs)
        print(
            f"SQLite FTS5: build {build:.1f} s, {size / 1e6:,.1f} MB = {size / text_bytes:.2f}x the text; "
            f"query p50 {pct(fts, 50) * 1e3:.1f} ms, p95 {pct(fts, 95) * 1e3:.1f} ms "
            f"(gensql.search p50 is {statistics.median(fts) / statistics.median(in_process):.1f}x faster)"
        )


if __name__ == "__main__":
    main()

"""Benchmark `gensql refresh` against what a user would do instead, side by side in one run.

    python bench/bench_refresh.py [--n 100000] [--jobs N]
    python bench/bench_refresh.py --n 100000 --sweep 1,2,4,8,16 [--routes no-texts,texts]

Builds (once, cached under bench/out/) a synthetic store with gensql's own generator (bench
profile: three JSON files and three text files per generation), then times, warm cache:

1. `gensql refresh --full --no-texts` (the baseline: it reads what the floors read), `gensql refresh
   --full` (with the texts table and the search index), then a no-change `gensql refresh` (after the
   racy window);
2. DuckDB's own `read_json` over the metadata.json glob, COPY to Parquet, with its best setting
   (`preserve_insertion_order=false`; `union_by_name` runs out of memory on many small files), and
   the same over all three JSON globs (the information a refresh reads; still without stats, scores
   or any handling of malformed files, on which DuckDB aborts);
3. a plain single-threaded Python loop: `json.load` of the three JSON files + `os.stat` of the
   three text files per generation, rows to Parquet;
4. the read floor: `cat` of exactly the files a full refresh reads (three JSON files, and the
   evaluations' parsed.txt), with one and with two `cat` processes, and the stat floor (`find -printf`
   of every file's size and mtime). (A refresh with texts also reads prompt.txt and raw.txt for the
   texts table and the search index; those are not in the floor.) And the parse floor: the same files
   read and parsed with `orjson.loads` in two processes, nothing else (no stat, no typing, no Parquet):
   the least CPU any reader of these JSON files spends.

With ``--sweep``, each ``--jobs`` value instead times `gensql refresh --full --no-texts -j N` and
`gensql refresh --full -j N` beside their floors at the same parallelism: ``cat`` of the files a
``--no-texts`` refresh reads, and ``cat`` of every file of the store, each split over N ``cat``
processes (``xargs -P N``), and prints the ratios (the goals of issue 27 are stated in them).

Peak memory is the summed PSS of each command's process tree (shared pages counted once). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _measure import run, table  # noqa: E402

PY = sys.executable

LOOP = r"""
import json, os, sys
import pyarrow as pa, pyarrow.parquet as pq
root = sys.argv[1]
rows = []
for stage in ("draft", "essay", "evaluation"):
    base = f"{root}/gens/{stage}"
    for gen_id in sorted(os.listdir(base)):
        d = f"{base}/{gen_id}"
        merged = {}
        for name in ("metadata.json", "parsed_metadata.json", "raw_metadata.json"):
            try:
                with open(f"{d}/{name}") as f:
                    merged.update(json.load(f))
            except (FileNotFoundError, ValueError):
                pass
        row = {"stage": stage, "gen_id": gen_id, "model": merged.get("llm_model_id"), "template": merged.get("template_id"),
               "parent": merged.get("parent_gen_id"), "usage": json.dumps(merged.get("usage")), "meta": json.dumps(merged)}
        for name in ("prompt.txt", "raw.txt", "parsed.txt"):
            try:
                row[name] = os.stat(f"{d}/{name}").st_size
            except FileNotFoundError:
                row[name] = None
        rows.append(row)
pq.write_table(pa.Table.from_pylist(rows), sys.argv[2])
"""

PARSE_FLOOR = r"""
import os, sys
from concurrent.futures import ProcessPoolExecutor
import orjson
root = sys.argv[1]

def parse(stage_names):
    stage, names = stage_names
    for name in names:
        d = f"{root}/gens/{stage}/{name}"
        for f in ("metadata.json", "parsed_metadata.json", "raw_metadata.json"):
            try:
                with open(f"{d}/{f}", "rb") as fh:
                    orjson.loads(fh.read())
            except (FileNotFoundError, orjson.JSONDecodeError):
                pass
        if stage == "evaluation":
            with open(f"{d}/parsed.txt", "rb") as fh:
                fh.read()
    return len(names)

chunks = []
for stage in ("draft", "essay", "evaluation"):
    names = os.listdir(f"{root}/gens/{stage}")
    chunks += [(stage, names[i:i + 2000]) for i in range(0, len(names), 2000)]
with ProcessPoolExecutor(2) as pool:
    print(sum(pool.map(parse, chunks)))
"""

DUCKDB = r"""
import sys, duckdb
con = duckdb.connect()
con.execute("SET preserve_insertion_order = false")
names = sys.argv[3].split(",")
for name in names:
    con.execute("COPY (SELECT * FROM read_json(?, filename = true)) TO '" + sys.argv[2] + "." + name + ".parquet' (FORMAT parquet)", [sys.argv[1] + "/gens/*/*/" + name])
"""


def build_store(n: int) -> Path:
    root = HERE / "out" / f"store-{n}"
    marker = root / ".complete"
    if not marker.exists():
        sys.path.insert(0, str(HERE.parent))
        from gensql.synth import make_store

        print(f"building a {n:,}-generation store in {root} ...", file=sys.stderr)
        started = time.perf_counter()
        make_store(root, n=n, seed=0, profile="bench")
        marker.write_text("ok")
        print(f"  built in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return root


def floor_commands(root: Path, procs: int) -> tuple[str, str]:
    """``cat`` of the files a ``--no-texts`` refresh reads, and of every file, over ``procs`` processes."""
    xargs = f"xargs -0 -P {procs} -n 500 cat > /dev/null"
    meta = f"cd {root} && ( find gens -name '*.json' -print0; find gens/evaluation -name parsed.txt -print0 ) | {xargs}"
    every = f"cd {root} && find gens cohorts -type f -print0 | {xargs}"
    return meta, every


def sweep(root: Path, out: Path, jobs_list: list[int], routes: list[str], repeat: int) -> None:
    """The ``--jobs`` sweep: each route beside its floor at the same parallelism, best of ``repeat``."""
    index = out / f"index-sweep-{root.name}-{os.getpid()}"

    def best(label: str, cmd, shell: bool = False):
        runs = [run(label, cmd, shell=shell) for _ in range(repeat)]
        return min(runs, key=lambda r: r.seconds if r.returncode == 0 else float("inf"))

    meta0, every0 = floor_commands(root, 1)
    run("warm-up", every0, shell=True)
    lines = []
    header = (
        "| -j | meta floor s | --no-texts s | ratio | CPU s | peak MB "
        "| every-file floor s | with texts s | ratio | CPU s | peak MB |"
    )
    lines += [header, "|" + " --- |" * 11]
    for jobs in jobs_list:
        meta, every = floor_commands(root, jobs)
        gensql = [PY, "-m", "gensql", "refresh", "--data-root", str(root), "--index-dir", str(index), "-q"]
        gensql += ["--jobs", str(jobs), "--full"]
        cells = [str(jobs)]
        if "no-texts" in routes:
            floor = best(f"cat (refresh's files), {jobs} procs", meta, shell=True)
            refresh = best(f"gensql refresh --full --no-texts -j {jobs}", gensql + ["--no-texts"])
            cells += [f"{floor.seconds:.2f}", f"{refresh.seconds:.2f}", f"{refresh.seconds / floor.seconds:.2f}x"]
            cells += [
                f"{refresh.cpu_seconds:.1f}",
                f"{refresh.peak_mb:.0f}" + (f" ({refresh.note})" if refresh.returncode else ""),
            ]
        else:
            cells += [""] * 5
        if "texts" in routes:
            floor = best(f"cat (every file), {jobs} procs", every, shell=True)
            refresh = best(f"gensql refresh --full -j {jobs}", gensql)
            cells += [f"{floor.seconds:.2f}", f"{refresh.seconds:.2f}", f"{refresh.seconds / floor.seconds:.2f}x"]
            cells += [
                f"{refresh.cpu_seconds:.1f}",
                f"{refresh.peak_mb:.0f}" + (f" ({refresh.note})" if refresh.returncode else ""),
            ]
        else:
            cells += [""] * 5
        lines.append("| " + " | ".join(cells) + " |")
        print(lines[-1], file=sys.stderr, flush=True)
    load = os.getloadavg()[0]
    shutil.rmtree(index, ignore_errors=True)
    print(f"\n{root.name}: {os.cpu_count()} CPUs, warm page cache, load average {load:.1f}, best of {repeat}\n")
    print("\n".join(lines))
    print(
        "\nratio = refresh / floor at the same parallelism; CPU s = user + system seconds of the refresh's"
        " process tree (comparable on a loaded machine, where wall times are not)\n"
        "issue 27's goals: --no-texts within 1.2x at 16 and 1.3x at 2; with texts within 2.5x at 16 and 3x at 2"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="generations in the synthetic store")
    parser.add_argument("--jobs", type=int, default=None, help="gensql refresh --jobs")
    parser.add_argument("--duckdb-timeout", type=float, default=600)
    parser.add_argument(
        "--gensql-only", action="store_true", help="time only gensql refresh (full and no-op) and the floors"
    )
    parser.add_argument("--sweep", default=None, help="comma-separated --jobs values: the sweep against the floors")
    parser.add_argument("--routes", default="no-texts,texts", help="with --sweep: no-texts, texts or both")
    parser.add_argument("--repeat", type=int, default=1, help="with --sweep: runs per cell, the best counted")
    args = parser.parse_args()
    root = build_store(args.n)
    out = HERE / "out"
    if args.sweep:
        sweep(root, out, [int(j) for j in args.sweep.split(",")], args.routes.split(","), args.repeat)
        return
    index = out / f"index-{args.n}"
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    gensql = [PY, "-m", "gensql", "refresh", "--data-root", str(root), "--index-dir", str(index), "-q", *jobs]

    # Warm the page cache the way the floor measures it.
    floor_read = f"cd {root} && find gens -name '*.json' -print0 | xargs -0 cat > /dev/null && find gens/evaluation -name parsed.txt -print0 | xargs -0 cat > /dev/null"
    run("warm-up", floor_read, shell=True)

    # The baseline reads what the floors read: the JSON files and the evaluations' scores (--no-texts).
    full = run("gensql refresh --full --no-texts", gensql + ["--full", "--no-texts"])
    with_texts = run("gensql refresh --full (texts table + search index)", gensql + ["--full"])
    time.sleep(1.1)  # past the racy window, so the no-op refresh can trust its stats
    noop = run("gensql refresh (no change)", gensql)
    skipped = run("(skipped)", "true", shell=True)
    duck1 = duck3 = loop = skipped
    if not args.gensql_only:
        duck1 = run(
            "duckdb read_json(metadata glob) -> parquet",
            [PY, "-c", DUCKDB, str(root), str(out / "duckdb"), "metadata.json"],
            timeout=args.duckdb_timeout,
        )
        duck3 = run(
            "duckdb read_json(all 3 JSON globs) -> parquet",
            [PY, "-c", DUCKDB, str(root), str(out / "duckdb"), "metadata.json,raw_metadata.json,parsed_metadata.json"],
            timeout=args.duckdb_timeout,
        )
        loop = run(
            "python json.load loop (1 process) -> parquet", [PY, "-c", LOOP, str(root), str(out / "loop.parquet")]
        )
    floor = run("floor: cat the files refresh reads", floor_read, shell=True)
    floor2 = run(
        "floor: the same with two cat processes",
        floor_read.replace("xargs -0 cat", "xargs -0 -P 2 -n 2000 cat"),
        shell=True,
    )
    stat_floor = run(
        "floor: find -printf (stat every file)",
        f"cd {root} && find gens -type f -printf '%s %T@\\n' > /dev/null",
        shell=True,
    )
    parse2 = run("floor: read + orjson.loads the same files, 2 processes", [PY, "-c", PARSE_FLOOR, str(root)])
    rows = [full, with_texts, noop, duck1, duck3, loop, floor, floor2, stat_floor, parse2]

    cached = "warm page cache" if args.n <= 200_000 else "store larger than the page cache: disk-bound"
    print(f"\n{args.n:,} generations, {os.cpu_count()} CPUs, {cached}, load average {os.getloadavg()[0]:.1f}\n")
    print(table(rows, baseline=full))
    print(
        f"\nratios (refresh = --full --no-texts): duckdb(metadata.json only)/refresh = {duck1.seconds / full.seconds:.2f}x; "
        f"duckdb(all three JSON files)/refresh = {duck3.seconds / full.seconds:.2f}x; "
        f"loop/refresh = {loop.seconds / full.seconds:.2f}x; refresh/read-floor = {full.seconds / floor.seconds:.2f}x (1 process), "
        f"{full.seconds / floor2.seconds:.2f}x (2 processes); refresh/parse-floor = {full.seconds / parse2.seconds:.2f}x; "
        f"no-op/stat-floor = {noop.seconds / stat_floor.seconds:.2f}x"
    )


if __name__ == "__main__":
    main()

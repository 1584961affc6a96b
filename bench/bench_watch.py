"""Benchmark live updates: the cost of an update for 1 / 100 / 10,000 changed generations, event-driven
(what `gensql refresh --watch` does) against a stat sweep (a plain incremental `gensql refresh`), and the
watcher's latency from a pipeline's write to a new `gensql.connect()` seeing it.

    python bench/bench_watch.py [--n 100000] [--changes 1,100,10000] [--writes 20]

Uses the store and index `bench/bench_refresh.py` builds (bench/out/store-N, bench/out/index-N; run that
first, or this builds them). The store is changed in place: each round appends a line to `raw.txt` of
that many random generations (an in-place rewrite), then times, in a fresh process, the refresh call
alone in a warm process (after an event update naming nothing, whose time is printed as the fixed cost
of an update: what a running watcher pays), the deletion of the superseded snapshot that follows it
(the watcher does it after the update is visible), and the process's peak memory (summed PSS). The
watch-latency part starts `gensql refresh --watch` and writes new generations through
`gensql.write_generation`, one at a time, polling `gensql.connect()` until each is visible.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from _measure import _tree_rss_kb, run  # noqa: E402

PY = sys.executable

UPDATE = r"""
import json, os, random, sys, time
from gensql import layout
from gensql.index import collect_garbage, writer_lock
from gensql.refresh import Changes, refresh_locked
from gensql.startup import lean_refresh_process
lean_refresh_process()  # as `gensql refresh --watch` does
root, index, k, mode, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
rng = random.Random(seed)
names = []
for stage in ("draft", "essay", "evaluation"):
    names += [(stage, n) for n in os.listdir(f"{root}/gens/{stage}")]
picked = rng.sample(names, k) if k else []
del names  # a million tuples: not the memory of the update
for stage, name in picked:
    with open(f"{root}/gens/{stage}/{name}/raw.txt", "a") as f:
        f.write("one more line\n")
time.sleep(1.1)  # past the racy window: the sweep can trust the signatures of the others
where = layout.resolve(root, index)
with writer_lock(where.index_dir, where.data_root):
    # What the watcher does: the update (visible when it returns), then the clean-up of superseded
    # snapshots. A watcher is a warm process (imports done, the previous snapshot in the page cache):
    # an event update naming nothing does that here, and its time is the fixed cost of an update.
    started = time.perf_counter()
    refresh_locked(where, changes=Changes(frozenset()), collect=False)
    warm = time.perf_counter() - started
    collect_garbage(where.index_dir)
    started = time.perf_counter()
    r = refresh_locked(where, changes=Changes(frozenset(picked)) if mode == "events" else None, collect=False)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    collect_garbage(where.index_dir)
    cleanup = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "cleanup": cleanup, "changed": r.changed, "new": r.new, "written": r.partitions_written,
                  "linked": r.partitions_linked, "listed": r.listed, "empty_update": warm}))
"""


def build(n: int) -> tuple[Path, Path]:
    root, index = HERE / "out" / f"store-{n}", HERE / "out" / f"index-{n}"
    if not (root / ".complete").exists() or not (index / "current").exists():
        subprocess.run([PY, str(HERE / "bench_refresh.py"), "--n", str(n), "--gensql-only"], check=True)
    return root, index


def update_costs(root: Path, index: Path, changes: list[int]) -> None:
    print(f"{'update':38} {'update s':>9} {'clean-up s':>10} {'peak MB':>8}  partitions written/linked; empty update s")
    for k in changes:
        for mode in ("events", "sweep"):
            out = HERE / "out" / "update.json"
            r = run(f"{k} changed, {mode}", f"{PY} -c '{UPDATE}' {root} {index} {k} {mode} {k} > {out}", shell=True)
            if r.returncode:
                print(f"{k} changed, {mode}: failed {r.note}")
                continue
            got = json.loads(out.read_text())
            label = f"{k:>6} changed generations, {'event-driven' if mode == 'events' else 'stat sweep'}"
            print(
                f"{label:38} {got['seconds']:9.2f} {got['cleanup']:10.2f} {r.peak_mb:8.0f}  {got['written']}/{got['linked']} (changed {got['changed']}); {got['empty_update']:.2f}"
            )


def watch_latency(root: Path, index: Path, writes: int) -> None:
    import warnings

    import gensql

    warnings.filterwarnings("ignore", message="the index .* is older than changes")  # polling while it catches up

    proc = subprocess.Popen(
        [PY, "-m", "gensql", "refresh", "--watch", "--data-root", str(root), "--index-dir", str(index)],
        stderr=subprocess.PIPE,
        text=True,
    )
    started = time.monotonic()
    line = proc.stderr.readline()  # the start-up sweep
    print(f"watcher start-up ({time.monotonic() - started:.1f}s): {line.strip()}")
    latencies, rng = [], random.Random(5)
    peak = 0
    try:
        for i in range(writes):
            ref = gensql.write_generation(
                root,
                "draft",
                template_id="bench",
                model_id="m-bench",
                combo_id=f"wb{i}",
                run_id=f"bench-{time.time_ns()}",
                prompt="p\n",
                raw="r\n",
                parsed="x\n",
            )
            written = time.monotonic()
            while True:
                con = gensql.connect(root, index)
                seen = con.execute(
                    "SELECT count(*) FROM gens WHERE stage = 'draft' AND gen_id = ?", [ref.gen_id]
                ).fetchall() == [(1,)]
                con.close()
                if seen:
                    break
                time.sleep(0.02)
            latencies.append(time.monotonic() - written)
            peak = max(peak, _tree_rss_kb(proc.pid))
            time.sleep(rng.uniform(0.2, 1.0))
        time.sleep(5)
        idle_cpu = _cpu_seconds(proc.pid)
        time.sleep(10)
        idle_cpu = _cpu_seconds(proc.pid) - idle_cpu
    finally:
        proc.send_signal(signal.SIGTERM)  # not SIGINT: a shell's background job may ignore it
        proc.wait(60)
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    print(
        f"write -> visible over {writes} writes: p50 {statistics.median(latencies):.2f}s, p95 {p95:.2f}s, max {latencies[-1]:.2f}s; "
        f"watcher peak {peak / 1024:.0f} MB (PSS); CPU while idle {idle_cpu / 10 * 100:.1f}% of a core"
    )


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--changes", default="1,100,10000")
    parser.add_argument("--writes", type=int, default=20)
    parser.add_argument("--no-watch", action="store_true", help="skip the watch-latency part")
    args = parser.parse_args()
    root, index = build(args.n)
    print(f"\n{args.n:,} generations, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}\n")
    update_costs(root, index, [int(k) for k in args.changes.split(",") if k])
    if not args.no_watch:
        watch_latency(root, index, args.writes)


if __name__ == "__main__":
    main()

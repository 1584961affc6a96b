"""Benchmark a refresh on a Dask cluster against worker count, with network-file-system latency simulated.

    python bench/bench_distributed.py [--n 3000] [--latency-ms 1.0] [--workers 1,2,4]

Builds (once, cached under bench/out/) a synthetic store with gensql's generator (bench profile: six
files per generation), then for each worker count starts a ``distributed.LocalCluster`` of that many
single-threaded worker processes and times a full refresh and a no-change refresh. Each worker runs the
real :func:`gensql.refresh.task.run_unit` (scan, partition files, search part: the workers share
this disk, ``shared_disk=True``), but every ``stat``, ``lstat`` and ``open`` it makes first sleeps
``--latency-ms``: one round trip to a file server per metadata operation, which is what makes a network
file system slow (data transfer of these small files is not the cost). The driver (listing, plan,
search assembly, commit) runs without added latency.

It also measures the per-directory costs the scaling estimate in docs/distributed.md is built from:
round trips per directory for a full scan and for a no-change check (counted), CPU per directory on
a worker (latency 0), and the driver's time per directory (listing, manifest join, partition writes,
commit: the refresh's time minus the time inside the units' tasks). Prints a table and the estimate
for 10M and 100M generations. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

_PATCHED = ("stat", "lstat", "open")


def with_latency(task, unit, latency_s):
    """run_unit with every stat/lstat/open delayed by ``latency_s`` (runs on a worker)."""
    from gensql.refresh.task import run_unit

    originals = {name: getattr(os, name) for name in _PATCHED}

    def slow(fn):
        def call(*args, **kwargs):
            time.sleep(latency_s)
            return fn(*args, **kwargs)

        return call

    for name, fn in originals.items():
        setattr(os, name, slow(fn))
    try:
        return run_unit(task, unit)
    finally:
        for name, fn in originals.items():
            setattr(os, name, fn)


def count_ops(root: Path, sample: int) -> tuple[float, float, float, float]:
    """Round trips and CPU seconds per directory, for a full scan and a no-change check (in this process)."""
    from gensql import layout
    from gensql.scan import racy_window_ns, scan_batch

    stage = "evaluation"
    names = sorted(os.listdir(root / layout.GENS_DIR / stage))[:sample]
    counter = {"n": 0}
    originals = {name: getattr(os, name) for name in _PATCHED}

    def counted(fn):
        def call(*args, **kwargs):
            counter["n"] += 1
            return fn(*args, **kwargs)

        return call

    racy = time.time_ns() - racy_window_ns()
    t = time.process_time()
    full = scan_batch(str(root), stage, [(g, None, None) for g in names], racy, True)
    cpu_full = (time.process_time() - t) / len(names)
    items = list(zip(names, full.manifest.column("mask").to_pylist(), full.manifest.column("sig").to_pylist()))
    t = time.process_time()
    scan_batch(str(root), stage, items, racy, True)
    cpu_check = (time.process_time() - t) / len(names)
    for name, fn in originals.items():
        setattr(os, name, counted(fn))
    try:
        counter["n"] = 0
        scan_batch(str(root), stage, [(g, None, None) for g in names], racy, True)
        ops_full = counter["n"] / len(names)
        counter["n"] = 0
        scan_batch(str(root), stage, items, racy, True)
        ops_check = counter["n"] / len(names)
    finally:
        for name, fn in originals.items():
            setattr(os, name, fn)
    return ops_full, ops_check, cpu_full, cpu_check


def driver_cost(root: Path, index: Path, texts: bool = True, clock=time.process_time) -> tuple[float, float]:
    """Seconds per directory the driver spends on a full and on a no-change refresh: the refresh's time
    minus the time inside the units' tasks (scans, partition files and search parts, what workers do),
    which run here, one after the other, as they would on workers sharing this disk. ``clock``: CPU
    time by default (every thread of this process), which a loaded machine does not inflate as it
    does wall time."""
    import gensql
    from gensql.refresh.listing import local_listing
    from gensql.refresh.task import run_unit

    class Timed:
        """An executor that runs units in this process and adds up the time they take."""

        data_root = None
        batch_size = None
        shares_disk = True

        def __init__(self) -> None:
            self.inside = 0.0

        def list_store(self, where):
            return local_listing(where)

        def scan(self, units, task):
            for unit in units:
                t = clock()
                result = run_unit(task, unit)
                self.inside += clock() - t
                yield result

        def close(self) -> None:
            pass

    shutil.rmtree(index, ignore_errors=True)
    timed = Timed()
    t = clock()
    result = gensql.refresh(root, index, executor=timed, texts=texts)
    full = (clock() - t - timed.inside) / result.generations
    time.sleep(1.1)  # past the racy window: the no-change refresh trusts every signature
    timed = Timed()
    t = clock()
    result = gensql.refresh(root, index, executor=timed, texts=texts)
    check = (clock() - t - timed.inside) / result.generations
    return full, check


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="generations in the store")
    parser.add_argument("--latency-ms", type=float, default=1.0, help="simulated round trip per stat/lstat/open")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to time")
    parser.add_argument(
        "--driver-n",
        type=int,
        default=30000,
        help="generations of the store the driver's per-directory cost is measured on",
    )
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    import gensql
    from gensql.distributed import DaskExecutor
    from gensql.synth import make_store

    root = OUT / f"dist-store-{args.n}"
    if not (root / "gens").is_dir():
        shutil.rmtree(root, ignore_errors=True)
        print(f"building a {args.n}-generation store in {root} ...", file=sys.stderr)
        make_store(root, n=args.n, seed=0, profile="bench")
    os.environ["GENSQL_RACY_WINDOW"] = "0"
    # A small store split as a large one is: partitions of ~128 rows (a 10M store has ~2,048 per
    # partition and thousands of them), tasks of ~200 directories, so every worker count has work.
    from gensql import partitions

    default_target = partitions.TARGET_ROWS
    partitions.TARGET_ROWS = 128
    latency = args.latency_ms / 1000
    t = time.perf_counter()
    for _ in range(200):
        time.sleep(latency)
    effective = (time.perf_counter() - t) / 200  # time.sleep overshoots; this is the round trip really simulated
    rows = []
    for workers in [int(w) for w in args.workers.split(",")]:
        index = OUT / f"dist-index-{args.n}-{workers}"
        shutil.rmtree(index, ignore_errors=True)
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):

            def task(*a):
                return with_latency(*a, latency_s=latency)

            client.run(lambda: None)
            t = time.perf_counter()
            executor = DaskExecutor(client, task=task, batch_size=200, shared_disk=True)
            full = gensql.refresh(root, index, executor=executor)
            t_full = time.perf_counter() - t
            t = time.perf_counter()
            again = gensql.refresh(root, index, executor=executor)
            t_again = time.perf_counter() - t
        assert full.generations == args.n and again.unchanged == args.n
        rows.append((workers, t_full, t_again))
        print(f"{workers} workers: full {t_full:.1f} s, no change {t_again:.1f} s", file=sys.stderr)

    ops_full, ops_check, cpu_full, cpu_check = count_ops(root, 500)
    n = args.n
    small_full, small_check = driver_cost(root, OUT / f"dist-index-{n}-driver")
    measured_full = (rows[0][1] - n * small_full) / n  # one single-threaded worker: its time per directory
    measured_check = (rows[0][2] - n * small_check) / n
    # The driver's cost per directory, on a larger store with the default partitions (fixed costs amortised)
    partitions.TARGET_ROWS = default_target
    big = OUT / f"dist-store-{args.driver_n}"
    if not (big / "gens").is_dir():
        shutil.rmtree(big, ignore_errors=True)
        print(f"building a {args.driver_n}-generation store in {big} ...", file=sys.stderr)
        make_store(big, n=args.driver_n, seed=1, profile="bench")
    drv_full, drv_check = driver_cost(big, OUT / f"dist-index-{args.driver_n}-driver")
    drv_notexts, _ = driver_cost(big, OUT / f"dist-index-{args.driver_n}-driver", texts=False)

    print(
        f"\nstore: {args.n} generations (six files each); simulated latency {args.latency_ms} ms per stat/lstat/open; "
        f"{os.cpu_count()} cores\n"
    )
    print("| workers | full refresh | speed-up | no-change refresh | speed-up |")
    print("| --- | --- | --- | --- | --- |")
    for workers, t_full, t_again in rows:
        print(
            f"| {workers} | {t_full:.1f} s | {rows[0][1] / t_full:.2f}x | {t_again:.1f} s | {rows[0][2] / t_again:.2f}x |"
        )
    print("\nper directory:")
    print(
        f"- round trips: full scan {ops_full:.1f}, no-change check {ops_check:.1f} "
        f"(one simulated round trip really took {effective * 1e3:.2f} ms)"
    )
    print(
        f"- one worker thread, measured (1-worker refresh minus driver): full {measured_full * 1e3:.1f} ms, "
        f"no change {measured_check * 1e3:.1f} ms"
    )
    print(f"- worker CPU: full scan {cpu_full * 1e3:.2f} ms, no-change check {cpu_check * 1e6:.0f} us")
    print(
        f"- driver, on {args.driver_n:,} generations (listing, plan, gens links and facts, search assembly, commit): full {drv_full * 1e6:.0f} us "
        f"({drv_notexts * 1e6:.0f} us with --no-texts), no change {drv_check * 1e6:.0f} us"
    )

    budget = 600.0
    print("\nscaling estimate, 10 minutes, worker threads (see docs/distributed.md for the assumptions):")
    cases = (
        ("full", measured_full, drv_full),
        ("full --no-texts", measured_full, drv_notexts),
        ("no change", measured_check, drv_check),
    )
    for n in (10_000_000, 100_000_000):
        for label, per_dir, drv in cases:
            driver = n * drv
            left = budget - driver
            if left <= 0:
                print(f"- {n:,} {label}: the driver alone needs {driver:.0f} s: over budget at any cluster size")
                continue
            workers = n * per_dir / left
            print(
                f"- {n:,} {label}: {per_dir * 1e3:.1f} ms per directory on a worker -> {workers:,.0f} worker threads "
                f"(driver {driver:.0f} s of the 600 s)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

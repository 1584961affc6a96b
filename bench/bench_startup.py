"""Benchmark the start-up of `gensql refresh`: the whole process on the sample store, against the floors.

    python bench/bench_startup.py [--runs 15]

Copies the sample store (data/) to bench/out/startup-store, indexes it once, then times, as whole
processes (interpreter start included), the median of ``--runs``:

1. `python -c pass` (the interpreter alone) and `python -c "import pyarrow, duckdb"` (the libraries a
   refresh cannot do without);
2. `gensql refresh` with nothing changed (the common case: a notebook's refresh before a query);
3. the same with one generation rewritten (a real update).

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable


def timed(cmd: list[str], runs: int, before=None) -> float:
    times = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    store = HERE / "out" / "startup-store"
    if store.exists():
        shutil.rmtree(store)
    shutil.copytree(HERE.parent / "data", store, ignore=shutil.ignore_patterns("index"))
    refresh = [PY, "-m", "gensql", "refresh", "-q", "--data-root", str(store)]
    subprocess.run(refresh, check=True)
    time.sleep(1.1)  # past the racy window
    some = sorted((store / "gens" / "essay").iterdir())[0] / "raw.txt"

    def touch() -> None:
        with open(some, "a") as f:
            f.write("x")

    rows = [
        ("python -c pass", timed([PY, "-c", "pass"], args.runs)),
        ("python -c 'import pyarrow, duckdb'", timed([PY, "-c", "import pyarrow, duckdb"], args.runs)),
        ("gensql refresh (nothing changed)", timed(refresh, args.runs)),
        ("gensql refresh (one generation rewritten)", timed(refresh, args.runs, touch)),
    ]
    gens = sum(1 for stage in ("draft", "essay", "evaluation") for _ in (store / "gens" / stage).iterdir())
    print(
        f"\nsample store ({gens} gens directories), {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, median of {args.runs}\n"
    )
    for label, seconds in rows:
        print(f"{label:45} {seconds:6.3f} s")


if __name__ == "__main__":
    main()

"""Benchmark `gensql report tokens --by model` on a 1,000,000-generation index, as whole processes.

    .venv/bin/python bench/bench_report.py [--n 1000000] [--runs 5] [--rebuild]

The index is the synthetic one of ``bench/bench_sql.py`` (same builder, same cache under
``bench/out/sql_<n>/``): 24 draft/essay models and 6 judges, ~5% copy-mode and skipped rows, token
counts on most calls. Two price tables are timed: the shipped sample table (which knows none of the
synthetic model ids: every call lands in the unpriced bucket and the unpriced note is computed) and a
table pricing every model (``model-*`` and ``judge-*`` globs plus a dated change), so the pricing
join and the cost sums run over every call.

Each route runs ``--runs`` times (warm cache), start-up included: interpreter, imports, connect,
price resolution, the query, rendering. Reported: min / median / max seconds and peak RSS of the
process tree. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _measure import run  # noqa: E402
from bench_sql import ensure_index  # noqa: E402

PRICES = """model,match,input_per_mtok,output_per_mtok,currency,effective_from,note
model-*,glob,1.00,4.00,USD,2025-01-01,bench
model-*,glob,0.80,3.20,USD,2025-06-01,bench: a dated change
judge-.*,regex,0.50,1.50,USD,2025-01-01,bench
model-00,exact,3.00,15.00,USD,2025-01-01,bench
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()

    data = ensure_index(args.n, args.rebuild)
    prices = HERE / "out" / "bench_prices.csv"
    prices.write_text(PRICES)
    gensql = [sys.executable, "-m", "gensql"]
    base = ["report", "tokens", "--data-root", str(data)]
    routes = [
        ("gensql report tokens --by model (table)", gensql + base + ["--by", "model"]),
        ("  ... --prices <every model priced>", gensql + base + ["--by", "model", "--prices", str(prices)]),
        (
            "  ... --prices <every model priced> --format csv",
            gensql + base + ["--by", "model", "--prices", str(prices), "--format", "csv"],
        ),
        (
            "  ... --by model,day --prices <every model priced>",
            gensql + base + ["--by", "model,day", "--prices", str(prices)],
        ),
        (
            "  ... --by cohort --prices <every model priced>",
            gensql + base + ["--by", "cohort", "--prices", str(prices)],
        ),
        (
            "gensql report scores --long --format csv",
            gensql + ["report", "scores", "--long", "--format", "csv", "--data-root", str(data)],
        ),
        (
            "gensql report scores --format csv (wide)",
            gensql + ["report", "scores", "--format", "csv", "--data-root", str(data)],
        ),
        (
            "gensql report cohort cohort-0",
            gensql + ["report", "cohort", "cohort-0", "--data-root", str(data), "--prices", str(prices)],
        ),
        (
            "python -c 'import gensql.reports' (import floor)",
            [sys.executable, "-c", "import gensql.cli, gensql.reports, gensql.catalog"],
        ),
    ]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\n`gensql report` on a synthetic index: {args.n:,} generations, {args.runs} runs each, warm cache, "
        f"{os.cpu_count()} CPUs, load average before: {load}\n"
    )
    print(f"{'command (whole process)':54} {'min s':>7} {'median s':>9} {'max s':>7} {'peak MB':>8}")
    for label, cmd in routes:
        results = [run(label, cmd) for _ in range(args.runs)]
        bad = [r for r in results if r.returncode]
        if bad:
            raise SystemExit(f"failed: {cmd}\n{bad[0].note}")
        times = [r.seconds for r in results]
        peak = max(r.peak_mb for r in results)
        print(f"{label:54} {min(times):7.3f} {statistics.median(times):9.3f} {max(times):7.3f} {peak:8.0f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Issue 27's --jobs sweep on a quiet many-core machine, from a fresh checkout, in about 5-8 minutes:
# builds the bench store (100,000 generations, bench profile: six files each, ~750 MB of text),
# then prints, for -j 1 2 4 8 16, `gensql refresh --full --no-texts` and `gensql refresh --full`
# (texts table + search index) beside their floors at the same parallelism (`cat` of the files a
# --no-texts refresh reads; `cat` of every file), the ratios, and each refresh's peak summed PSS.
#
#   bash bench/device_bench.sh [N] [JOBS]         # defaults: 100000 and 1,2,4,8,16
#
# Python packages the machine lacks (duckdb, orjson, tantivy) travel as wheels in .whl/ (see
# docs/distributed.md, "Measuring"); the machine's own pyarrow, click and tqdm are used. The
# tables also go to $OUT/sweep.md when $OUT is set.
set -uo pipefail
N=${1:-100000}
JOBS=${2:-1,2,4,8,16}
WHEELS=${WHEELS:-.whl}
started=$(date +%s)
if compgen -G "$WHEELS/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 -c "
import os, sys, platform, duckdb, orjson, pyarrow, tantivy, gensql
print(f'python {platform.python_version()}, {os.cpu_count()} CPUs, pyarrow {pyarrow.__version__}, duckdb {duckdb.__version__}, gensql from {os.path.dirname(gensql.__file__)}')
" || exit 1
nproc; free -g | head -2; df -h /tmp . | tail -2
python3 -c "
import sys, time; sys.path.insert(0, 'bench')
import bench_refresh
t = time.perf_counter(); bench_refresh.build_store($N); print(f'store ready in {time.perf_counter() - t:.0f} s', file=sys.stderr)
" || exit 1
du -sh "bench/out/store-$N" 2>/dev/null
python3 bench/bench_refresh.py --n "$N" --sweep "$JOBS" 2>&1 | tee /tmp/sweep.md
[ -n "${OUT:-}" ] && cp /tmp/sweep.md "$OUT/sweep.md"
echo "total $(( $(date +%s) - started )) s"

"""``python -m gensql.synth sample DIR`` and ``python -m gensql.synth store DIR --n N``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..layout import STAGES
from .store import PROFILES, make_sample_store, make_store
from .truth import StoreTruth

DESCRIPTION = "Deterministic generator of realistic gens stores, with the facts a scanner must find in them."


def _summary(truth: StoreTruth, root: Path, seconds: float) -> str:
    stages = ", ".join(f"{s} {truth.stage_counts.get(s, 0)}" for s in STAGES)
    return (
        f"gensql.synth: wrote {truth.n_gens} generations ({stages}), {len(truth.cohorts)} cohorts, "
        f"{len(truth.scan_errors)} expected scan errors, profile {truth.profile}, to {root} in {seconds:.1f}s"
    )


def _mtimes(cmd: str, root: Path) -> int:
    from .mtimes import record_mtimes, restore_mtimes

    try:
        if cmd == "record-mtimes":
            print(f"gensql.synth: wrote {record_mtimes(root)}", file=sys.stderr)
            return 0
        restored, missing = restore_mtimes(root)
    except (OSError, ValueError) as exc:
        print(f"gensql.synth: {exc}", file=sys.stderr)
        return 2
    note = f" ({missing} listed paths do not exist)" if missing else ""
    print(f"gensql.synth: restored the mtimes of {restored} paths under {root}{note}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gensql.synth", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("sample", help="write the committed sample store (fixed seed)")
    sp.add_argument("dir", type=Path)
    st = sub.add_parser("store", help="write a synthetic store")
    st.add_argument("dir", type=Path)
    st.add_argument("--n", type=int, required=True, help="number of generations (a target for mixed)")
    st.add_argument("--seed", type=int, default=0)
    st.add_argument("--profile", choices=PROFILES, default="mixed")
    rm = sub.add_parser("restore-mtimes", help="set the sample store's file times from DIR/mtimes.tsv")
    rm.add_argument("dir", type=Path)
    rc = sub.add_parser("record-mtimes", help="write DIR/mtimes.tsv from the file times under DIR")
    rc.add_argument("dir", type=Path)
    args = parser.parse_args(argv)
    if args.cmd in ("restore-mtimes", "record-mtimes"):
        return _mtimes(args.cmd, args.dir)
    started = time.perf_counter()
    try:
        if args.cmd == "sample":
            truth = make_sample_store(args.dir)
        else:
            truth = make_store(args.dir, n=args.n, seed=args.seed, profile=args.profile)
    except (FileExistsError, ValueError) as exc:
        print(f"gensql.synth: {exc}", file=sys.stderr)
        return 2
    print(_summary(truth, args.dir, time.perf_counter() - started), file=sys.stderr)
    return 0

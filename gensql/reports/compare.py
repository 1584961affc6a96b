"""The compare report: is essay template (model, draft template) A scored higher than B, beyond the noise?"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date

import polars as pl

from .connection import DataRoot, connection, snapshot_id
from .filters import as_list, make_filters, unmatched_notes
from .judged import counted_scores, unreachable_note
from .report import Report, ReportError, frame_with_notes
from .stats import (
    cluster_bootstrap_ci,
    cohen_dz,
    exact_mean_diff,
    group_rng,
    holm,
    require_scipy,
    scaled_ints,
    score_decimals,
    wilcoxon_p,
)

#: --by -> (the column that tells the sides apart, the unit both sides are paired on, what a unit is).
COMPARE_BY: dict[str, tuple[str, str, str]] = {
    "template": ("essay_template_id", "draft_gen_id", "draft"),
    "model": ("essay_model_id", "draft_gen_id", "draft"),
    "draft-template": ("draft_template_id", "combo_id", "combo"),
}
DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 0
#: The ``judge`` of the row that pools every judge.
ALL_JUDGES = "all judges"
#: Fewer paired units than this: a strong note (an interval from 2 drafts is just the two differences).
FEW_UNITS = 5
COMPARE_COLUMNS: tuple[str, ...] = (
    "by",
    "a",
    "b",
    "judge",
    "unit",
    "units_a",
    "units_b",
    "pairs",
    "only_a",
    "only_b",
    "cells",
    "scores_a",
    "scores_b",
    "mean_a",
    "mean_b",
    "mean_diff",
    "ci_low",
    "ci_high",
    "dz",
    "wins",
    "ties",
    "losses",
    "wilcoxon_stat",
    "p_value",
    "p_holm",
    "note",
)
_TEXT = frozenset({"by", "a", "b", "judge", "unit", "note"})
_FLOAT = frozenset({"mean_a", "mean_b", "mean_diff", "ci_low", "ci_high", "dz", "wilcoxon_stat", "p_value", "p_holm"})
_SCHEMA = {c: pl.String if c in _TEXT else pl.Float64 if c in _FLOAT else pl.Int64 for c in COMPARE_COLUMNS}


def compare_report(
    data_root: DataRoot = None,
    by: str = "template",
    a: str | None = None,
    b: str | None = None,
    judge: str | Iterable[str] | None = None,
    criterion: str | Iterable[str] | None = None,
    cohort: str | None = None,
    since: date | str | None = None,
    until: date | str | None = None,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    index_dir: str | os.PathLike | None = None,
    with_notes: bool = False,
) -> pl.DataFrame:
    """A paired comparison of two essay templates (``by="template"``), essay models (``"model"``) or
    draft templates (``"draft-template"``), as a one-row polars DataFrame.

    Scores are one per logical evaluation (the ``counted_scores`` rule), optionally only from the
    evaluation models ``judge`` and the evaluation templates ``criterion``. Sides are paired on a unit
    both cover: the draft (template, model: essays written from the same draft) or the combo (draft
    template: drafts of the same combo). Within a unit, each side's value per judge x criterion is the
    mean of its scores there, and only the judge x criterion cells both sides have count (so a judge
    that scored one side only cannot tilt the result); the unit's difference is the mean over its cells
    of A - B, computed exactly at the scores' own precision (the decimals they are written with), so
    a difference that is zero on the scale is a tie, never 8.9e-16. Reported: units with A, with B,
    usable ``pairs`` and what was left out (``only_a``, ``only_b``), ``cells`` and the scores behind
    each side, the sides' means over the pairs, ``mean_diff`` with its bootstrap interval (resampling
    units, ``resamples`` times, ``seed``), Cohen's ``dz`` (mean difference / its standard deviation),
    wins / ties / losses of A, the two-sided Wilcoxon signed-rank p-value (scipy; zero differences
    dropped) and ``p_holm``, Holm-adjusted over the rows of the report.

    The first row (``judge`` = ``all judges``) pools every judge; when more than one judge scored
    both sides, one row per judge follows (its cells only), so a judge that dilutes or carries the
    difference is visible. Needs numpy and scipy (the ``stats`` extra).
    """
    rep = build_compare(
        data_root,
        by,
        a,
        b,
        judge,
        criterion,
        cohort,
        since,
        until,
        resamples=resamples,
        seed=seed,
        index_dir=index_dir,
    )
    return frame_with_notes(rep, with_notes)


def build_compare(
    data_root: DataRoot = None,
    by="template",
    a=None,
    b=None,
    judge=None,
    criterion=None,
    cohort=None,
    since=None,
    until=None,
    *,
    resamples=DEFAULT_RESAMPLES,
    seed=DEFAULT_SEED,
    index_dir=None,
) -> Report:
    np, _ = require_scipy()
    if by not in COMPARE_BY:
        raise ReportError(f"cannot compare by {by!r}: expected one of {', '.join(COMPARE_BY)}")
    if a is None or b is None or a == b:
        raise ReportError("compare needs two different values A and B")
    if resamples < 1:
        raise ReportError(f"resamples must be at least 1 (got {resamples})")
    side_col, unit_col, unit_name = COMPARE_BY[by]
    con = connection(data_root, index_dir)
    filters = make_filters(con, cohort, None, None, since, until)
    df, unreachable = counted_scores(con, filters, judges=judge, criteria=criterion)
    notes = [
        *filters.notes,
        *unmatched_notes(con, model=as_list(judge), template=as_list(criterion), within_stage="evaluation"),
        *unreachable_note(unreachable),
    ]
    known = sorted(v for v in df[side_col].unique().to_list() if v is not None)
    for value in (a, b):
        if value not in known:
            raise ReportError(
                f"no scored evaluation of {by} {value!r} (with these filters); {by}s: "
                f"{', '.join(known) if known else 'none'}"
            )
    sides = df.filter(pl.col(side_col).is_in([a, b]))
    no_unit = sides.filter(pl.col(unit_col).is_null()).height
    if no_unit:
        notes.append(
            f"{no_unit:,} score{'s' if no_unit != 1 else ''} left out: no {unit_name} to pair on (broken lineage)"
        )
    # Scores are compared at their own precision: as integers at the scale's decimals (8.8 -> 88), so
    # the averages of replicates (8.8, 4.6) and (4.8, 8.6) are equal, not 8.9e-16 apart.
    decimals = score_decimals(sides["score"].to_numpy()) if sides.height else 0
    sides = sides.filter(pl.col(unit_col).is_not_null()).with_columns(
        pl.col("evaluation_model_id").fill_null("(none)"),
        pl.col("evaluation_template_id").fill_null("(none)"),
        pl.Series("iscore", scaled_ints(sides.filter(pl.col(unit_col).is_not_null())["score"].to_numpy(), decimals)),
    )
    # maintain_order and sorted joins everywhere: the same floating-point sums in the same order on every run
    cells = sides.group_by(
        unit_col, "evaluation_model_id", "evaluation_template_id", side_col, maintain_order=True
    ).agg(pl.col("score").mean().alias("value"), pl.col("iscore").sum().alias("s"), pl.len().alias("k"))
    units_a = set(cells.filter(pl.col(side_col) == a)[unit_col].to_list())
    units_b = set(cells.filter(pl.col(side_col) == b)[unit_col].to_list())
    key = [unit_col, "evaluation_model_id", "evaluation_template_id"]
    paired = (
        cells.filter(pl.col(side_col) == a)
        .drop(side_col)
        .join(cells.filter(pl.col(side_col) == b).drop(side_col), on=key, suffix="_b")
        .sort(key)
    )
    both = units_a & units_b
    n_paired_units = paired[unit_col].n_unique()
    unpaired_both = len(both) - n_paired_units  # both sides there, but never by the same judge on the same criterion
    if unpaired_both:
        notes.append(
            f"{unpaired_both:,} {unit_name}{'s' if unpaired_both != 1 else ''} with both sides left out: "
            "no judge scored both on the same criterion"
        )
    only_a, only_b = len(units_a - units_b), len(units_b - units_a)
    if only_a or only_b:
        notes.append(f"left out: {only_a:,} {unit_name}s with only {a}, {only_b:,} with only {b}")
    base = {"by": by, "a": a, "b": b, "unit": unit_name, "units_a": len(units_a), "units_b": len(units_b)}
    base |= {"only_a": only_a, "only_b": only_b}
    rows = [_compare_row(np, base, ALL_JUDGES, paired, unit_col, unit_name, decimals, resamples, seed)]
    judges = sorted(paired["evaluation_model_id"].unique().to_list())
    if len(judges) > 1:  # which judge carries the difference, and which one dilutes it
        for j in judges:
            part = paired.filter(pl.col("evaluation_model_id") == j)
            rows.append(_compare_row(np, base, j, part, unit_col, unit_name, decimals, resamples, seed))
    for row, p in zip(rows, holm([r["p_value"] for r in rows])):
        row["p_holm"] = p
    few = [r for r in rows if 0 < r["pairs"] < FEW_UNITS]
    if few:
        notes.append(
            f"{len(few)} row{'s' if len(few) != 1 else ''} from fewer than {FEW_UNITS} {unit_name}s: an interval "
            f"from so few {unit_name}s is little more than their differences themselves; do not read it as a "
            "finding"
        )
    if len(rows) > 1:
        notes.append(
            f"p_holm: Holm-adjusted over the {len(rows)} tests of this report (all judges and each judge alone)"
        )
    out = pl.DataFrame(rows, schema=_SCHEMA)
    params = {
        "by": by,
        "a": a,
        "b": b,
        "judge": as_list(judge),
        "criterion": as_list(criterion),
        "filters": filters.describe(),
        "resamples": resamples,
        "seed": seed,
        "decimals": decimals,
    }
    return Report("compare", out, (), None, notes, params, snapshot_id(con), None)


def _compare_row(np, base: dict, judge: str, paired: pl.DataFrame, unit_col, unit_name, decimals, resamples, seed):
    """One row of the comparison over the paired cells given (every judge's, or one judge's)."""
    per_unit = []
    for (unit,), part in paired.group_by(unit_col, maintain_order=True):
        cells = list(zip(part["s"].to_list(), part["k"].to_list(), part["s_b"].to_list(), part["k_b"].to_list()))
        per_unit.append(
            (
                unit,
                exact_mean_diff(cells, decimals),
                float(part["value"].to_numpy().mean()),
                float(part["value_b"].to_numpy().mean()),
                part.height,
                int(part["k"].sum()),
                int(part["k_b"].sum()),
            )
        )
    per_unit.sort(key=lambda r: r[0])
    pairs = len(per_unit)
    row = {c: None for c in COMPARE_COLUMNS} | base
    row |= {"judge": judge, "pairs": pairs, "wins": 0, "ties": 0, "losses": 0}
    row |= {"cells": sum(r[4] for r in per_unit), "scores_a": sum(r[5] for r in per_unit)}
    row["scores_b"] = sum(r[6] for r in per_unit)
    if not pairs:
        a, b = base["a"], base["b"]
        row["note"] = f"no {unit_name} has scores of both {a} and {b} by the same judge on the same criterion"
        return row
    d = np.array([r[1] for r in per_unit])
    row.update(
        mean_a=float(np.mean([r[2] for r in per_unit])),
        mean_b=float(np.mean([r[3] for r in per_unit])),
        mean_diff=float(d.mean()),
        dz=cohen_dz(d),
        wins=int((d > 0).sum()),
        ties=int((d == 0).sum()),
        losses=int((d < 0).sum()),
    )
    key = (base["by"], base["a"], base["b"]) if judge == ALL_JUDGES else (base["by"], base["a"], base["b"], judge)
    lo, hi = cluster_bootstrap_ci(d, np.ones_like(d), resamples, group_rng(seed, key))
    row.update(ci_low=lo, ci_high=hi)
    row["wilcoxon_stat"], row["p_value"] = wilcoxon_p(d)
    why = []
    if pairs < 2:
        why.append(f"one {unit_name}: no interval")
    elif pairs < FEW_UNITS:
        why.append(f"only {pairs} {unit_name}s: the interval is little more than the differences themselves")
    if row["p_value"] is None:
        why.append("every difference is zero: no test")
    elif pairs - row["ties"] < 6:
        why.append(f"only {pairs - row['ties']} non-zero differences: the test cannot reach p < 0.05")
    row["note"] = "; ".join(why) or None
    return row

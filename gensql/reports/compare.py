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
from .stats import cluster_bootstrap_ci, group_rng, require_scipy, wilcoxon_p

#: --by -> (the column that tells the sides apart, the unit both sides are paired on, what a unit is).
COMPARE_BY: dict[str, tuple[str, str, str]] = {
    "template": ("essay_template_id", "draft_gen_id", "draft"),
    "model": ("essay_model_id", "draft_gen_id", "draft"),
    "draft-template": ("draft_template_id", "combo_id", "combo"),
}
DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 0
COMPARE_COLUMNS: tuple[str, ...] = (
    "by",
    "a",
    "b",
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
    "wins",
    "ties",
    "losses",
    "wilcoxon_stat",
    "p_value",
    "note",
)
_TEXT = frozenset({"by", "a", "b", "unit", "note"})
_FLOAT = frozenset({"mean_a", "mean_b", "mean_diff", "ci_low", "ci_high", "wilcoxon_stat", "p_value"})
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
    of A - B. Reported: units with A, with B, usable ``pairs`` and what was left out (``only_a``,
    ``only_b``), ``cells`` and the scores behind each side, the sides' means over the pairs,
    ``mean_diff`` with its bootstrap interval (resampling units, ``resamples`` times, ``seed``), wins /
    ties / losses of A, and the two-sided Wilcoxon signed-rank p-value (scipy; zero differences
    dropped). Needs numpy and scipy (the ``stats`` extra).
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
    sides = sides.filter(pl.col(unit_col).is_not_null()).with_columns(
        pl.col("evaluation_model_id").fill_null("(none)"), pl.col("evaluation_template_id").fill_null("(none)")
    )
    # maintain_order and sorted joins everywhere: the same floating-point sums in the same order on every run
    cells = sides.group_by(
        unit_col, "evaluation_model_id", "evaluation_template_id", side_col, maintain_order=True
    ).agg(pl.col("score").mean().alias("value"), pl.len().alias("k"))
    units_a = set(cells.filter(pl.col(side_col) == a)[unit_col].to_list())
    units_b = set(cells.filter(pl.col(side_col) == b)[unit_col].to_list())
    key = [unit_col, "evaluation_model_id", "evaluation_template_id"]
    paired = (
        cells.filter(pl.col(side_col) == a)
        .drop(side_col)
        .join(cells.filter(pl.col(side_col) == b).drop(side_col), on=key, suffix="_b")
    )
    per_unit = (
        paired.sort(key)
        .group_by(unit_col, maintain_order=True)
        .agg(
            (pl.col("value") - pl.col("value_b")).mean().alias("diff"),
            pl.col("value").mean().alias("va"),
            pl.col("value_b").mean().alias("vb"),
            pl.len().alias("cells"),
            pl.col("k").sum().alias("ka"),
            pl.col("k_b").sum().alias("kb"),
        )
        .sort(unit_col)
    )
    pairs = per_unit.height
    both = units_a & units_b
    unpaired_both = len(both) - pairs  # both sides there, but never by the same judge on the same criterion
    row = {
        "by": by,
        "a": a,
        "b": b,
        "unit": unit_name,
        "units_a": len(units_a),
        "units_b": len(units_b),
        "pairs": pairs,
        "only_a": len(units_a - units_b),
        "only_b": len(units_b - units_a),
        "cells": int(per_unit["cells"].sum()) if pairs else 0,
        "scores_a": int(per_unit["ka"].sum()) if pairs else 0,
        "scores_b": int(per_unit["kb"].sum()) if pairs else 0,
        "mean_a": None,
        "mean_b": None,
        "mean_diff": None,
        "ci_low": None,
        "ci_high": None,
        "wins": 0,
        "ties": 0,
        "losses": 0,
        "wilcoxon_stat": None,
        "p_value": None,
        "note": None,
    }
    if unpaired_both:
        notes.append(
            f"{unpaired_both:,} {unit_name}{'s' if unpaired_both != 1 else ''} with both sides left out: "
            "no judge scored both on the same criterion"
        )
    if row["only_a"] or row["only_b"]:
        notes.append(f"left out: {row['only_a']:,} {unit_name}s with only {a}, {row['only_b']:,} with only {b}")
    if pairs:
        d = per_unit["diff"].to_numpy()
        row.update(
            mean_a=float(per_unit["va"].mean()),
            mean_b=float(per_unit["vb"].mean()),
            mean_diff=float(d.mean()),
            wins=int((d > 0).sum()),
            ties=int((d == 0).sum()),
            losses=int((d < 0).sum()),
        )
        lo, hi = cluster_bootstrap_ci(d, np.ones_like(d), resamples, group_rng(seed, (by, a, b)))
        row.update(ci_low=lo, ci_high=hi)
        row["wilcoxon_stat"], row["p_value"] = wilcoxon_p(d)
        why = []
        if pairs < 2:
            why.append(f"one {unit_name}: no interval")
        if row["p_value"] is None:
            why.append("every difference is zero: no test")
        elif pairs - row["ties"] < 6:
            why.append(f"only {pairs - row['ties']} non-zero differences: the test cannot reach p < 0.05")
        row["note"] = "; ".join(why) or None
    else:
        row["note"] = f"no {unit_name} has scores of both {a} and {b} by the same judge on the same criterion"
    out = pl.DataFrame([row], schema=_SCHEMA)
    params = {
        "by": by,
        "a": a,
        "b": b,
        "judge": as_list(judge),
        "criterion": as_list(criterion),
        "filters": filters.describe(),
        "resamples": resamples,
        "seed": seed,
    }
    return Report("compare", out, (), None, notes, params, snapshot_id(con), None)

"""Score means with bootstrap confidence intervals that resample drafts (``gensql report scores --ci``)."""

from __future__ import annotations

import polars as pl

from .connection import DataRoot, snapshot_id
from .filters import as_list
from .judged import judged
from .report import Report, ReportError
from .stats import cluster_bootstrap_ci, group_rng, require_scipy

#: ``by`` names -> the column of the counted scores they group on.
CI_BY: dict[str, str] = {
    "evaluation-model": "evaluation_model_id",
    "evaluation-template": "evaluation_template_id",
    "essay-template": "essay_template_id",
    "essay-model": "essay_model_id",
    "draft-template": "draft_template_id",
}
CI_DEFAULT_BY: tuple[str, ...] = ("evaluation-model", "evaluation-template")
CI_STATS: tuple[str, ...] = ("n", "essays", "drafts", "mean", "ci_low", "ci_high")
DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 0
LEVEL = 0.95
#: Fewer drafts than this in a group: a strong note beside its interval.
FEW_DRAFTS = 5
#: A judge mix that moves the gap between two groups by more than this many score points is noted.
MIX_WARN = 0.05


def build_score_ci(
    data_root: DataRoot = None,
    by=CI_DEFAULT_BY,
    cohort=None,
    model=None,
    since=None,
    until=None,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    adjust: str | None = None,
    index_dir=None,
) -> Report:
    """Mean score per group with a 95% bootstrap interval resampling drafts.

    One row per group of ``by`` (names of :data:`CI_BY`; default evaluation model x evaluation
    template): ``n`` scores (one per logical evaluation, the ``counted_scores`` rule), the ``essays``
    and ``drafts`` they come from, ``mean``, ``ci_low``, ``ci_high``. Essays written from one draft are
    not independent, so each of ``resamples`` resamples draws the group's drafts with replacement and
    takes the mean of all their scores; the interval is the 2.5th and 97.5th percentiles. Each group's
    random stream comes from ``seed`` and the group's own labels, so the same snapshot, options and
    seed give the same bytes. An essay whose draft cannot be reached counts as its own draft (a note
    says how many); a group from one draft has no interval, one from fewer than 5 a strong note.

    **Fair means.** Grouped by anything but the evaluation model, a group's mean averages whichever
    judges scored it: when judges are unbalanced across the groups (a lenient judge scored more of
    one template's essays), a gap between groups is partly a gap between judges. The report fits
    score = group + judge (least squares, judges as fixed effects) and notes when the judge mix moves
    the gap between two groups by more than :data:`MIX_WARN` points. ``adjust="judge"``: ``mean`` is then the
    judge-adjusted mean (the group's effect at the overall judge mix; ``mean_raw`` beside it), and the
    interval resamples drafts of the adjusted scores (the judge effects held at their estimates).
    """
    np, _ = require_scipy()
    if adjust not in (None, "judge"):
        raise ReportError(f"cannot adjust for {adjust!r}: expected judge")
    by = tuple(as_list(by)) or CI_DEFAULT_BY
    unknown = [b for b in by if b not in CI_BY]
    if unknown:
        raise ReportError(f"cannot group scores by {', '.join(unknown)}: expected one or more of {', '.join(CI_BY)}")
    if resamples < 1:
        raise ReportError(f"resamples must be at least 1 (got {resamples})")
    models = as_list(model)
    j = judged(data_root, index_dir, cohort, since, until, judges=models)
    con, filters, df, notes = j.con, j.filters, j.scores, j.notes
    no_draft = df.filter(pl.col("draft_gen_id").is_null())["essay_gen_id"].n_unique()
    if no_draft:
        notes.append(
            f"{no_draft:,} essay{'s' if no_draft != 1 else ''} without a reachable draft counted as "
            "their own draft in the resampling"
        )
    cols = list(dict.fromkeys(CI_BY[b] for b in by))
    judged_groups = "evaluation_model_id" not in cols
    if adjust and not judged_groups:
        raise ReportError("--adjust judge needs groups that are not judges: drop evaluation-model from --by")
    raw_means: dict[tuple, float] = {}
    if judged_groups and df.height:
        adjusted, shift = judge_adjusted(np, df, cols)
        moved = {k: -v for k, v in shift.items()}  # raw - adjusted: what the group's own judge mix did
        lo, hi = min(moved, key=moved.__getitem__), max(moved, key=moved.__getitem__)
        if moved[hi] - moved[lo] > MIX_WARN:
            notes.append(
                "judges are unbalanced across these groups: their judge mix moves the means by "
                f"{moved[lo]:+.2f} ({' / '.join(map(str, lo))}) to {moved[hi]:+.2f} ({' / '.join(map(str, hi))}) "
                f"points, a gap between groups by up to {moved[hi] - moved[lo]:.2f} (judge fixed effect); "
                + ("the means below are judge-adjusted" if adjust else "compare groups with --adjust judge")
            )
        if adjust:
            raw_means = _raw_means(df, cols)
            df = df.with_columns(pl.Series("score", adjusted))
    df = df.with_columns(pl.coalesce("draft_gen_id", pl.lit("essay:") + pl.col("essay_gen_id")).alias("_cluster"))
    clusters = df.group_by(*cols, "_cluster", maintain_order=True).agg(
        pl.col("score").sum().alias("s"), pl.len().alias("k")
    )
    essays_of = {
        tuple(r[:-1]): r[-1]
        for r in df.group_by(cols, maintain_order=True).agg(pl.col("essay_gen_id").n_unique()).iter_rows()
    }
    rows = []
    single = few = 0
    for key, part in clusters.group_by(cols, maintain_order=True):
        part = part.sort("_cluster")
        n, total = int(part["k"].sum()), float(part["s"].sum())
        lo, hi = cluster_bootstrap_ci(
            part["s"].to_numpy(), part["k"].to_numpy(), resamples, group_rng(seed, key), LEVEL
        )
        if part.height < 2:
            single += 1
        row = (*key, n, essays_of[tuple(key)], part.height, total / n, lo, hi)
        rows.append((*row, raw_means.get(tuple(key))) if adjust else row)
        if 2 <= part.height < FEW_DRAFTS:
            few += 1
    if single:
        notes.append(f"{single:,} group{'s' if single != 1 else ''} from a single draft: no interval")
    if few:
        notes.append(
            f"{few:,} group{'s' if few != 1 else ''} from fewer than {FEW_DRAFTS} drafts: an interval from so few "
            "drafts is little more than their scores; do not read it as a finding"
        )
    schema = {c: pl.String for c in cols} | {
        "n": pl.Int64,
        "essays": pl.Int64,
        "drafts": pl.Int64,
        "mean": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
    }
    if adjust:
        schema["mean_raw"] = pl.Float64
    out = pl.DataFrame(rows, schema=schema, orient="row").sort(cols, nulls_last=True)
    params = {
        "ci": True,
        "by": list(by),
        "filters": {**filters.describe(), "model": models},
        "resamples": resamples,
        "seed": seed,
        "level": LEVEL,
        "resampled": "drafts",
        "adjust": adjust,
    }
    return Report("scores", out, (), None, notes, params, snapshot_id(con), None)


def _raw_means(df: pl.DataFrame, cols: list[str]) -> dict[tuple, float]:
    means = df.group_by(cols, maintain_order=True).agg(pl.col("score").mean())
    return {tuple(r[:-1]): r[-1] for r in means.iter_rows()}


def judge_adjusted(np, df: pl.DataFrame, cols: list[str]):
    """``(adjusted scores, shift per group)``: the least-squares fit of score = group + judge (judges
    as fixed effects, centred on the overall judge mix), by alternating means until it converges.

    Each row's adjusted score is its score minus its judge's effect; since the fit has a term per
    group, a group's mean of adjusted scores is its fitted effect at the overall judge mix. ``shift``:
    per group, adjusted mean - raw mean (how much the group's own judge mix moved it)."""
    keys = df.select(cols).rows()
    group_ids: dict[tuple, int] = {}
    g = np.array([group_ids.setdefault(k, len(group_ids)) for k in keys], dtype=np.int64)
    judge_ids: dict[object, int] = {}
    j = np.array([judge_ids.setdefault(v, len(judge_ids)) for v in df["evaluation_model_id"].to_list()])
    y = df["score"].to_numpy().astype(float)
    n_g = np.bincount(g, minlength=len(group_ids)).astype(float)
    n_j = np.bincount(j, minlength=len(judge_ids)).astype(float)
    judge = np.zeros(len(judge_ids))
    group = np.bincount(g, weights=y, minlength=len(group_ids)) / n_g
    for _ in range(10_000):
        judge_new = np.bincount(j, weights=y - group[g], minlength=len(judge_ids)) / n_j
        judge_new -= (judge_new * n_j).sum() / n_j.sum()  # centred on the overall judge mix
        group_new = np.bincount(g, weights=y - judge_new[j], minlength=len(group_ids)) / n_g
        done = np.abs(judge_new - judge).max(initial=0.0) < 1e-13 and np.abs(group_new - group).max() < 1e-13
        judge, group = judge_new, group_new
        if done:
            break
    adjusted = y - judge[j]
    raw = np.bincount(g, weights=y, minlength=len(group_ids)) / n_g
    adj_mean = np.bincount(g, weights=adjusted, minlength=len(group_ids)) / n_g
    shift = {k: float(adj_mean[i] - raw[i]) for k, i in group_ids.items()}
    return adjusted, shift

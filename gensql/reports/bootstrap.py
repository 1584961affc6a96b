"""Score means with bootstrap confidence intervals that resample drafts (``gensql report scores --ci``)."""

from __future__ import annotations

import polars as pl

from .connection import DataRoot, connection, snapshot_id
from .filters import as_list, make_filters, unmatched_notes
from .judged import counted_scores, unreachable_note
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
    says how many); a group from one draft has no interval.
    """
    require_scipy()
    by = tuple(as_list(by)) or CI_DEFAULT_BY
    unknown = [b for b in by if b not in CI_BY]
    if unknown:
        raise ReportError(f"cannot group scores by {', '.join(unknown)}: expected one or more of {', '.join(CI_BY)}")
    if resamples < 1:
        raise ReportError(f"resamples must be at least 1 (got {resamples})")
    con = connection(data_root, index_dir)
    filters = make_filters(con, cohort, None, None, since, until)
    models = as_list(model)
    df, unreachable = counted_scores(con, filters, judges=models)
    notes = [
        *filters.notes,
        *unmatched_notes(con, model=models, within_stage="evaluation"),
        *unreachable_note(unreachable),
    ]
    no_draft = df.filter(pl.col("draft_gen_id").is_null())["essay_gen_id"].n_unique()
    if no_draft:
        notes.append(
            f"{no_draft:,} essay{'s' if no_draft != 1 else ''} without a reachable draft counted as "
            "their own draft in the resampling"
        )
    cols = list(dict.fromkeys(CI_BY[b] for b in by))
    df = df.with_columns(pl.coalesce("draft_gen_id", pl.lit("essay:") + pl.col("essay_gen_id")).alias("_cluster"))
    clusters = df.group_by(*cols, "_cluster", maintain_order=True).agg(
        pl.col("score").sum().alias("s"), pl.len().alias("k")
    )
    essays_of = {
        tuple(r[:-1]): r[-1]
        for r in df.group_by(cols, maintain_order=True).agg(pl.col("essay_gen_id").n_unique()).iter_rows()
    }
    rows = []
    single = 0
    for key, part in clusters.group_by(cols, maintain_order=True):
        part = part.sort("_cluster")
        n, total = int(part["k"].sum()), float(part["s"].sum())
        lo, hi = cluster_bootstrap_ci(
            part["s"].to_numpy(), part["k"].to_numpy(), resamples, group_rng(seed, key), LEVEL
        )
        if part.height < 2:
            single += 1
        rows.append((*key, n, essays_of[tuple(key)], part.height, total / n, lo, hi))
    if single:
        notes.append(f"{single:,} group{'s' if single != 1 else ''} from a single draft: no interval")
    schema = {c: pl.String for c in cols} | {
        "n": pl.Int64,
        "essays": pl.Int64,
        "drafts": pl.Int64,
        "mean": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
    }
    out = pl.DataFrame(rows, schema=schema, orient="row").sort(cols, nulls_last=True)
    params = {
        "ci": True,
        "by": list(by),
        "filters": {**filters.describe(), "model": models},
        "resamples": resamples,
        "seed": seed,
        "level": LEVEL,
        "resampled": "drafts",
    }
    return Report("scores", out, (), None, notes, params, snapshot_id(con), None)

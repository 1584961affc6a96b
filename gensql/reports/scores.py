"""The scores report: one score per logical evaluation, per essay x evaluation model x template."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date
from typing import cast

import polars as pl

from .connection import DataRoot, connection, snapshot_id
from .filters import as_list, make_filters, unmatched_notes
from .report import Report, ReportError, frame_with_notes

SCORE_KEY_COLUMNS: tuple[str, ...] = (
    "essay_gen_id",
    "essay_template_id",
    "essay_model_id",
    "draft_template_id",
    "combo_id",
)
SCORE_STATS: tuple[str, ...] = ("mean", "min", "max", "n")
#: Label of a NULL evaluation model or template in the wide score column names.
NONE_LABEL = "(none)"

#: One row per logical evaluation, the attempt whose score counts: the rule lives in the
#: ``counted_scores`` table macro (gensql/views/61_counted_scores.sql), shared with the score_pivot
#: named query and notebook 03.
_SCORES_SQL = """
SELECT essay_gen_id, essay_template_id, essay_model_id, draft_template_id, combo_id,
       evaluation_model_id, evaluation_template_id, score
FROM counted_scores(for_cohort := $cohort, since_day := $since, until_day := $until) AS s
WHERE {where}
"""
_SCORES_REL = "_gensql_report_scores"
_SCORES_LONG_SQL = f"""
SELECT essay_gen_id, essay_template_id, essay_model_id, draft_template_id, combo_id,
       evaluation_model_id, evaluation_template_id,
       count(*) AS n,
       avg(CAST(score AS DECIMAL(18, 6))) AS mean,
       min(score) AS min,
       max(score) AS max
FROM {_SCORES_REL}
WHERE score IS NOT NULL AND essay_gen_id IS NOT NULL
GROUP BY ALL
ORDER BY essay_template_id NULLS LAST, essay_model_id NULLS LAST, essay_gen_id,
         evaluation_model_id NULLS LAST, evaluation_template_id NULLS LAST
"""


def scores_report(
    data_root: DataRoot = None,
    long: bool = False,
    cohort: str | None = None,
    model: str | Iterable[str] | None = None,
    since: date | str | None = None,
    until: date | str | None = None,
    *,
    index_dir: str | os.PathLike | None = None,
    with_notes: bool = False,
    ci: bool = False,
    by: str | Iterable[str] | None = None,
    resamples: int = 2000,
    seed: int = 0,
    adjust: str | None = None,
) -> pl.DataFrame:
    """Scores per evaluated essay: mean, min, max and count per evaluation model x evaluation template.

    One score per logical evaluation (essay, evaluation template, evaluation model, replicate: the
    evaluation's ``logical_key``): the newest attempt that has a score, so re-runs and cross-cohort
    duplicates are not counted twice. Evaluations whose essay cannot be reached through lineage are
    left out (a note says how many, and how many logical evaluations have no score at all). Wide
    (default): one row per essay with ``essay_gen_id, essay_template_id, essay_model_id,
    draft_template_id, combo_id`` then, per ``<evaluation model>/<evaluation template>`` pair (sorted;
    a missing id reads ``(none)``), ``<pair>/mean``, ``/min``, ``/max``, ``/n`` (``n`` = 0 and the
    others NULL where the pair did not evaluate the essay). ``long=True``: one row per essay x
    evaluation model x evaluation template with ``evaluation_model_id, evaluation_template_id, n,
    mean, min, max``. Filters: ``cohort`` (member evaluations), ``model`` (evaluation model),
    ``since``/``until`` (the evaluation's UTC day; only attempts in range are considered).

    Which attempt counts is the ``counted_scores`` macro's rule, the same as ``gensql report scores``,
    the ``score_pivot`` named query and notebook 03. The notes (scored evaluations left out because
    their essay cannot be reached, logical evaluations without any score) are each issued as a
    :class:`~gensql.reports.report.ReportNote` warning; :func:`build_scores` returns them as data
    (``.notes`` of its :class:`~gensql.reports.report.Report`). ``with_notes=True`` is deprecated.

    ``ci=True``: instead, one row per group of ``by`` (default evaluation model x evaluation template;
    also ``essay-template``, ``essay-model``, ``draft-template``) with ``n, essays, drafts, mean, ci_low,
    ci_high``: a 95% bootstrap interval that resamples drafts (``resamples`` times from ``seed``; see
    :func:`gensql.reports.bootstrap.build_score_ci`). When judges are unbalanced across the groups a
    note says so; ``adjust="judge"`` gives judge-adjusted means (a judge fixed effect) with ``mean_raw``
    beside them. Needs numpy and scipy (the ``stats`` extra).
    """
    rep = build_scores(
        data_root,
        long,
        cohort,
        model,
        since,
        until,
        index_dir=index_dir,
        ci=ci,
        by=by,
        resamples=resamples,
        seed=seed,
        adjust=adjust,
    )
    return frame_with_notes(rep, with_notes)


def build_scores(
    data_root: DataRoot = None,
    long=False,
    cohort=None,
    model=None,
    since=None,
    until=None,
    *,
    index_dir=None,
    ci=False,
    by=None,
    resamples=2000,
    seed=0,
    adjust=None,
) -> Report:
    if adjust is not None and not ci:
        raise ReportError("--adjust goes with --ci (judge-adjusted means with their intervals)")
    if ci:  # means with bootstrap intervals (gensql/reports/bootstrap.py)
        if long:
            raise ReportError("--ci gives one row per group with its interval: it does not combine with --long")
        from .bootstrap import CI_DEFAULT_BY, build_score_ci

        return build_score_ci(
            data_root,
            by or CI_DEFAULT_BY,
            cohort,
            model,
            since,
            until,
            resamples=resamples,
            seed=seed,
            adjust=adjust,
            index_dir=index_dir,
        )
    con = connection(data_root, index_dir)
    filters = make_filters(con, cohort, None, None, since, until)
    models = tuple(as_list(model))
    where = "true"
    params: dict[str, object] = {"cohort": filters.cohort, "since": filters.since, "until": filters.until}
    if models:
        where += " AND list_contains($models, s.evaluation_model_id)"
        params["models"] = list(models)
    products = con.sql(_SCORES_SQL.format(where=where), params=params).to_arrow_table()
    con.register(_SCORES_REL, products)
    try:
        long_df = con.sql(_SCORES_LONG_SQL).pl()
        unreachable, unscored = con.sql(
            f"SELECT count(*) FILTER (WHERE score IS NOT NULL AND essay_gen_id IS NULL), "
            f"count(*) FILTER (WHERE score IS NULL) FROM {_SCORES_REL}"
        ).fetchall()[0]
    finally:
        con.unregister(_SCORES_REL)
    long_df = long_df.with_columns(pl.col("n").cast(pl.Int64), pl.col("mean").cast(pl.Float64))
    notes = [*filters.notes, *unmatched_notes(con, model=models, within_stage="evaluation")]
    if unreachable:
        notes.append(
            f"{unreachable:,} scored evaluation{'s' if unreachable != 1 else ''} left out: the evaluated "
            "essay cannot be reached through lineage (see the problems view)"
        )
    if unscored:
        notes.append(
            f"{unscored:,} evaluation{'s' if unscored != 1 else ''} (logical, over all attempts) have no "
            "score (see scores.score_error)"
        )
    df = long_df if long else _wide_scores(long_df)
    params_out = {"long": bool(long), "filters": {**filters.describe(), "model": list(models)}}
    return Report("scores", df, (), None, notes, params_out, snapshot_id(con), None)


def _pair_label(model_id: str | None, template_id: str | None) -> str:
    return (
        f"{model_id if model_id is not None else NONE_LABEL}/{template_id if template_id is not None else NONE_LABEL}"
    )


def _wide_scores(long_df: pl.DataFrame) -> pl.DataFrame:
    keys = list(SCORE_KEY_COLUMNS)
    if long_df.height == 0:
        return pl.DataFrame({c: long_df[c] for c in keys})
    pairs = sorted(
        {(m, t) for m, t in zip(long_df["evaluation_model_id"], long_df["evaluation_template_id"])},
        key=lambda p: (p[0] is None, p[0] or "", p[1] is None, p[1] or ""),
    )
    # The long form is sorted by essay, so each essay's rows are contiguous: number them in order and
    # scatter every (essay, pair) cell into one pair-major column per statistic (a pivot; polars'
    # own pivot is slow with hundreds of output columns).
    essays = long_df.select(keys).unique(maintain_order=True)
    n = essays.height
    labels = {_pair_label(m, t): j for j, (m, t) in enumerate(pairs)}
    if len(labels) < len(pairs):
        raise ReportError(
            "two evaluation model/template pairs give the same wide column name (ids containing "
            "'/'): use the long form (--long)"
        )
    cell = long_df.select(
        (
            pl.concat_str(
                [
                    pl.col("evaluation_model_id").fill_null(NONE_LABEL),
                    pl.col("evaluation_template_id").fill_null(NONE_LABEL),
                ],
                separator="/",
            ).replace_strict(labels, return_dtype=pl.Int64)
            * n
            + pl.struct(keys).rle_id().cast(pl.Int64)
        ).alias("cell")
    )["cell"]
    assert cast(int, cell.max()) < n * len(pairs), "scores long form not grouped by essay"
    grids = {}
    for stat in SCORE_STATS:
        dtype = pl.Int64 if stat == "n" else pl.Float64
        empty = pl.repeat(0 if stat == "n" else None, n * len(pairs), dtype=dtype, eager=True)
        grids[stat] = empty.scatter(cell, long_df[stat].cast(dtype))
    columns = [essays[c] for c in keys]
    for label, j in labels.items():
        columns += [grids[stat].slice(j * n, n).alias(f"{label}/{stat}") for stat in SCORE_STATS]
    return pl.DataFrame(columns)

"""The agreement report: do the judges (evaluation models) agree with each other and with themselves?"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date
from itertools import combinations

import polars as pl

from .connection import DataRoot, connection, snapshot_id
from .filters import as_list, make_filters, unmatched_notes
from .judged import counted_scores, unreachable_note
from .report import Report, ReportError, frame_with_notes
from .stats import correlations, krippendorff_alpha, require_scipy

#: Below this many essays a correlation or an alpha is a note, not a number.
MIN_ESSAYS = 5
COMPARISONS: tuple[str, ...] = ("all judges", "pair", "self")
AGREEMENT_COLUMNS: tuple[str, ...] = (
    "evaluation_template_id",
    "comparison",
    "judge_a",
    "judge_b",
    "judges",
    "essays",
    "ratings",
    "spearman",
    "pearson",
    "mean_abs_diff",
    "alpha",
    "note",
)
_SCHEMA = {
    "evaluation_template_id": pl.String,
    "comparison": pl.String,
    "judge_a": pl.String,
    "judge_b": pl.String,
    "judges": pl.Int64,
    "essays": pl.Int64,
    "ratings": pl.Int64,
    "spearman": pl.Float64,
    "pearson": pl.Float64,
    "mean_abs_diff": pl.Float64,
    "alpha": pl.Float64,
    "note": pl.String,
}


def agreement_report(
    data_root: DataRoot = None,
    template: str | Iterable[str] | None = None,
    cohort: str | None = None,
    since: date | str | None = None,
    until: date | str | None = None,
    *,
    min_essays: int = MIN_ESSAYS,
    index_dir: str | os.PathLike | None = None,
    with_notes: bool = False,
) -> pl.DataFrame:
    """Agreement between judges, per evaluation template, as a polars DataFrame.

    Reads one score per logical evaluation (the ``counted_scores`` rule, as ``scores_report``). Per
    evaluation template (``template``: only these), rows of three kinds (column ``comparison``):

    * ``all judges``: Krippendorff's alpha (interval metric) across every judge, essays as units, each
      judge's value on an essay the mean of its replicates; missing ratings allowed. ``judges``: judges
      with a rating on a pairable essay; ``essays``: essays rated by two or more judges; ``ratings``:
      the judge x essay values used.
    * ``pair`` (``judge_a`` < ``judge_b``): on the essays both scored (replicates averaged), Spearman
      and Pearson correlation (scipy.stats) and the mean absolute difference; ``ratings``: the scores
      behind them. Pairs without a common essay are not listed (a note counts them).
    * ``self`` (``judge_a``): from the judge's replicates of one essay, alpha across replicates
      (replicates as coders) and the mean absolute difference over every two replicates of an
      essay; Spearman/Pearson of its first two replicates. ``essays``: essays it scored twice or more.

    Where fewer than ``min_essays`` essays are available the statistic is NULL and ``note`` says why
    (no variation is also a note). Needs numpy and scipy (the ``stats`` extra).
    """
    rep = build_agreement(data_root, template, cohort, since, until, min_essays=min_essays, index_dir=index_dir)
    return frame_with_notes(rep, with_notes)


def build_agreement(
    data_root: DataRoot = None,
    template=None,
    cohort=None,
    since=None,
    until=None,
    *,
    min_essays: int = MIN_ESSAYS,
    index_dir=None,
) -> Report:
    require_scipy()
    if min_essays < 2:
        raise ReportError(f"min_essays {min_essays} is too small: a correlation needs at least 2 essays")
    con = connection(data_root, index_dir)
    filters = make_filters(con, cohort, None, None, since, until)
    templates = as_list(template)
    df, unreachable = counted_scores(con, filters, criteria=templates)
    unmatched = unmatched_notes(con, template=templates, within_stage="evaluation")
    notes = [*filters.notes, *unmatched, *unreachable_note(unreachable)]
    missing = sorted(set(templates) - set(df["evaluation_template_id"].drop_nulls().unique().to_list()))
    missing = [t for t in missing if not any(repr(t) in n for n in unmatched)]  # exists, but nothing scored
    if missing:
        notes.append(f"no scored evaluation with template {', '.join(missing)}")
    rows: list[dict] = []
    hidden = 0
    for (tpl,), part in sorted(
        df.group_by("evaluation_template_id", maintain_order=True), key=lambda kv: (kv[0][0] is None, kv[0][0] or "")
    ):
        new_rows, n_hidden = _template_rows(tpl, part, min_essays)
        rows += new_rows
        hidden += n_hidden
    if hidden:
        notes.append(f"{hidden:,} judge pair{'s' if hidden != 1 else ''} never scored a common essay (not listed)")
    out = pl.DataFrame(rows, schema=_SCHEMA) if rows else pl.DataFrame(schema=_SCHEMA)
    params = {"filters": {**filters.describe(), "template": templates}, "min_essays": min_essays, "metric": "interval"}
    return Report("agreement", out, (), None, notes, params, snapshot_id(con), None)


def _row(
    tpl,
    comparison,
    a=None,
    b=None,
    judges=None,
    essays=0,
    ratings=0,
    spearman=None,
    pearson=None,
    mad=None,
    alpha=None,
    note=None,
) -> dict:
    return {
        "evaluation_template_id": tpl,
        "comparison": comparison,
        "judge_a": a,
        "judge_b": b,
        "judges": judges,
        "essays": essays,
        "ratings": ratings,
        "spearman": spearman,
        "pearson": pearson,
        "mean_abs_diff": mad,
        "alpha": alpha,
        "note": note,
    }


def _few(n: int, what: str, min_essays: int) -> str:
    return f"too little data: {n} essay{'s' if n != 1 else ''} {what} (need {min_essays})"


def _template_rows(tpl, part: pl.DataFrame, min_essays: int) -> tuple[list[dict], int]:
    np, _ = require_scipy()
    part = part.with_columns(pl.col("evaluation_model_id").fill_null("(none)"))
    means = (
        part.group_by("essay_gen_id", "evaluation_model_id", maintain_order=True)
        .agg(pl.col("score").mean().alias("value"), pl.len().alias("k"))
        .sort("essay_gen_id", "evaluation_model_id")
    )
    judges = sorted(means["evaluation_model_id"].unique().to_list())
    essays = sorted(means["essay_gen_id"].unique().to_list())
    col = {e: i for i, e in enumerate(essays)}
    values = {j: np.full(len(essays), np.nan) for j in judges}
    counts = {j: np.zeros(len(essays), dtype=np.int64) for j in judges}
    for essay, judge, value, k in means.iter_rows():
        values[judge][col[essay]] = value
        counts[judge][col[essay]] = k
    rows: list[dict] = []

    # all judges: alpha across judges, essays with two or more judges
    matrix = np.vstack([values[j] for j in judges])
    rated = ~np.isnan(matrix)
    pairable = rated.sum(axis=0) >= 2
    n_pairable = int(pairable.sum())
    n_judges = int(rated[:, pairable].any(axis=1).sum())
    ratings = int(rated[:, pairable].sum())
    if len(judges) < 2:
        rows.append(_row(tpl, "all judges", judges=len(judges), note="only one judge scored this template"))
    elif n_pairable < min_essays:
        rows.append(
            _row(
                tpl,
                "all judges",
                judges=n_judges,
                essays=n_pairable,
                ratings=ratings,
                note=_few(n_pairable, "scored by two or more judges", min_essays),
            )
        )
    else:
        alpha = krippendorff_alpha(matrix[:, pairable], "interval")
        rows.append(
            _row(
                tpl,
                "all judges",
                judges=n_judges,
                essays=n_pairable,
                ratings=ratings,
                alpha=_finite(alpha),
                note=None if _finite(alpha) is not None else "no variation in the scores",
            )
        )

    # pairs of judges on the essays both scored
    hidden = 0
    for a, b in combinations(judges, 2):
        both = ~np.isnan(values[a]) & ~np.isnan(values[b])
        n = int(both.sum())
        if n == 0:
            hidden += 1
            continue
        x, y = values[a][both], values[b][both]
        k = int(counts[a][both].sum() + counts[b][both].sum())
        mad = float(np.abs(x - y).mean())
        if n < min_essays:
            rows.append(
                _row(tpl, "pair", a, b, essays=n, ratings=k, mad=mad, note=_few(n, "scored by both", min_essays))
            )
            continue
        rho, r = correlations(x, y)
        rows.append(
            _row(
                tpl,
                "pair",
                a,
                b,
                essays=n,
                ratings=k,
                spearman=rho,
                pearson=r,
                mad=mad,
                note=None if rho is not None else "no variation in one judge's scores",
            )
        )

    # each judge against itself: replicates of one essay
    for judge, jpart in sorted(part.group_by("evaluation_model_id", maintain_order=True), key=lambda kv: kv[0][0]):
        reps = (
            jpart.sort("replicate", "gen_id")
            .group_by("essay_gen_id", maintain_order=True)
            .agg(pl.col("score"))
            .filter(pl.col("score").list.len() >= 2)
            .sort("essay_gen_id")
        )
        n = reps.height
        if n == 0:
            continue  # never replicated: nothing to say
        k = int(reps["score"].list.len().sum())
        diffs = [abs(s[i] - s[j]) for s in reps["score"].to_list() for i in range(len(s)) for j in range(i + 1, len(s))]
        mad = float(np.mean(diffs))
        if n < min_essays:
            rows.append(
                _row(
                    tpl,
                    "self",
                    judge[0],
                    essays=n,
                    ratings=k,
                    mad=mad,
                    note=_few(n, "it scored more than once", min_essays),
                )
            )
            continue
        # alpha does not depend on which coder gave which value of a unit: replicates in order are the coders
        lists = reps["score"].to_list()
        matrix = np.full((max(len(s) for s in lists), n), np.nan)
        for u, scores in enumerate(lists):
            matrix[: len(scores), u] = scores
        alpha = _finite(krippendorff_alpha(matrix, "interval"))
        first = np.array([s[0] for s in reps["score"].to_list()])
        second = np.array([s[1] for s in reps["score"].to_list()])
        rho, r = correlations(first, second)
        rows.append(
            _row(
                tpl,
                "self",
                judge[0],
                essays=n,
                ratings=k,
                spearman=rho,
                pearson=r,
                mad=mad,
                alpha=alpha,
                note=None if alpha is not None else "no variation in its scores",
            )
        )
    return rows, hidden


def _finite(x: float | None) -> float | None:
    return None if x is None or x != x else x

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
from .judges import human_reference
from .report import Report, ReportError, frame_with_notes
from .stats import (
    bootstrap_weights,
    correlations,
    group_rng,
    holm,
    icc,
    is_ordinal_scale,
    krippendorff_alpha,
    percentile_interval,
    require_scipy,
    weighted_interval_alpha,
    weighted_kappa,
    weighted_pearson,
    weighted_spearman,
)

#: Below this many essays a correlation or an alpha is a note, not a number.
MIN_ESSAYS = 5
#: Below this many drafts an interval gets a strong note (from 2 drafts it is just the two).
MIN_DRAFTS = 5
COMPARISONS: tuple[str, ...] = ("all judges", "without", "pair", "self")
DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0
LEVEL = 0.95
#: The name the human raters get as a judge when ``reference="humans"``.
HUMANS = "humans"
AGREEMENT_COLUMNS: tuple[str, ...] = (
    "evaluation_template_id",
    "comparison",
    "judge_a",
    "judge_b",
    "judges",
    "essays",
    "ratings",
    "spearman",
    "spearman_ci_low",
    "spearman_ci_high",
    "pearson",
    "pearson_ci_low",
    "pearson_ci_high",
    "pearson_p",
    "p_holm",
    "mean_abs_diff",
    "alpha",
    "alpha_ci_low",
    "alpha_ci_high",
    "alpha_ordinal",
    "kappa_linear",
    "kappa_quadratic",
    "icc2_1",
    "icc3_1",
    "icc2_k",
    "icc3_k",
    "note",
)
_TEXT = frozenset({"evaluation_template_id", "comparison", "judge_a", "judge_b", "note"})
_INT = frozenset({"judges", "essays", "ratings"})
_SCHEMA = {c: pl.String if c in _TEXT else pl.Int64 if c in _INT else pl.Float64 for c in AGREEMENT_COLUMNS}


def agreement_report(
    data_root: DataRoot = None,
    template: str | Iterable[str] | None = None,
    cohort: str | None = None,
    since: date | str | None = None,
    until: date | str | None = None,
    *,
    min_essays: int = MIN_ESSAYS,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    reference: str | None = None,
    labels=None,
    index_dir: str | os.PathLike | None = None,
    with_notes: bool = False,
) -> pl.DataFrame:
    """Agreement between judges, per evaluation template, as a polars DataFrame.

    Reads one score per logical evaluation (the ``counted_scores`` rule, as ``scores_report``). Per
    evaluation template (``template``: only these), rows of four kinds (column ``comparison``):

    * ``all judges``: Krippendorff's alpha (interval metric) across every judge, essays as units, each
      judge's value on an essay the mean of its replicates; missing ratings allowed. ``judges``: judges
      with a rating on a pairable essay; ``essays``: essays rated by two or more judges; ``ratings``:
      the judge x essay values used. ICC(2,1) (absolute agreement) and ICC(3,1) (consistency), and
      their k-rater forms, on the essays every judge scored.
    * ``without`` (``judge_a``): the same alpha with that judge left out: higher than ``all judges``
      means the panel agrees better without it.
    * ``pair`` (``judge_a`` < ``judge_b``): on the essays both scored (replicates averaged), Spearman
      and Pearson correlation (scipy.stats) with Pearson's p-value and ``p_holm`` (Holm-adjusted over
      every pair of the report), the mean absolute difference, alpha of the two, ICC(2,1) vs
      ICC(3,1) (a judge one point high lowers the first only). Pairs without a common essay are not
      listed (a note counts them).
    * ``self`` (``judge_a``): from the judge's replicates of one essay, alpha across replicates
      (replicates as coders) and the mean absolute difference over every two replicates of an
      essay; Spearman/Pearson of its first two replicates. ``essays``: essays it scored twice or more.

    Every alpha and correlation has a 95% bootstrap interval resampling drafts (essays of one draft
    travel together; ``resamples`` times from ``seed``). On a discrete scale (integers or halves, at
    most 21 values) ordinal alpha and linear / quadratic weighted kappa (pairs) sit beside the
    interval statistics. ``reference="humans"``: the human raters of ``gensql labels import`` join as a
    judge named ``humans`` (the mean of the raters per essay; ``labels``: one import's name or a
    DataFrame), so every pair statistic says how close each judge is to the people.

    Where fewer than ``min_essays`` essays are available the statistic is NULL and ``note`` says why
    (no variation is also a note). Needs numpy and scipy (the ``stats`` extra).
    """
    rep = build_agreement(
        data_root,
        template,
        cohort,
        since,
        until,
        min_essays=min_essays,
        resamples=resamples,
        seed=seed,
        reference=reference,
        labels=labels,
        index_dir=index_dir,
    )
    return frame_with_notes(rep, with_notes)


def build_agreement(
    data_root: DataRoot = None,
    template=None,
    cohort=None,
    since=None,
    until=None,
    *,
    min_essays: int = MIN_ESSAYS,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    reference: str | None = None,
    labels=None,
    index_dir=None,
) -> Report:
    require_scipy()
    if min_essays < 2:
        raise ReportError(f"min_essays {min_essays} is too small: a correlation needs at least 2 essays")
    if resamples < 1:
        raise ReportError(f"resamples must be at least 1 (got {resamples})")
    if reference not in (None, HUMANS):
        raise ReportError(f"reference {reference!r}: the agreement report takes humans (or nothing)")
    humans = human_reference(data_root, labels, index_dir) if reference == HUMANS else None
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
    if humans is not None:
        df = _with_humans(df, humans)
    rows: list[dict] = []
    hidden = 0
    for (tpl,), part in sorted(
        df.group_by("evaluation_template_id", maintain_order=True), key=lambda kv: (kv[0][0] is None, kv[0][0] or "")
    ):
        new_rows, n_hidden = _template_rows(tpl, part, min_essays, resamples, seed)
        rows += new_rows
        hidden += n_hidden
    if hidden:
        notes.append(f"{hidden:,} judge pair{'s' if hidden != 1 else ''} never scored a common essay (not listed)")
    pairs = [r for r in rows if r["comparison"] == "pair"]
    for row, p in zip(pairs, holm([r["pearson_p"] for r in pairs])):
        row["p_holm"] = p
    tested = sum(r["pearson_p"] is not None for r in pairs)
    if tested > 1:
        notes.append(f"p_holm: Pearson's p-values Holm-adjusted over the {tested} pairs of this report")
    few = sum(1 for r in rows if r["alpha"] is not None or r["pearson"] is not None if r["_drafts"] < MIN_DRAFTS)
    if few:
        notes.append(
            f"{few} row{'s' if few != 1 else ''} from fewer than {MIN_DRAFTS} drafts: their intervals are little "
            "more than those drafts; do not read them as findings"
        )
    for r in rows:
        del r["_drafts"]
    out = pl.DataFrame(rows, schema=_SCHEMA) if rows else pl.DataFrame(schema=_SCHEMA)
    params = {
        "filters": {**filters.describe(), "template": templates},
        "min_essays": min_essays,
        "metric": "interval",
        "resamples": resamples,
        "seed": seed,
        "level": LEVEL,
        "resampled": "drafts",
        "reference": reference,
    }
    return Report("agreement", out, (), None, notes, params, snapshot_id(con), None)


def _with_humans(df: pl.DataFrame, humans: pl.DataFrame) -> pl.DataFrame:
    """The human raters as one more judge: per essay and criterion, the mean of their scores, with the
    essay's draft taken from the judges' rows (the bootstrap's unit)."""
    drafts = df.select("essay_gen_id", "draft_gen_id").unique("essay_gen_id", keep="first")
    h = (
        humans.group_by("essay_gen_id", "criterion")
        .agg(pl.col("score").mean())
        .rename({"criterion": "evaluation_template_id"})
        .join(drafts, on="essay_gen_id", how="left")
        .with_columns(
            pl.lit(HUMANS).alias("evaluation_model_id"),
            pl.lit(1, dtype=pl.Int64).alias("replicate"),
            (pl.lit("humans:") + pl.col("essay_gen_id")).alias("gen_id"),
        )
    )
    return pl.concat([df, h.select([c for c in df.columns if c in h.columns])], how="diagonal_relaxed")


def _row(tpl, comparison, a=None, b=None, **values) -> dict:
    row = dict.fromkeys(AGREEMENT_COLUMNS)
    row.update(evaluation_template_id=tpl, comparison=comparison, judge_a=a, judge_b=b, essays=0, ratings=0)
    row["_drafts"] = 0
    row.update(values)
    return row


def _few(n: int, what: str, min_essays: int) -> str:
    return f"too little data: {n} essay{'s' if n != 1 else ''} {what} (need {min_essays})"


def _weights(np, clusters: list[str], mask, resamples: int, rng):
    """Bootstrap weights (resamples x the essays of ``mask``) drawing the drafts of those essays, and
    how many drafts there are."""
    picked = [clusters[i] for i in np.flatnonzero(mask)]
    return bootstrap_weights(picked, resamples, rng), len(set(picked))


def _template_rows(tpl, part: pl.DataFrame, min_essays: int, resamples: int, seed: int) -> tuple[list[dict], int]:
    np, _ = require_scipy()
    part = part.with_columns(
        pl.col("evaluation_model_id").fill_null("(none)"),
        pl.coalesce("draft_gen_id", pl.lit("essay:") + pl.col("essay_gen_id")).alias("_cluster"),
    )
    means = (
        part.group_by("essay_gen_id", "evaluation_model_id", maintain_order=True)
        .agg(pl.col("score").mean().alias("value"), pl.len().alias("k"), pl.col("_cluster").first())
        .sort("essay_gen_id", "evaluation_model_id")
    )
    judges = sorted(means["evaluation_model_id"].unique().to_list())
    essays = sorted(means["essay_gen_id"].unique().to_list())
    col = {e: i for i, e in enumerate(essays)}
    values = {j: np.full(len(essays), np.nan) for j in judges}
    counts = {j: np.zeros(len(essays), dtype=np.int64) for j in judges}
    clusters = [""] * len(essays)
    for essay, judge, value, k, cluster in means.iter_rows():
        values[judge][col[essay]] = value
        counts[judge][col[essay]] = k
        clusters[col[essay]] = cluster

    def draws(mask, *key):
        return _weights(np, clusters, mask, resamples, group_rng(seed, ("agreement", tpl, *key)))

    ordinal = is_ordinal_scale(part["score"].to_numpy())
    rows: list[dict] = []

    # all judges: alpha across judges, essays with two or more judges; then each judge left out
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
        w, n_drafts = draws(pairable, "all judges")
        sub = matrix[:, pairable]
        row = _row(tpl, "all judges", judges=n_judges, essays=n_pairable, ratings=ratings, _drafts=n_drafts)
        row.update(_alpha_stats(np, sub, w, ordinal))
        complete = rated.all(axis=0)
        if complete.sum() >= min_essays:
            row.update(icc(matrix[:, complete]))
        row["note"] = None if row["alpha"] is not None else "no variation in the scores"
        rows.append(row)
        if len(judges) >= 3:
            for i, judge in enumerate(judges):
                rest = np.delete(sub, i, axis=0)
                keep = (~np.isnan(rest)).sum(axis=0) >= 2
                if keep.sum() < min_essays:
                    continue
                wrow = _row(tpl, "without", judge, judges=n_judges - 1, essays=int(keep.sum()), _drafts=n_drafts)
                wrow["ratings"] = int((~np.isnan(rest[:, keep])).sum())
                wrow.update(_alpha_stats(np, rest[:, keep], w[:, keep], False))
                rows.append(wrow)

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
                _row(
                    tpl,
                    "pair",
                    a,
                    b,
                    essays=n,
                    ratings=k,
                    mean_abs_diff=mad,
                    note=_few(n, "scored by both", min_essays),
                )
            )
            continue
        w, n_drafts = draws(both, a, b)
        row = _row(tpl, "pair", a, b, essays=n, ratings=k, mean_abs_diff=mad, _drafts=n_drafts)
        row.update(_pair_stats(np, x, y, w, ordinal and is_ordinal_scale(np.concatenate([x, y]))))
        row["note"] = None if row["spearman"] is not None else "no variation in one judge's scores"
        rows.append(row)

    # each judge against itself: replicates of one essay
    for judge, jpart in sorted(part.group_by("evaluation_model_id", maintain_order=True), key=lambda kv: kv[0][0]):
        reps = (
            jpart.sort("replicate", "gen_id")
            .group_by("essay_gen_id", maintain_order=True)
            .agg(pl.col("score"), pl.col("_cluster").first())
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
                    mean_abs_diff=mad,
                    note=_few(n, "it scored more than once", min_essays),
                )
            )
            continue
        # alpha does not depend on which coder gave which value of a unit: replicates in order are the coders
        lists = reps["score"].to_list()
        matrix = np.full((max(len(s) for s in lists), n), np.nan)
        for u, scores in enumerate(lists):
            matrix[: len(scores), u] = scores
        self_clusters = reps["_cluster"].to_list()
        w = bootstrap_weights(self_clusters, resamples, group_rng(seed, ("agreement", tpl, "self", judge[0])))
        row = _row(tpl, "self", judge[0], essays=n, ratings=k, mean_abs_diff=mad, _drafts=len(set(self_clusters)))
        row.update(_alpha_stats(np, matrix, w, ordinal))
        pair = _pair_stats(np, matrix[0], matrix[1], w, False)
        row.update({key: pair[key] for key in ("spearman", "pearson", "spearman_ci_low", "spearman_ci_high")})
        row.update({key: pair[key] for key in ("pearson_ci_low", "pearson_ci_high")})
        row["note"] = None if row["alpha"] is not None else "no variation in its scores"
        rows.append(row)
    return rows, hidden


def _alpha_stats(np, matrix, w, ordinal: bool) -> dict:
    """Alpha (interval) of a coders x units matrix with its bootstrap interval (weights ``w``), and
    ordinal alpha on a discrete scale."""
    alpha = _finite(krippendorff_alpha(matrix, "interval"))
    out = {"alpha": alpha}
    if alpha is not None:
        out["alpha_ci_low"], out["alpha_ci_high"] = percentile_interval(weighted_interval_alpha(w, matrix), LEVEL)
        if ordinal:
            out["alpha_ordinal"] = _finite(krippendorff_alpha(matrix, "ordinal"))
    return out


def _pair_stats(np, x, y, w, ordinal: bool) -> dict:
    """Correlations with their bootstrap intervals (weights ``w``), Pearson's p, alpha, ICCs and
    (discrete scales) weighted kappa of two judges' values on the same essays."""
    _, st = require_scipy()
    rho, r = correlations(x, y)
    out: dict = {"spearman": rho, "pearson": r}
    if r is None:
        return out
    out["pearson_p"] = float(st.pearsonr(x, y).pvalue)
    out["pearson_ci_low"], out["pearson_ci_high"] = percentile_interval(weighted_pearson(w, x, y), LEVEL)
    out["spearman_ci_low"], out["spearman_ci_high"] = percentile_interval(weighted_spearman(w, x, y), LEVEL)
    pair = np.vstack([x, y])
    out.update(_alpha_stats(np, pair, w, ordinal))
    out.update(icc(pair.T))
    if ordinal:
        out["kappa_linear"] = weighted_kappa(x, y, "linear")
        out["kappa_quadratic"] = weighted_kappa(x, y, "quadratic")
    return out


def _finite(x: float | None) -> float | None:
    return None if x is None or x != x else x

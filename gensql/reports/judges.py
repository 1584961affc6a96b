"""The judges report: is each judge biased, noisy, fond of long essays or of its own model, and what does
a usable score cost? (``gensql report judges``; the same figures in notebook 04 and ``gensql serve``.)

A correlation of 0.96 says two judges rank essays alike; it does not say that one reads a point high.
This report holds each judge (evaluation model) against a reference on the same essays, per
evaluation template:

* ``reference="others"`` (default): the mean of the *other* judges' scores of the essay (leave one
  out), so a judge is never compared with itself; its offset is relative to the others' average;
* ``reference=<judge id>``: one trusted judge (its own row has no offset);
* ``reference="humans"``: the mean of the human raters' scores imported with ``gensql labels import``
  (:mod:`gensql.labels`): which judge is closest to the people.

Each judge's value on an essay is the mean of its replicates (one score per logical evaluation, the
``counted_scores`` rule). Intervals resample drafts (essays of one draft travel together).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

import polars as pl

from .connection import DataRoot, connection, snapshot_id
from .filters import as_list, make_filters, unmatched_notes
from .judged import counted_scores, unreachable_note
from .report import Report, ReportError, frame_with_notes
from .stats import (
    bootstrap_weights,
    calibration,
    group_rng,
    holm,
    is_ordinal_scale,
    krippendorff_alpha,
    percentile_interval,
    require_scipy,
    weighted_kappa,
    weighted_mean,
    weighted_pearson,
)

REFERENCE_OTHERS = "others"
REFERENCE_HUMANS = "humans"
DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0
MIN_ESSAYS = 5
LEVEL = 0.95
#: (column, dtype, what it says): the report's columns, in order; docs/cli.md lists them from here.
JUDGES_SPEC: tuple[tuple[str, type[pl.DataType], str], ...] = (
    ("evaluation_template_id", pl.String, "the criterion"),
    ("judge", pl.String, "the evaluation model"),
    ("reference", pl.String, "what it is held against: others (leave one out), a judge, humans"),
    ("essays", pl.Int64, "essays scored by the judge and the reference"),
    ("drafts", pl.Int64, "drafts those essays come from (the bootstrap's units)"),
    ("offset", pl.Float64, "mean of judge - reference: +1 reads one point high"),
    ("offset_ci_low", pl.Float64, "95% bootstrap interval of the offset (by draft)"),
    ("offset_ci_high", pl.Float64, ""),
    ("loa_low", pl.Float64, "Bland-Altman 95% limits of agreement: offset -/+ 1.96 sd of the differences"),
    ("loa_high", pl.Float64, ""),
    ("mean_abs_diff", pl.Float64, "mean |judge - reference|"),
    ("slope", pl.Float64, "least squares slope of judge on reference (< 1: compresses the scale)"),
    ("deming_slope", pl.Float64, "Deming (orthogonal) slope: the reference is noisy too"),
    ("pearson", pl.Float64, "Pearson correlation with the reference"),
    ("pearson_ci_low", pl.Float64, "95% bootstrap interval (by draft)"),
    ("pearson_ci_high", pl.Float64, ""),
    ("spearman", pl.Float64, "Spearman correlation with the reference"),
    ("kappa_quadratic", pl.Float64, "quadratic-weighted kappa with the reference (discrete scales)"),
    ("alpha_all", pl.Float64, "Krippendorff's alpha (interval) of every judge on this criterion"),
    ("alpha_without", pl.Float64, "the same alpha with this judge left out (higher: drop it)"),
    ("length_r", pl.Float64, "Pearson correlation of its score with the essay's characters"),
    ("length_slope", pl.Float64, "slope of (judge - reference) per 1,000 characters: length bias"),
    ("length_p", pl.Float64, "p-value of that slope, Holm-adjusted over the report's rows"),
    ("self_essays", pl.Int64, "essays whose essay or draft model is the judge itself"),
    ("self_offset", pl.Float64, "(judge - reference) on its own model's essays minus on the others"),
    ("self_p", pl.Float64, "Welch t-test p-value of that difference, Holm-adjusted over the report's rows"),
    ("scores", pl.Int64, "the judge's counted scores on this criterion"),
    ("mean", pl.Float64, "its mean score"),
    ("sd", pl.Float64, "standard deviation of its scores"),
    ("score_min", pl.Float64, "lowest score"),
    ("score_median", pl.Float64, "median score"),
    ("score_max", pl.Float64, "highest score"),
    ("distribution", pl.String, "value:count of its scores (~: rounded to whole points, on a finer scale)"),
    ("calls", pl.Int64, "its model calls on this criterion (every attempt)"),
    ("parse_failure_rate", pl.Float64, "calls without a score / calls"),
    ("truncation_rate", pl.Float64, "truncated calls / calls"),
    ("cost_total", pl.Float64, "estimated cost of those calls (price table; NULL: unpriced)"),
    ("cost_per_score", pl.Float64, "cost_total / counted scores"),
    ("note", pl.String, "why a figure is missing or weak"),
)
JUDGES_COLUMNS: tuple[str, ...] = tuple(c for c, _, _ in JUDGES_SPEC)
_SCHEMA = {c: t for c, t, _ in JUDGES_SPEC}

_CALLS_SQL = """
SELECT model_id, template_id,
       count(*) FILTER (WHERE is_model_call) AS calls,
       count(*) FILTER (WHERE is_model_call AND score IS NULL) AS parse_failures,
       count(*) FILTER (WHERE is_model_call AND truncated) AS truncated
FROM gens
WHERE stage = 'evaluation' AND {where}
GROUP BY ALL
"""


def judges_report(
    data_root: DataRoot = None,
    template: str | Iterable[str] | None = None,
    cohort: str | None = None,
    since: date | str | None = None,
    until: date | str | None = None,
    *,
    reference: str = REFERENCE_OTHERS,
    labels=None,
    prices=None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    min_essays: int = MIN_ESSAYS,
    index_dir: str | os.PathLike | None = None,
    prompts_root: str | os.PathLike | None = None,
    with_notes: bool = False,
) -> pl.DataFrame:
    """Per evaluation template x judge: bias and calibration against ``reference``, score distribution,
    alpha with the judge left out, length bias, self-preference, failure rates and cost per usable
    score, as a polars DataFrame (the columns: :data:`JUDGES_SPEC`).

    ``reference``: ``"others"`` (leave-one-out consensus), a judge id, or ``"humans"`` (the ratings of
    ``gensql labels import``; ``labels``: the name of one import, or a DataFrame with
    ``essay_gen_id, criterion, score, rater``; default every import under ``<data-root>/labels``).
    ``prices``: the price table for the cost columns (as ``tokens_report``). Intervals resample drafts
    ``resamples`` times from ``seed``. Position effects: a sample of the evaluation prompts is read to
    see whether any presents several items in an order (:func:`order_note`; with a connection, pass
    the data root as ``prompts_root`` for it). Needs numpy and scipy (the ``stats`` extra).
    """
    rep = build_judges(
        data_root,
        template,
        cohort,
        since,
        until,
        reference=reference,
        labels=labels,
        prices=prices,
        resamples=resamples,
        seed=seed,
        min_essays=min_essays,
        index_dir=index_dir,
        prompts_root=prompts_root,
    )
    return frame_with_notes(rep, with_notes)


def human_reference(data_root, labels, index_dir=None) -> pl.DataFrame:
    """The humans' labels as a DataFrame (``essay_gen_id, criterion, score, rater``): ``labels`` itself
    when it is a DataFrame, else the imports under the data root (``labels``: one import's name)."""
    if isinstance(labels, pl.DataFrame):
        return labels
    from ..labels import read_labels

    if not isinstance(data_root, (str, os.PathLike)) and data_root is not None:
        raise ReportError(
            "reference='humans' with a connection needs labels=: a DataFrame of the ratings, or pass the data root"
        )
    root = data_root
    if root is None and index_dir is not None:
        raise ReportError("reference='humans' needs the data root (where labels/ lives)")
    df = read_labels(root, labels)
    if df.height == 0:
        raise ReportError(
            "no human labels to use as the reference: import them with `gensql labels import FILE.csv` "
            "(columns essay_gen_id, criterion, score, rater)"
        )
    return df


def build_judges(
    data_root: DataRoot = None,
    template=None,
    cohort=None,
    since=None,
    until=None,
    *,
    reference: str = REFERENCE_OTHERS,
    labels=None,
    prices=None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    min_essays: int = MIN_ESSAYS,
    index_dir=None,
    prompts_root=None,
) -> Report:
    np, _ = require_scipy()
    if resamples < 1:
        raise ReportError(f"resamples must be at least 1 (got {resamples})")
    if min_essays < 3:
        raise ReportError(f"min_essays {min_essays} is too small: a slope needs at least 3 essays")
    humans = human_reference(data_root, labels, index_dir) if reference == REFERENCE_HUMANS else None
    con = connection(data_root, index_dir)
    filters = make_filters(con, cohort, None, None, since, until)
    templates = as_list(template)
    df, unreachable = counted_scores(con, filters, criteria=templates, extra=True)
    df = df.with_columns(
        pl.col("evaluation_model_id").fill_null("(none)"),
        pl.coalesce("draft_gen_id", pl.lit("essay:") + pl.col("essay_gen_id")).alias("_cluster"),
    )
    notes = [
        *filters.notes,
        *unmatched_notes(con, template=templates, within_stage="evaluation"),
        *unreachable_note(unreachable),
    ]
    judges_all = sorted(df["evaluation_model_id"].unique().to_list())
    if reference not in (REFERENCE_OTHERS, REFERENCE_HUMANS) and reference not in judges_all:
        raise ReportError(
            f"reference {reference!r} is not a judge of these scores: expected 'others', 'humans' or one of "
            f"{', '.join(judges_all) if judges_all else 'none'}"
        )
    calls = _calls(con, filters)
    costs, cost_notes = _costs(con, cohort, since, until, prices)
    notes += cost_notes
    rows: list[dict] = []
    for (tpl,), part in sorted(
        df.group_by("evaluation_template_id", maintain_order=True), key=lambda kv: (kv[0][0] is None, kv[0][0] or "")
    ):
        human_part = None
        if humans is not None:
            human_part = humans.filter(pl.col("criterion") == tpl)
            if human_part.height == 0:
                notes.append(f"no human labels on {tpl}: its judges have no reference")
        rows += _template_rows(np, tpl, part, reference, human_part, calls, costs, resamples, seed, min_essays)
        closest = [r for r in rows if r["evaluation_template_id"] == tpl and r["mean_abs_diff"] is not None]
        closest = [r for r in closest if r["essays"] >= min_essays]
        if reference == REFERENCE_HUMANS and closest:
            best = min(closest, key=lambda r: r["mean_abs_diff"])
            notes.append(
                f"{tpl}: closest to the humans: {best['judge']} (mean |difference| {best['mean_abs_diff']:.2f}, "
                f"offset {best['offset']:+.2f}, r {best['pearson'] if best['pearson'] is not None else float('nan'):.2f})"
            )
    for column in ("length_p", "self_p"):  # one test per judge and criterion: a family, adjusted as one
        for row, p in zip(rows, holm([r[column] for r in rows])):
            row[column] = p
    notes.append(order_note(con, data_root if prompts_root is None else prompts_root, index_dir))
    if reference == REFERENCE_OTHERS:
        notes.append(
            "reference = the mean of the other judges (leave one out): an offset is relative to their "
            "average; name a trusted judge (--reference JUDGE) or humans for an absolute one"
        )
    out = pl.DataFrame(rows, schema=_SCHEMA) if rows else pl.DataFrame(schema=_SCHEMA)
    params = {
        "filters": {**filters.describe(), "template": templates},
        "reference": reference,
        "resamples": resamples,
        "seed": seed,
        "min_essays": min_essays,
        "level": LEVEL,
        "resampled": "drafts",
    }
    return Report("judges", out, (), None, notes, params, snapshot_id(con), None)


#: A prompt that presents two or more items in an order: "Essay A ... Essay B", "Response 1 ... Response 2".
ORDER_MARKERS = re.compile(
    r"\b(essay|response|answer|text|story|option|candidate|assistant|output)\s*[(\[#]?\s*(?:a|1)\b"
    r"[\s\S]{0,100000}?\b\1\s*[(\[#]?\s*(?:b|2)\b",
    re.IGNORECASE,
)
#: Evaluation prompts read to look for an order (a deterministic sample).
ORDER_SAMPLE = 200


def order_note(con, data_root, index_dir=None, sample: int = ORDER_SAMPLE) -> str:
    """Whether the store's evaluation prompts present items in an order, as a note: position bias
    needs an order to exist. Reads up to ``sample`` prompt.txt files (a fixed sample by id hash)."""
    from ..layout import resolve
    from ..safeio import read_file, store_roots

    if data_root is not None and not isinstance(data_root, (str, os.PathLike)):
        return "position effects: not checked (no data root to read evaluation prompts from)"
    root = resolve(data_root, index_dir).data_root
    dirs = [
        r[0]
        for r in con.sql(
            "SELECT gen_dir FROM gens WHERE stage = 'evaluation' AND has_prompt ORDER BY hash(gen_id), gen_id LIMIT $n",
            params={"n": sample},
        ).fetchall()
    ]
    if not dirs:
        return "position effects: no evaluation prompt to read, so no order of essays to check"
    roots, read, ordered = store_roots(root), 0, 0
    for gen_dir in dirs:
        try:
            data, _ = read_file(root / gen_dir / "prompt.txt", roots)
        except (OSError, ValueError):
            continue
        read += 1
        if ORDER_MARKERS.search(data[:400_000].decode("utf-8", "replace")):
            ordered += 1
    if ordered:
        return (
            f"position effects: {ordered} of {read} sampled evaluation prompts present items in an order "
            "('Essay A ... Essay B', 'Response 1 ... 2'): this report does not measure position bias; "
            "compare scores by position before trusting those evaluations"
        )
    return (
        f"position effects: none of {read} sampled evaluation prompts presents more than one item in an "
        "order (each scores one essay), so there is no position or order bias to check"
    )


def _calls(con, filters) -> dict[tuple[str, str | None], tuple[int, int, int]]:
    where, params = filters.sql("gens")
    out = {}
    for model, tpl, n, fails, trunc in con.sql(_CALLS_SQL.format(where=where), params=params).fetchall():
        out[(model if model is not None else "(none)", tpl)] = (int(n), int(fails), int(trunc))
    return out


def _costs(con, cohort, since, until, prices) -> tuple[dict[tuple[str, str | None], float | None], list[str]]:
    from .tokens import build_tokens

    rep = build_tokens(con, ("model", "template"), cohort, "evaluation", None, since, until, prices)
    out = {}
    for model, tpl, cost in rep.df.select("model_id", "template_id", "cost_total_est").iter_rows():
        out[(model if model is not None else "(none)", tpl)] = cost
    notes = [f"cost: {n}" for n in rep.notes if "price" in n]
    return out, notes


def _template_rows(np, tpl, part, reference, humans, calls, costs, resamples, seed, min_essays) -> list[dict]:
    _, st = require_scipy()
    per = (
        part.group_by("essay_gen_id", "evaluation_model_id", maintain_order=True)
        .agg(
            pl.col("score").mean().alias("value"),
            pl.col("_cluster").first(),
            pl.col("essay_chars").first(),
            pl.col("essay_model_id").first(),
            pl.col("draft_model_id").first(),
        )
        .sort("essay_gen_id", "evaluation_model_id")
    )
    judges = sorted(per["evaluation_model_id"].unique().to_list())
    essays = sorted(per["essay_gen_id"].unique().to_list())
    if humans is not None:
        essays = sorted(set(essays) | set(humans["essay_gen_id"].to_list()))
    col = {e: i for i, e in enumerate(essays)}
    n = len(essays)
    values = {j: np.full(n, np.nan) for j in judges}
    cluster = [f"essay:{e}" for e in essays]
    chars = np.full(n, np.nan)
    models: list[set[str]] = [set() for _ in essays]
    for essay, judge, value, clu, ch, em, dm in per.iter_rows():
        i = col[essay]
        values[judge][i] = value
        cluster[i] = clu
        if ch is not None:
            chars[i] = ch
        models[i] |= {m for m in (em, dm) if m is not None}
    matrix = np.vstack([values[j] for j in judges])
    alpha_all = _alpha(np, matrix)
    human_values = None
    if humans is not None:
        human_values = np.full(n, np.nan)
        for essay, value in humans.group_by("essay_gen_id").agg(pl.col("score").mean()).iter_rows():
            if essay in col:
                human_values[col[essay]] = value
    scores_of = part.group_by("evaluation_model_id").agg(pl.col("score"))
    scores_of = dict(zip(scores_of["evaluation_model_id"].to_list(), scores_of["score"].to_list()))
    rows = []
    for idx, judge in enumerate(judges):
        y = values[judge]
        if reference == REFERENCE_OTHERS:
            others = np.delete(matrix, idx, axis=0)
            count = (~np.isnan(others)).sum(axis=0)
            with np.errstate(invalid="ignore"):
                ref = np.where(count > 0, np.nansum(others, axis=0) / np.maximum(count, 1), np.nan)
            ref_label = "others"
        elif reference == REFERENCE_HUMANS:
            ref = human_values if human_values is not None else np.full(n, np.nan)
            ref_label = "humans"
        else:
            ref = values[reference] if reference in values else np.full(n, np.nan)
            ref_label = reference
        own = np.array(scores_of.get(judge, []), dtype=float)
        row: dict[str, Any] = dict.fromkeys(JUDGES_COLUMNS)
        row.update(evaluation_template_id=tpl, judge=judge, reference=ref_label, scores=int(own.size))
        if own.size:
            row.update(
                mean=float(own.mean()),
                sd=float(own.std(ddof=1)) if own.size > 1 else None,
                score_min=float(own.min()),
                score_median=float(np.median(own)),
                score_max=float(own.max()),
            )
            # value:count on a discrete scale; on a finer one, counts of the scores rounded to whole points
            fine = not is_ordinal_scale(own)
            vals, counts = np.unique(np.round(own) if fine else own, return_counts=True)
            row["distribution"] = ("~" if fine else "") + " ".join(f"{v:g}:{c}" for v, c in zip(vals, counts))
        n_calls, fails, trunc = calls.get((judge, tpl), (0, 0, 0))
        row["calls"] = n_calls
        if n_calls:
            row["parse_failure_rate"] = fails / n_calls
            row["truncation_rate"] = trunc / n_calls
        cost = costs.get((judge, tpl))
        row["cost_total"] = cost
        if cost is not None and own.size:
            row["cost_per_score"] = cost / own.size
        if len(judges) >= 3:
            row["alpha_all"] = alpha_all
            row["alpha_without"] = _alpha(np, np.delete(matrix, idx, axis=0))
        why = []
        both = ~np.isnan(y) & ~np.isnan(ref)
        k = int(both.sum())
        row["essays"] = k
        row["drafts"] = len({cluster[i] for i in np.flatnonzero(both)})
        if reference == judge:
            why.append("the reference itself")
        elif k == 0:
            why.append("no essay scored by both the judge and the reference")
        else:
            yb, rb = y[both], ref[both]
            cal = calibration(yb, rb)
            row.update({key: cal[key] for key in ("offset", "loa_low", "loa_high", "slope", "deming_slope")})
            row.update(pearson=cal["pearson"], spearman=cal["spearman"], mean_abs_diff=float(np.abs(yb - rb).mean()))
            if k < min_essays:
                why.append(f"only {k} essays with the reference (need {min_essays}): no interval, no slope")
                row.update(slope=None, deming_slope=None, pearson=None, spearman=None)
            else:
                if is_ordinal_scale(np.concatenate([yb, rb])):
                    row["kappa_quadratic"] = weighted_kappa(yb, rb, "quadratic")
                clusters = [cluster[i] for i in np.flatnonzero(both)]
                w = bootstrap_weights(clusters, resamples, group_rng(seed, ("judges", tpl, judge, ref_label)))
                d = yb - rb
                row["offset_ci_low"], row["offset_ci_high"] = percentile_interval(weighted_mean(w, d), LEVEL)
                row["pearson_ci_low"], row["pearson_ci_high"] = percentile_interval(weighted_pearson(w, yb, rb), LEVEL)
                if row["drafts"] < MIN_ESSAYS:
                    why.append(f"only {row['drafts']} drafts: the intervals are little more than those drafts")
                # length bias: does the judge's disagreement with the reference grow with the essay's length?
                ch = chars[both]
                known = ~np.isnan(ch)
                if known.sum() >= min_essays and np.ptp(ch[known]) > 0:
                    fit = st.linregress(ch[known] / 1000.0, d[known])
                    row.update(length_slope=float(fit.slope), length_p=float(fit.pvalue))
                # self-preference: the judge scoring its own model's essays (or essays from its drafts)
                mine = np.array([judge in models[i] for i in np.flatnonzero(both)])
                row["self_essays"] = int(mine.sum())
                if mine.sum() >= 2 and (~mine).sum() >= 2:
                    row["self_offset"] = float(d[mine].mean() - d[~mine].mean())
                    test = st.ttest_ind(d[mine], d[~mine], equal_var=False)
                    row["self_p"] = float(test.pvalue) if np.isfinite(test.pvalue) else None
        rated = ~np.isnan(y) & ~np.isnan(chars)
        if rated.sum() >= min_essays and np.ptp(chars[rated]) > 0 and np.ptp(y[rated]) > 0:
            row["length_r"] = float(st.pearsonr(chars[rated], y[rated]).statistic)
        row["note"] = "; ".join(why) or None
        rows.append(row)
    return rows


def _alpha(np, matrix) -> float | None:
    if matrix.shape[0] < 2:
        return None
    pairable = (~np.isnan(matrix)).sum(axis=0) >= 2
    if pairable.sum() < 2:
        return None
    a = krippendorff_alpha(matrix[:, pairable], "interval")
    return None if a is None or a != a else a

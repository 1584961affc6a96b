"""The judge panel: every judge figure of one criterion in one call, for notebook 04 and ``gensql serve``'s
judges page, so the page, the notebook and the CLI (``report agreement / judges / scores --ci /
compare``) show the same numbers: each part is the CLI's own report function with the CLI's defaults,
and :attr:`JudgePanel.commands` says which command gives each part.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import polars as pl

from .agreement import build_agreement
from .bootstrap import build_score_ci
from .compare import build_compare
from .connection import DataRoot, connection
from .filters import make_filters
from .judged import counted_scores
from .judges import REFERENCE_HUMANS, REFERENCE_OTHERS, build_judges, human_reference
from .report import Report, ReportError

#: Drafts an essay template needs to be a side of the panel's paired comparison.
MIN_COMPARE_DRAFTS = 5


@dataclass
class JudgePanel:
    """One criterion's judge figures (see :func:`judge_panel`)."""

    template: str
    reference: str
    agreement: Report  # gensql report agreement --template T
    judges: Report  # gensql report judges --template T --reference R
    intervals: Report  # gensql report scores --ci --by evaluation-template,essay-template (this T's rows)
    adjusted: Report  # the same with --adjust judge
    compare: Report | None  # gensql report compare BEST WORST --criterion T (None: fewer than two templates)
    points: pl.DataFrame  # per essay x judge: value, reference value (scatter and Bland-Altman charts)
    commands: dict[str, str] = field(default_factory=dict)
    templates: list[str] = field(default_factory=list)  # every criterion with scores (the page's menu)


def judge_panel(
    data_root: DataRoot = None,
    template: str | None = None,
    *,
    reference: str = REFERENCE_OTHERS,
    labels=None,
    resamples: int = 1000,
    seed: int = 0,
    index_dir: str | os.PathLike | None = None,
    prompts_root: str | os.PathLike | None = None,
) -> JudgePanel:
    """Agreement, per-judge bias, intervals per essay template (raw and judge-adjusted), the best vs
    the worst essay template as a paired comparison, and the per-essay points behind the charts, for
    one evaluation template (``template``; default: the one with the most scores). Every part is
    the report function the CLI runs, with these options, so the numbers are the CLI's.
    """
    humans = human_reference(data_root, labels, index_dir) if reference == REFERENCE_HUMANS else None
    con = connection(data_root, index_dir)
    counts = con.sql(
        "SELECT evaluation_template_id, count(*) AS n FROM counted_scores() "
        "WHERE score IS NOT NULL AND essay_gen_id IS NOT NULL AND evaluation_template_id IS NOT NULL "
        "GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    templates = sorted(t for t, _ in counts)
    if not templates:
        raise ReportError("no scored evaluation in the index: nothing to judge")
    template = template or counts[0][0]
    if template not in templates:
        raise ReportError(f"no scored evaluation on criterion {template!r}; criteria: {', '.join(templates)}")
    opts = {"resamples": resamples, "seed": seed}
    agreement = build_agreement(
        con, template, **opts, reference=REFERENCE_HUMANS if humans is not None else None, labels=humans
    )
    root = prompts_root if prompts_root is not None else data_root  # where the prompts are (position effects)
    judges = build_judges(con, template, reference=reference, labels=humans, prompts_root=root, **opts)
    by = ("evaluation-template", "essay-template")
    intervals = _only(build_score_ci(con, by, resamples=2000, seed=seed), template)
    adjusted = _only(build_score_ci(con, by, resamples=2000, seed=seed, adjust="judge"), template)
    ranked = intervals.df.filter(pl.col("drafts") >= MIN_COMPARE_DRAFTS).sort("mean", descending=True)
    compare = None
    commands = {
        "agreement": f"gensql report agreement --template {template} --resamples {resamples} --seed {seed}",
        "judges": f"gensql report judges --template {template} --reference {reference} --resamples {resamples} "
        f"--seed {seed}",
        "intervals": f"gensql report scores --ci --by {','.join(by)} --seed {seed}",
        "adjusted": f"gensql report scores --ci --by {','.join(by)} --seed {seed} --adjust judge",
    }
    if ranked.height >= 2:
        a, b = ranked["essay_template_id"][0], ranked["essay_template_id"][-1]
        compare = build_compare(con, "template", a, b, criterion=template, resamples=2000, seed=seed)
        commands["compare"] = f"gensql report compare {a} {b} --criterion {template} --seed {seed}"
    if reference == REFERENCE_HUMANS:
        commands["agreement"] += " --reference humans"
    points = judge_points(con, template, reference=reference, labels=humans)
    return JudgePanel(template, reference, agreement, judges, intervals, adjusted, compare, points, commands, templates)


def _only(rep: Report, template: str) -> Report:
    rep.df = rep.df.filter(pl.col("evaluation_template_id") == template).drop("evaluation_template_id")
    return rep


def judge_points(
    data_root: DataRoot = None,
    template: str | None = None,
    *,
    reference: str = REFERENCE_OTHERS,
    labels=None,
    index_dir: str | os.PathLike | None = None,
) -> pl.DataFrame:
    """Per essay x judge on criterion ``template``: the judge's ``value`` (mean of its replicates),
    the ``reference`` value the judges report holds it against (the other judges' mean, a named
    judge's value, or the humans' mean), the essay's ``draft_gen_id`` and ``essay_chars``: the points of
    a judge-vs-judge scatter and of a Bland-Altman plot (difference against mean)."""
    con = connection(data_root, index_dir)
    filters = make_filters(con, None, None, None, None, None)
    df, _ = counted_scores(con, filters, criteria=template, extra=True)
    per = (
        df.with_columns(pl.col("evaluation_model_id").fill_null("(none)"))
        .group_by("evaluation_template_id", "essay_gen_id", "evaluation_model_id")
        .agg(
            pl.col("score").mean().alias("value"),
            pl.col("draft_gen_id").first(),
            pl.col("essay_chars").first(),
        )
        .rename({"evaluation_model_id": "judge"})
    )
    keys = ["evaluation_template_id", "essay_gen_id"]
    if reference == REFERENCE_OTHERS:
        per = per.with_columns(
            ((pl.col("value").sum().over(keys) - pl.col("value")) / (pl.len().over(keys) - 1)).alias("reference")
        ).with_columns(pl.when(pl.len().over(keys) > 1).then("reference").alias("reference"))
    elif reference == REFERENCE_HUMANS:
        humans = human_reference(data_root, labels, index_dir)
        ref = (
            humans.group_by("essay_gen_id", "criterion")
            .agg(pl.col("score").mean().alias("reference"))
            .rename({"criterion": "evaluation_template_id"})
        )
        per = per.join(ref, on=keys, how="left")
    else:
        ref = per.filter(pl.col("judge") == reference).select(*keys, pl.col("value").alias("reference"))
        per = per.join(ref, on=keys, how="left")
    return per.sort("evaluation_template_id", "judge", "essay_gen_id").select(
        "evaluation_template_id", "essay_gen_id", "draft_gen_id", "judge", "value", "reference", "essay_chars"
    )

"""Reports: tokens and cost, score tables, cohort coverage, as polars DataFrames and reproducible files.

The library functions, each taking a DuckDB connection from :func:`gensql.connect` or a data root:

* :func:`tokens_report` (:mod:`.tokens`, which documents every column): model-call volume and cost
  grouped by model, template, stage, cohort, run, day and/or month;
* :func:`scores_report` (:mod:`.scores`): one row per evaluated essay with mean/min/max/count of its
  scores per evaluation model x evaluation template (``long=True``: one row per essay x model x template);
* :func:`cohort_report` (:mod:`.cohort`): expected members vs present on disk vs ok, per stage, with
  the cohort's tokens and cost (``missing=True``: the members whose directory does not exist);
* :func:`agreement_report` (:mod:`.agreement`): judge-vs-judge and judge-vs-itself agreement per
  evaluation template (correlations, mean absolute difference, Krippendorff's alpha);
* :func:`compare_report` (:mod:`.compare`): a paired comparison of two essay templates, essay models or
  draft templates (mean difference with a bootstrap interval, wins/ties/losses, Wilcoxon p-value);
  ``scores_report(ci=True)`` (:mod:`.bootstrap`): score means with intervals resampling drafts.
* :func:`judges_report` (:mod:`.judges`): each judge against the others, a named judge or human labels
  (offset with its interval, Bland-Altman limits, slope, alpha without it, length and self bias,
  parse failures, truncation, cost per usable score).
* :func:`judge_panel` (:mod:`.panel`): all of these for one criterion at once, with the per-essay
  points of the charts (notebook 04 and ``gensql serve``'s judges page).
  These need numpy and scipy (the ``stats`` extra; :mod:`.stats`).

Each has a ``build_*`` twin returning a :class:`Report` (rows, totals row, notes, provenance), which
the CLI renders. Shared pieces: :mod:`.filters` (cohort/stage/model/date filters as bound SQL),
:mod:`.connection` (connection and snapshot id), :mod:`.pricing` (price-table rules per model and day),
:mod:`.output` (display and export).

:func:`export` writes a report to a file with its provenance (see :func:`provenance`): a sidecar
``FILE.meta.json`` for every format, and inside the file for parquet (key-value metadata
``gensql.provenance``) and xlsx (a ``provenance`` sheet). The data file's bytes depend only on the
snapshot, the price table and the options; only the sidecar carries the report time.
"""

from __future__ import annotations

from ..render import BINARY_FORMATS
from .agreement import AGREEMENT_COLUMNS, agreement_report, build_agreement
from .cohort import COHORT_COLUMNS, STAGE_ORDER, build_cohort, cohort_report
from .compare import COMPARE_BY, COMPARE_COLUMNS, build_compare, compare_report
from .connection import snapshot_id
from .judges import JUDGES_COLUMNS, JUDGES_SPEC, build_judges, judges_report
from .output import (
    PROVENANCE_KEY,
    REPORT_FORMATS,
    SIDECAR_SUFFIX,
    TOTAL_LABEL,
    export,
    provenance,
    render_report,
    render_text,
)
from .panel import JudgePanel, judge_panel, judge_points
from .report import COST_COLUMNS, Report, ReportError, ReportNote
from .scores import NONE_LABEL, SCORE_KEY_COLUMNS, SCORE_STATS, build_scores, scores_report
from .stats import MissingStatsError
from .tokens import BY_COLUMNS, TOKEN_COLUMNS, build_tokens, tokens_report

__all__ = [
    "AGREEMENT_COLUMNS",
    "COMPARE_BY",
    "COMPARE_COLUMNS",
    "MissingStatsError",
    "agreement_report",
    "build_agreement",
    "build_compare",
    "JUDGES_COLUMNS",
    "JUDGES_SPEC",
    "build_judges",
    "judges_report",
    "JudgePanel",
    "judge_panel",
    "judge_points",
    "compare_report",
    "BINARY_FORMATS",
    "BY_COLUMNS",
    "COHORT_COLUMNS",
    "COST_COLUMNS",
    "NONE_LABEL",
    "PROVENANCE_KEY",
    "REPORT_FORMATS",
    "SCORE_KEY_COLUMNS",
    "SCORE_STATS",
    "SIDECAR_SUFFIX",
    "STAGE_ORDER",
    "TOKEN_COLUMNS",
    "TOTAL_LABEL",
    "Report",
    "ReportError",
    "ReportNote",
    "build_cohort",
    "build_scores",
    "build_tokens",
    "cohort_report",
    "export",
    "provenance",
    "render_report",
    "render_text",
    "scores_report",
    "snapshot_id",
    "tokens_report",
]

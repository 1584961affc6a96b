"""What each table-printing command shows by default: the columns that answer its question.

A command's result often has twenty columns; at 80 columns a table shows five. Each command that
prints a table declares here, once, the columns its default ``table`` shows, in order: the ones the
command is for first (tokens and cost; the difference, its interval and p; the snippet), coverage
counters and provenance after them or behind ``--all-columns``. Every set fits an 80-column terminal
with its ids whole; a terminal too narrow even for that shows the same columns one per line
(``vertical``) rather than cutting an id. The machine formats (csv, json, ...) always write every column.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnSet:
    """``headline``: the columns ``table`` shows (after a report's group columns), in this order;
    ``ids``: columns holding identifiers under names :func:`gensql.render.is_id_column` does not know."""

    headline: tuple[str, ...]
    ids: frozenset[str] = frozenset()


#: Reports, by :attr:`gensql.reports.Report.name`. Their group columns (``--by``) always come first.
REPORTS: dict[str, ColumnSet] = {
    # completion tokens beside the calls that reported them: total_tokens covers fewer calls
    "tokens": ColumnSet(("completion_tokens", "calls_with_completion_tokens", "cost_total_est")),
    "cohort": ColumnSet(("expected", "on_disk", "missing", "ok", "completion_tokens", "cost_total_est")),
    # A and B are the command's own arguments: the columns answer "is A better, by how much, how sure"
    "compare": ColumnSet(
        ("mean_diff", "ci_low", "ci_high", "wins", "ties", "losses", "p_value", "pairs"), frozenset({"a", "b"})
    ),
    "agreement": ColumnSet(
        ("evaluation_template_id", "judge_a", "judge_b", "spearman", "alpha", "essays"),
        frozenset({"judge_a", "judge_b"}),
    ),
    # which judge reads high or low: its offset against the reference and the limits of agreement
    "judges": ColumnSet(
        ("evaluation_template_id", "judge", "offset", "loa_low", "loa_high"),
        frozenset({"judge"}),
    ),
}
#: ``gensql search``: where the words are, and how well they match.
SEARCH = ColumnSet(("rank", "gen_id", "bm25", "snippet"))

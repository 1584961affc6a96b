"""The counted scores the judge reports read: one row per logical evaluation with a score, as polars."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import polars as pl

from .connection import connection
from .filters import Filters, as_list, make_filters, unmatched_notes

#: Columns of :func:`counted_scores` (all of them from the ``counted_scores`` macro).
JUDGED_COLUMNS: tuple[str, ...] = (
    "gen_id",
    "essay_gen_id",
    "essay_template_id",
    "essay_model_id",
    "draft_gen_id",
    "draft_template_id",
    "combo_id",
    "evaluation_template_id",
    "evaluation_model_id",
    "replicate",
    "score",
)

#: With ``extra=True``: the draft's model (self-preference) and the essay's length in characters
#: (``gens.parsed_chars`` of the essay, else its ``raw_chars``: length bias).
EXTRA_COLUMNS: tuple[str, ...] = ("draft_model_id", "essay_chars")

# Which attempt of a logical evaluation counts is the counted_scores macro's rule (gensql/views/), the
# same as `gensql report scores`, the score_pivot named query and notebook 03.
_EXTRA_SELECT = ", s.draft_model_id, coalesce(e.parsed_chars, e.raw_chars) AS essay_chars"
_EXTRA_JOIN = "\nLEFT JOIN gens AS e ON e.stage = 'essay' AND e.gen_id = s.essay_gen_id"

_SQL = f"""
SELECT {", ".join("s." + c for c in JUDGED_COLUMNS)}{{extra}}
FROM counted_scores(for_cohort := $cohort, since_day := $since, until_day := $until) AS s{{join}}
WHERE s.score IS NOT NULL AND {{where}}
ORDER BY s.evaluation_template_id NULLS LAST, s.essay_gen_id NULLS LAST, s.evaluation_model_id NULLS LAST,
         s.replicate NULLS LAST, s.gen_id
"""


def counted_scores(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    *,
    judges: str | Iterable[str] | None = None,
    criteria: str | Iterable[str] | None = None,
    extra: bool = False,
) -> tuple[pl.DataFrame, int]:
    """``(rows, unreachable)``: the scored logical evaluations whose essay is reachable, and how many
    scored ones were left out because their essay cannot be reached through lineage.

    ``judges``: only these evaluation models; ``criteria``: only these evaluation templates;
    ``extra``: also :data:`EXTRA_COLUMNS`.
    """
    where: list[str] = ["true"]
    params: dict[str, object] = {"cohort": filters.cohort, "since": filters.since, "until": filters.until}
    for name, column, value in (
        ("judges", "evaluation_model_id", judges),
        ("criteria", "evaluation_template_id", criteria),
    ):
        values = as_list(value)
        if values:
            where.append(f"list_contains(${name}, s.{column})")
            params[name] = values
    sql = _SQL.format(
        where=" AND ".join(where), extra=_EXTRA_SELECT if extra else "", join=_EXTRA_JOIN if extra else ""
    )
    df = con.sql(sql, params=params).pl()
    df = df.with_columns(pl.col("score").cast(pl.Float64), pl.col("replicate").cast(pl.Int64))
    unreachable = df.filter(pl.col("essay_gen_id").is_null()).height
    return df.filter(pl.col("essay_gen_id").is_not_null()), unreachable


def unreachable_note(n: int) -> list[str]:
    if not n:
        return []
    return [
        f"{n:,} scored evaluation{'s' if n != 1 else ''} left out: the evaluated essay cannot be reached "
        "through lineage (see the problems view)"
    ]


@dataclass
class Judged:
    """What every judge report (agreement, compare, scores --ci) starts from."""

    con: duckdb.DuckDBPyConnection
    filters: Filters
    #: :func:`counted_scores` under the filters, judges and criteria
    scores: pl.DataFrame
    #: the report's notes so far: the filters', judge or criterion names that match nothing, and
    #: scores left out because their essay cannot be reached
    notes: list[str]
    #: the judge and criterion names that match nothing (also in ``notes``)
    unmatched: list[str]


def judged(
    data_root,
    index_dir,
    cohort=None,
    since=None,
    until=None,
    *,
    judges: str | Iterable[str] | None = None,
    criteria: str | Iterable[str] | None = None,
) -> Judged:
    """Open the index, resolve the filters and read the counted scores, with the notes every judge
    report gives first, in one order: so the three reports cannot drift apart in what they say."""
    con = connection(data_root, index_dir)
    filters = make_filters(con, cohort, None, None, since, until)
    judges, criteria = as_list(judges), as_list(criteria)
    scores, unreachable = counted_scores(con, filters, judges=judges, criteria=criteria)
    unmatched = unmatched_notes(con, model=judges, template=criteria, within_stage="evaluation")
    return Judged(con, filters, scores, [*filters.notes, *unmatched, *unreachable_note(unreachable)], unmatched)

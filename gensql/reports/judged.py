"""The counted scores the judge reports read: one row per logical evaluation with a score, as polars."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import polars as pl

from .filters import Filters, as_list

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

# Which attempt of a logical evaluation counts is the counted_scores macro's rule (gensql/views/), the
# same as `gensql report scores`, the score_pivot named query and notebook 03.
_SQL = f"""
SELECT {", ".join(JUDGED_COLUMNS)}
FROM counted_scores(for_cohort := $cohort, since_day := $since, until_day := $until) AS s
WHERE s.score IS NOT NULL AND {{where}}
ORDER BY evaluation_template_id NULLS LAST, essay_gen_id NULLS LAST, evaluation_model_id NULLS LAST,
         replicate NULLS LAST, gen_id
"""


def counted_scores(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    *,
    judges: str | Iterable[str] | None = None,
    criteria: str | Iterable[str] | None = None,
) -> tuple[pl.DataFrame, int]:
    """``(rows, unreachable)``: the scored logical evaluations whose essay is reachable, and how many
    scored ones were left out because their essay cannot be reached through lineage.

    ``judges``: only these evaluation models; ``criteria``: only these evaluation templates.
    """
    where, params = ["true"], {"cohort": filters.cohort, "since": filters.since, "until": filters.until}
    for name, column, value in (
        ("judges", "evaluation_model_id", judges),
        ("criteria", "evaluation_template_id", criteria),
    ):
        values = as_list(value)
        if values:
            where.append(f"list_contains(${name}, s.{column})")
            params[name] = values
    df = con.sql(_SQL.format(where=" AND ".join(where)), params=params).pl()
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

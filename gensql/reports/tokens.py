"""The tokens report: model-call volume and cost grouped by model, template, stage, cohort, run, day, month.

Token report columns (group columns first: ``model_id``, ``template_id``, ``stage``, ``cohort_id``,
``run_id``, ``day``, ``month``). ``generations`` counts every generation directory; every other column
covers **model calls only** (``gens.is_model_call``: copy-mode generations are not spend):

==============================  ===================================================================
generations                     generation directories in the group
model_calls                     of them, model calls
calls_with_usage                calls with any token count recorded
calls_with_prompt_tokens        calls that recorded prompt tokens (the coverage of prompt_tokens)
calls_with_completion_tokens    calls that recorded completion tokens (coverage of completion_tokens)
calls_with_total_tokens         calls that recorded total tokens (the coverage of total_tokens)
prompt_tokens                   prompt tokens as recorded (usually not recorded: a floor, not a total)
completion_tokens               completion tokens as recorded
total_tokens                    total tokens as recorded (``gens.total_tokens``)
prompt_bytes                    size of the calls' prompt.txt files
prompt_tokens_est               ESTIMATE: per call, the recorded prompt tokens when known, else
                                round(prompt_bytes / 4) (about 4 bytes per token of English)
truncated, truncated_rate       truncated calls, and truncated / model_calls
duration_s_mean/_total          over calls with a recorded duration
currency                        of the price table
cost_input_est                  ESTIMATE: prompt_tokens_est x input price, over priced calls
cost_output                     completion_tokens x output price, over priced calls
cost_total_est                  cost_input_est + cost_output
unpriced_calls                  calls no price rule matched (or without a model id): not in cost
unpriced_prompt_tokens_est      their prompt_tokens_est
unpriced_completion_tokens      their completion tokens
==============================  ===================================================================

**Unknown is not zero.** A token sum (``prompt_tokens``, ``completion_tokens``, ``total_tokens``,
``prompt_bytes``, ``prompt_tokens_est`` and the ``unpriced_*`` sums) is NULL when the group has calls
but none of them recorded that count (the pipeline's own client recorded only completion tokens and
the cap, so most models have no prompt or total tokens at all); it is 0 only when the group has no
call to count. Where some calls recorded it, the sum covers those calls only: compare
``calls_with_prompt_tokens`` / ``calls_with_completion_tokens`` / ``calls_with_total_tokens`` with
``model_calls`` to see how much of the group a sum covers.

Input cost uses the estimate because prompt tokens were usually not recorded: a recorded-only input
cost would be near zero and wrong; the ``_est`` suffix says so. Cost columns are NULL (never 0) for a
group without a priced call, and ``cost_input_est`` / ``cost_output`` are NULL when none of its priced
calls has a prompt estimate / recorded completion tokens (``cost_total_est`` is NULL when either is).
A priced call without recorded completion tokens adds no output cost (a note says how many). Each call is priced on the UTC day of its ``created_at`` (or ``price_at``), by
the rules in :mod:`gensql.prices`. Costs are summed exactly (decimal) and converted to float once, so
the same snapshot and price table always give the same numbers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Context, Decimal

import polars as pl

from ..prices import PriceTable
from .connection import DataRoot, connection, snapshot_id
from .filters import UTC_DAY, Filters, as_date, as_list, make_filters
from .pricing import PRICE_DTYPE, PRICE_JOIN, PRICES_REL, price_table, resolve_prices, unpriced_note
from .report import Report, ReportError

#: ``--by`` names and the column each one adds.
BY_COLUMNS: dict[str, str] = {
    "model": "model_id",
    "template": "template_id",
    "stage": "stage",
    "cohort": "cohort_id",
    "run": "run_id",
    "day": "day",
    "month": "month",
}
#: SQL expression of each group column over the priced calls relation ``c`` (fixed whitelist).
_BY_SQL: dict[str, str] = {
    "model_id": "c.model_id",
    "template_id": "c.template_id",
    "stage": "c.stage",
    "cohort_id": "m.cohort_id",
    "run_id": "c.run_id",
    "day": "c.day",
    "month": "strftime(c.day, '%Y-%m')",
}
TOKEN_COLUMNS: tuple[str, ...] = (
    "generations",
    "model_calls",
    "calls_with_usage",
    "calls_with_prompt_tokens",
    "calls_with_completion_tokens",
    "calls_with_total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_bytes",
    "prompt_tokens_est",
    "truncated",
    "truncated_rate",
    "duration_s_mean",
    "duration_s_total",
    "currency",
    "cost_input_est",
    "cost_output",
    "cost_total_est",
    "unpriced_calls",
    "unpriced_prompt_tokens_est",
    "unpriced_completion_tokens",
)
_INT_TOKEN_COLUMNS = (
    "generations",
    "model_calls",
    "calls_with_usage",
    "calls_with_prompt_tokens",
    "calls_with_completion_tokens",
    "calls_with_total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_bytes",
    "prompt_tokens_est",
    "truncated",
    "unpriced_calls",
    "unpriced_prompt_tokens_est",
    "unpriced_completion_tokens",
)

_MILLION = Decimal(1_000_000)
#: Enough digits that no cost sum is ever rounded (tokens up to 10^18 x prices with 9 decimals).
_EXACT = Context(prec=80)

_CALLS_SQL = (
    """
WITH g AS (
    SELECT stage, gen_id, model_id, template_id, run_id, is_model_call, truncated, prompt_tokens,
           completion_tokens, total_tokens, prompt_bytes, duration_s,
           """
    + UTC_DAY.format(ts="created_at")
    + """ AS day
    FROM gens
    WHERE {where}
)
"""
)

# One row per (group, model, price range, model call or not): plain integer sums, no FILTER clauses.
# The cells are rolled up into groups and the totals with polars, and each cell's token sums are
# priced there exactly (integers x decimal prices).
_CELLS_SQL = """
, c AS (
    SELECT g.*, pr.price_id, coalesce(g.prompt_tokens, CAST(round(g.prompt_bytes / 4.0) AS BIGINT)) AS est
    FROM g
    LEFT JOIN {prices} AS pr ON g.is_model_call AND {price_join}
)
SELECT {select}
    c.model_id AS _model,
    c.price_id AS _price,
    coalesce(c.is_model_call, false) AS _call,
    count(*) AS generations,
    count(*) FILTER (WHERE c.prompt_tokens IS NOT NULL OR c.completion_tokens IS NOT NULL
                     OR c.total_tokens IS NOT NULL) AS calls_with_usage,
    count(c.prompt_tokens) AS calls_with_prompt_tokens,
    count(c.completion_tokens) AS calls_with_completion_tokens,
    count(c.total_tokens) AS calls_with_total_tokens,
    count(c.prompt_bytes) AS _with_prompt_bytes,
    count(c.est) AS _with_prompt_tokens_est,
    CAST(sum(c.prompt_tokens) AS BIGINT) AS prompt_tokens,
    CAST(sum(c.completion_tokens) AS BIGINT) AS completion_tokens,
    CAST(sum(c.total_tokens) AS BIGINT) AS total_tokens,
    CAST(sum(c.prompt_bytes) AS BIGINT) AS prompt_bytes,
    CAST(sum(c.est) AS BIGINT) AS prompt_tokens_est,
    count(*) FILTER (WHERE c.truncated) AS truncated,
    count(c.duration_s) AS _dur_n,
    CAST(sum(CAST(round(c.duration_s * 1000000) AS BIGINT)) AS BIGINT) AS _dur_us
FROM c
{join}
GROUP BY ALL
"""

_SUMMED = (
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_bytes",
    "prompt_tokens_est",
    "truncated",
    "calls_with_usage",
    "calls_with_prompt_tokens",
    "calls_with_completion_tokens",
    "calls_with_total_tokens",
    "_with_prompt_bytes",
    "_with_prompt_tokens_est",
    "_dur_n",
    "_dur_us",
)
#: Each token sum and the count of calls it covers: the sum is NULL (unknown) when calls exist but
#: none recorded it, never 0 (the ``unpriced_*`` sums: over the unpriced calls).
_COVERED_BY = {
    "prompt_tokens": "calls_with_prompt_tokens",
    "completion_tokens": "calls_with_completion_tokens",
    "total_tokens": "calls_with_total_tokens",
    "prompt_bytes": "_with_prompt_bytes",
    "prompt_tokens_est": "_with_prompt_tokens_est",
    "unpriced_prompt_tokens_est": "_unpriced_with_prompt_tokens_est",
    "unpriced_completion_tokens": "_unpriced_with_completion_tokens",
}


def _by_columns(by: str | Iterable[str] | None) -> tuple[str, ...]:
    names: list[str] = []
    for item in as_list(by):
        for name in item.split(","):
            name = name.strip()
            if not name:
                continue
            if name not in BY_COLUMNS:
                raise ReportError(f"cannot group by {name!r}: expected one or more of {', '.join(BY_COLUMNS)}")
            if BY_COLUMNS[name] not in names:
                names.append(BY_COLUMNS[name])
    return tuple(names)


_TOKEN_DTYPES = {c: pl.Int64 for c in _INT_TOKEN_COLUMNS} | {
    "truncated_rate": pl.Float64,
    "duration_s_mean": pl.Float64,
    "duration_s_total": pl.Float64,
    "currency": pl.String,
    "cost_input_est": pl.Float64,
    "cost_output": pl.Float64,
    "cost_total_est": pl.Float64,
}


def _rollup(cells: pl.DataFrame, keys: Sequence[str], prices: list[tuple[Decimal, Decimal]]) -> pl.DataFrame:
    """Sum the cells per group (exact: integers and decimals); cost sums are per million tokens."""
    price_frame = pl.DataFrame(
        {
            "_price": pl.Series(range(len(prices)), dtype=cells.schema["_price"]),
            "_in": pl.Series([p[0] for p in prices], dtype=PRICE_DTYPE),
            "_out": pl.Series([p[1] for p in prices], dtype=PRICE_DTYPE),
        }
    )
    cells = cells.join(price_frame, on="_price", how="left")
    call = pl.col("_call")
    priced = call & pl.col("_price").is_not_null()
    unpriced = call & pl.col("_price").is_null()

    def when(condition, column: str | pl.Expr) -> pl.Expr:
        expr = pl.col(column) if isinstance(column, str) else column
        return pl.when(condition).then(expr.fill_null(0)).otherwise(0).sum()

    aggs = [
        pl.col("generations").sum(),
        when(call, "generations").alias("model_calls"),
        *(when(call, c).alias(c) for c in _SUMMED),
        when(priced, "generations").alias("_priced"),
        when(priced, pl.col("generations") - pl.col("calls_with_completion_tokens")).alias("_priced_no_completion"),
        when(priced, "_with_prompt_tokens_est").alias("_priced_with_prompt_tokens_est"),
        when(priced, "calls_with_completion_tokens").alias("_priced_with_completion_tokens"),
        when(unpriced, "generations").alias("unpriced_calls"),
        when(unpriced, "prompt_tokens_est").alias("unpriced_prompt_tokens_est"),
        when(unpriced, "completion_tokens").alias("unpriced_completion_tokens"),
        when(unpriced, "_with_prompt_tokens_est").alias("_unpriced_with_prompt_tokens_est"),
        when(unpriced, "calls_with_completion_tokens").alias("_unpriced_with_completion_tokens"),
        pl.when(priced).then(pl.col("prompt_tokens_est").fill_null(0) * pl.col("_in")).sum().alias("_cin"),
        pl.when(priced).then(pl.col("completion_tokens").fill_null(0) * pl.col("_out")).sum().alias("_cout"),
    ]
    if keys:
        return cells.group_by(list(keys)).agg(aggs).sort(list(keys), nulls_last=True)
    return cells.select(aggs)


def _finish(summed: pl.DataFrame, keys: Sequence[str], currency: str | None) -> pl.DataFrame:
    """Report columns from the exact sums: integers as they are; rates, means and costs as floats,
    each converted once from its exact value (Python's Decimal -> float is correctly rounded)."""

    def per_million(value) -> float:
        return float(_EXACT.divide(Decimal(value), _MILLION))

    rows = []
    for r in summed.iter_rows(named=True):
        calls, priced, dur_n = r["model_calls"], r["_priced"], r["_dur_n"]
        cin, cout = r["_cin"] or Decimal(0), r["_cout"] or Decimal(0)
        row = {**{k: r[k] for k in keys}, **{c: r[c] for c in _INT_TOKEN_COLUMNS}}
        over = {"unpriced_prompt_tokens_est": r["unpriced_calls"], "unpriced_completion_tokens": r["unpriced_calls"]}
        for column, covered in _COVERED_BY.items():
            if r[covered] == 0 and over.get(column, calls):  # calls to count, none recorded it: unknown
                row[column] = None
        known_in = priced and r["_priced_with_prompt_tokens_est"]
        known_out = priced and r["_priced_with_completion_tokens"]
        rows.append(
            {
                **row,
                "truncated_rate": r["truncated"] / calls if calls else None,
                "duration_s_mean": float(_EXACT.divide(Decimal(r["_dur_us"]), Decimal(dur_n) * _MILLION))
                if dur_n
                else None,
                "duration_s_total": per_million(r["_dur_us"]) if dur_n else None,
                "currency": currency,
                "cost_input_est": per_million(cin) if known_in else None,
                "cost_output": per_million(cout) if known_out else None,
                "cost_total_est": per_million(_EXACT.add(cin, cout)) if known_in and known_out else None,
            }
        )
    schema = {k: summed.schema[k] for k in keys} | _TOKEN_DTYPES
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def tokens_frames(
    con,
    group: tuple[str, ...],
    filters: Filters,
    table: PriceTable,
    price_at: date | None,
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """(grouped rows, totals row, notes) for the token report."""
    where, params = filters.sql()
    calls_sql = _CALLS_SQL.format(where=where)
    ranges, prices = resolve_prices(con, table, price_at)
    select = "".join(f"{_BY_SQL[c]} AS {c}, " for c in group)
    join = ""
    if "cohort_id" in group:
        cohort_only = "WHERE cohort_id = $cohort" if filters.cohort is not None else ""
        join = (
            f"LEFT JOIN (SELECT DISTINCT cohort_id, stage, gen_id FROM _membership {cohort_only}) AS m "
            "ON m.stage = c.stage AND m.gen_id = c.gen_id"
        )
    con.register(PRICES_REL, ranges)
    try:
        cells_sql = calls_sql + _CELLS_SQL.format(prices=PRICES_REL, price_join=PRICE_JOIN, select=select, join=join)
        cells = pl.DataFrame(con.sql(cells_sql, params=params or None).to_arrow_table())
        if join:
            # many-to-many: a generation in two cohorts is in two cells, so the totals are a query of their own
            total_sql = calls_sql + _CELLS_SQL.format(prices=PRICES_REL, price_join=PRICE_JOIN, select="", join="")
            total_cells = pl.DataFrame(con.sql(total_sql, params=params or None).to_arrow_table())
        else:
            total_cells = cells
    finally:
        con.unregister(PRICES_REL)

    currency = table.currency
    df = _finish(_rollup(cells, group, prices), group, currency).select(*group, *TOKEN_COLUMNS)
    summed_total = _rollup(total_cells, (), prices)
    totals = _finish(summed_total, (), currency)
    totals = pl.concat(
        [pl.DataFrame({c: pl.Series([None], dtype=df.schema[c]) for c in group}), totals], how="horizontal"
    )
    notes = []
    unpriced = (
        total_cells.filter(pl.col("_call") & pl.col("_price").is_null())
        .group_by("_model")
        .agg(
            pl.col("generations").sum(),
            pl.col("completion_tokens").fill_null(0).sum(),
            pl.col("calls_with_completion_tokens").sum(),
        )
    )
    if unpriced.height:
        notes.append(unpriced_note({m: [k, c if n else None] for m, k, c, n in unpriced.iter_rows()}, table))
    k = summed_total["_priced_no_completion"][0]
    if k:
        notes.append(
            f"{k:,} priced model call{'s' if k != 1 else ''} recorded no completion tokens: their output "
            "cost is not counted (see calls_with_usage)"
        )
    return df, totals, notes


def tokens_report(
    data_root: DataRoot = None,
    by: str | Iterable[str] | None = ("model",),
    cohort: str | None = None,
    stage: str | Iterable[str] | None = None,
    model: str | Iterable[str] | None = None,
    since: date | str | None = None,
    until: date | str | None = None,
    prices: PriceTable | str | os.PathLike | None = None,
    price_at: date | str | None = None,
    *,
    index_dir: str | os.PathLike | None = None,
) -> pl.DataFrame:
    """Model-call volume and cost grouped by ``by`` (see the module docstring for the columns).

    ``by``: one or more of model, template, stage, cohort (through membership: a generation in two
    cohorts counts in both), run, day, month; ``()`` for one overall row. Filters: ``cohort``
    (members only), ``stage``, ``model`` (one id or several), ``since``/``until`` (UTC days of
    ``created_at``, both inclusive). ``prices``: a :class:`~gensql.prices.PriceTable` or a path
    (default: :func:`gensql.prices.default_prices_path`); ``price_at``: price every call at this day.
    """
    return build_tokens(data_root, by, cohort, stage, model, since, until, prices, price_at, index_dir=index_dir).df


def build_tokens(
    data_root: DataRoot = None,
    by=("model",),
    cohort=None,
    stage=None,
    model=None,
    since=None,
    until=None,
    prices=None,
    price_at=None,
    *,
    index_dir=None,
) -> Report:
    """:func:`tokens_report` with its totals row, notes and provenance (what the CLI uses)."""
    con = connection(data_root, index_dir)
    group = _by_columns(by)
    filters = make_filters(con, cohort, stage, model, since, until)
    table = price_table(prices)
    at = as_date(price_at, "price_at")
    df, totals, notes = tokens_frames(con, group, filters, table, at)
    by_names = {column: name for name, column in BY_COLUMNS.items()}
    params = {
        "by": [by_names[c] for c in group],
        "filters": filters.describe(),
        "price_at": at.isoformat() if at else None,
    }
    return Report("tokens", df, group, totals, [*filters.notes, *notes], params, snapshot_id(con), table)

"""The cohort report: expected members vs on disk vs ok per stage, with the cohort's tokens and cost."""

from __future__ import annotations

import os
from datetime import date

import polars as pl

from ..prices import PriceTable
from .connection import DataRoot, connection, snapshot_id
from .filters import as_date, make_filters
from .pricing import price_table
from .report import Report, ReportError
from .tokens import tokens_frames

STAGE_ORDER: tuple[str, ...] = ("draft", "essay", "evaluation")

COHORT_COLUMNS: tuple[str, ...] = (
    "stage",
    "expected",
    "on_disk",
    "missing",
    "ok",
    "not_ok",
    "model_calls",
    "calls_with_completion_tokens",
    "completion_tokens",
    "prompt_tokens_est",
    "currency",
    "cost_input_est",
    "cost_output",
    "cost_total_est",
    "unpriced_calls",
)


def cohort_report(
    data_root: DataRoot = None,
    cohort_id: str | None = None,
    missing: bool = False,
    prices: PriceTable | str | os.PathLike | None = None,
    price_at: date | str | None = None,
    *,
    index_dir: str | os.PathLike | None = None,
) -> pl.DataFrame:
    """Coverage of one cohort per stage, with its tokens and cost; ``missing=True``: the missing members.

    Per stage: ``expected`` (distinct members listed in membership.csv), ``on_disk`` (their directory
    exists), ``missing`` (it does not: expected but never generated), ``ok`` (status ok), ``not_ok``
    (on disk but not ok), then ``model_calls``, ``calls_with_completion_tokens``, ``completion_tokens``,
    ``prompt_tokens_est``, cost and ``unpriced_calls`` over the members on disk (as in
    :func:`tokens_report`: a token sum is NULL when the stage has calls and none recorded it). ``missing=True``
    returns ``cohort_id, stage, gen_id, line`` of each member whose directory does not exist.
    """
    return build_cohort(data_root, cohort_id, missing, prices, price_at, index_dir=index_dir).df


def _stage_key(stage: str | None) -> tuple:
    return (STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER), stage or "")


def build_cohort(
    data_root: DataRoot = None, cohort_id=None, missing=False, prices=None, price_at=None, *, index_dir=None
) -> Report:
    if not cohort_id:
        raise ReportError("give a cohort id")
    con = connection(data_root, index_dir)
    filters = make_filters(con, cohort_id, None, None, None, None)
    table = price_table(prices)
    at = as_date(price_at, "price_at")
    params_out = {"cohort": cohort_id, "missing": bool(missing), "price_at": at.isoformat() if at else None}
    members = con.sql(
        """
        WITH m AS (
            SELECT stage, gen_id, bool_or(exists_on_disk) AS on_disk, any_value(status) AS status, min(line) AS line
            FROM membership WHERE cohort_id = $cohort GROUP BY stage, gen_id
        )
        SELECT stage, count(*) AS expected, count(*) FILTER (WHERE on_disk) AS on_disk,
               count(*) FILTER (WHERE NOT on_disk) AS missing, count(*) FILTER (WHERE status = 'ok') AS ok,
               count(*) FILTER (WHERE on_disk AND status IS DISTINCT FROM 'ok') AS not_ok
        FROM m GROUP BY stage
        """,
        params={"cohort": cohort_id},
    ).pl()
    n_missing = int(members["missing"].sum()) if members.height else 0
    n_expected = int(members["expected"].sum()) if members.height else 0
    notes = []
    if missing:
        df = con.sql(
            """
            SELECT cohort_id, stage, gen_id, min(line) AS line
            FROM membership WHERE cohort_id = $cohort AND NOT exists_on_disk
            GROUP BY cohort_id, stage, gen_id
            """,
            params={"cohort": cohort_id},
        ).pl()
        df = df.with_columns(pl.col("line").cast(pl.Int64))
        order = sorted(range(df.height), key=lambda i: (_stage_key(df["stage"][i]), df["line"][i], df["gen_id"][i]))
        df = df[order] if df.height else df
        notes.append(f"{n_missing:,} of {n_expected:,} members of {cohort_id} are missing on disk")
        return Report("cohort-missing", df, (), None, notes, params_out, snapshot_id(con), None)

    tokens, _totals, notes = tokens_frames(con, ("stage",), filters, table, at)
    joined = members.join(tokens, on="stage", how="left")
    order = sorted(range(joined.height), key=lambda i: _stage_key(joined["stage"][i]))
    joined = joined[order] if joined.height else joined
    # A stage with no generation on disk has no tokens row: nothing to count, so 0. A matched stage's
    # NULL token sum means its calls recorded none (unknown, see tokens.py): it stays NULL.
    no_row = pl.col("model_calls").is_null()
    counts = (
        "expected",
        "on_disk",
        "missing",
        "ok",
        "not_ok",
        "model_calls",
        "calls_with_completion_tokens",
        "unpriced_calls",
    )
    sums = ("completion_tokens", "prompt_tokens_est")
    joined = joined.with_columns(
        *(pl.col(c).fill_null(0).cast(pl.Int64) for c in counts),
        *(pl.when(no_row).then(0).otherwise(pl.col(c)).cast(pl.Int64).alias(c) for c in sums),
        pl.lit(table.currency, dtype=pl.String).alias("currency"),
    )
    df = joined.select(COHORT_COLUMNS)
    totals = _cohort_totals(df, _totals)
    if n_missing:
        notes.insert(
            0,
            f"{n_missing:,} of {n_expected:,} members of {cohort_id} are missing on disk "
            f"(list them with `gensql report cohort {cohort_id} --missing`)",
        )
    return Report("cohort", df, ("stage",), totals, notes, params_out, snapshot_id(con), table)


def _cohort_totals(df: pl.DataFrame, token_totals: pl.DataFrame) -> pl.DataFrame:
    row: dict[str, pl.Series] = {}
    for c in COHORT_COLUMNS:
        if c == "stage":
            row[c] = pl.Series([None], dtype=pl.String)
        elif c in ("expected", "on_disk", "missing", "ok", "not_ok"):
            row[c] = pl.Series([int(df[c].sum()) if df.height else 0], dtype=pl.Int64)
        else:
            row[c] = pl.Series([token_totals[c][0]], dtype=df.schema[c])
    return pl.DataFrame(row)


def cohort_counts(
    data_root: DataRoot = None, *, index_dir: str | os.PathLike | None = None
) -> dict[str, tuple[int, int]]:
    """``{cohort_id: (members, on_disk)}`` from the index's ``membership`` view: member lines, and those
    whose generation the index holds.

    ``gensql cohort list`` reads this rather than parsing every ``membership.csv`` again: at a
    1,000,000-line membership the files took 55 s and 607 MB, the index a fraction of a second. Like
    every reader it answers for the current snapshot and warns when the store changed after it.
    """
    con = connection(data_root, index_dir)
    try:
        rows = con.sql(
            "SELECT cohort_id, count(*), count(*) FILTER (WHERE exists_on_disk) FROM membership GROUP BY cohort_id"
        ).fetchall()
    finally:
        if con is not data_root:
            con.close()
    return {cohort_id: (int(members), int(on_disk)) for cohort_id, members, on_disk in rows}

"""Price resolution for reports: per model, the day ranges over which one price-table rule applies."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pyarrow as pa

from ..prices import PRICE_SCALE, PriceTable, load_prices


def price_table(prices) -> PriceTable:
    if isinstance(prices, PriceTable):
        return prices
    return load_prices(prices)


PRICES_REL = "_gensql_report_prices"
_PRICES_SCHEMA = pa.schema(
    [
        ("model_id", pa.string()),
        ("lo", pa.date32()),  # the price applies to days lo <= day < hi
        ("hi", pa.date32()),
        ("price_id", pa.int32()),  # index into the list of (input, output) prices per million tokens
    ]
)
#: Day used to price a call without created_at: the latest price (the last range ends at date.max).
_NO_DAY = "DATE '9999-12-30'"
PRICE_JOIN = (
    "pr.model_id = g.model_id AND coalesce(g.day, " + _NO_DAY + ") >= pr.lo "
    "AND coalesce(g.day, " + _NO_DAY + ") < pr.hi"
)
PRICE_DTYPE = pl.Decimal(38, PRICE_SCALE)


def resolve_prices(con, table: PriceTable, price_at: date | None) -> tuple[pa.Table, list[tuple[Decimal, Decimal]]]:
    """Per model id in the index: the day ranges over which one price-table rule applies.

    The rule in effect for a model changes only on the ``effective_from`` days of the rules that match
    it, so each model needs one row per range between those days (one row with ``price_at``). Ranges
    without a rule are left out: calls there are unpriced. Only the distinct model ids are read.
    Returns the ranges and the ``(input, output)`` prices per million tokens their ``price_id`` points to.
    """
    models = [r[0] for r in con.sql("SELECT DISTINCT model_id FROM gens WHERE model_id IS NOT NULL").fetchall()]
    rows: dict[str, list] = {name: [] for name in _PRICES_SCHEMA.names}
    prices: list[tuple[Decimal, Decimal]] = []
    ids: dict[int, int] = {}  # rule line -> price_id
    for model_id in sorted(models):
        if price_at is not None:
            ranges = [(date.min, date.max, table.lookup(model_id, price_at))]
        else:
            starts = sorted({r.effective_from for r in table.rules if r.effective_from and r.matches(model_id)})
            bounds = [date.min, *starts, date.max]
            ranges = [(lo, hi, table.lookup(model_id, lo)) for lo, hi in zip(bounds, bounds[1:])]
        for lo, hi, rule in ranges:
            if rule is None:
                continue
            if rule.line not in ids:
                ids[rule.line] = len(prices)
                prices.append((rule.input_per_mtok, rule.output_per_mtok))
            rows["model_id"].append(model_id)
            rows["lo"].append(lo)
            rows["hi"].append(hi)
            rows["price_id"].append(ids[rule.line])
    return pa.table(rows, schema=_PRICES_SCHEMA), prices


#: Unpriced models named in the note (most calls first); the rest are counted.
_NOTE_MODELS = 8


def unpriced_note(unpriced: dict[str | None, list], table: PriceTable) -> str:
    """The note naming unpriced models: ``unpriced`` maps a model id to [calls, completion tokens or
    None when none of its calls recorded them]."""
    rows = sorted(unpriced.items(), key=lambda item: (-item[1][0], item[0] is None, item[0] or ""))
    calls = sum(k for k, _ in unpriced.values())

    def completion(c: int | None) -> str:
        return "completion tokens not recorded" if c is None else f"{c:,} completion tokens"

    parts = [
        f"{m if m is not None else '(no model id)'} ({k:,} call{'s' if k != 1 else ''}, {completion(c)})"
        for m, (k, c) in rows[:_NOTE_MODELS]
    ]
    if len(rows) > _NOTE_MODELS:
        rest = rows[_NOTE_MODELS:]
        parts.append(f"and {len(rest):,} more models ({sum(k for _, (k, _) in rest):,} calls)")
    return (
        f"{calls:,} model call{'s' if calls != 1 else ''} could not be priced and are not in the cost columns "
        f"(see unpriced_*): {', '.join(parts)}; add rules to the price table {table.source}"
    )

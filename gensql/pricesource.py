"""Price tables from a maintained source, and a check of a price table against the store.

``gensql prices suggest`` proposes dated price-table rows for the models the store called, from the
maintained ``genai-prices`` package (an optional extra: ``pip install 'gensql[prices]'``): its model
matching (a store id such as ``gpt-4o`` or an OpenRouter id such as ``deepseek/deepseek-r1``, with
``--provider`` when the provider cannot be guessed from the id) and its price history (a price with a
start date becomes a row with that ``effective_from``). The user's dated CSV stays the source of truth:
the suggestion is a file to review and merge, never read by reports on its own. Models the package
cannot match are listed (on stderr and as comment lines), so a missing price is never silently zero.

``gensql prices check`` lists the models with model calls that no rule prices (on some or all of their
days) and the rules that match no model of the store.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from .errors import GensqlError
from .prices import PriceTable


class PriceSourceError(GensqlError):
    """The maintained price source is not installed, or was asked for an unknown provider."""

    exit_code = 2


#: SQL: every model id with model calls, its calls and the UTC days they were made on.
_MODEL_DAYS_SQL = """
SELECT model_id, day, count(*) AS calls
FROM token_usage
WHERE model_id IS NOT NULL
GROUP BY ALL
ORDER BY model_id, day
"""

CSV_COLUMNS = ("model", "match", "input_per_mtok", "output_per_mtok", "currency", "effective_from", "note")


@dataclass
class PriceSuggestion:
    """Suggested price-table rows (dicts with :data:`CSV_COLUMNS`) and the models left unmatched."""

    rows: list[dict]
    unmatched: list[str]
    notes: list[str] = field(default_factory=list)
    source: str = ""

    def to_csv(self) -> str:
        """The rows as a price table (gensql's CSV format), with comment lines saying where they came from."""
        out = io.StringIO()
        out.write(
            f"# Suggested by `gensql prices suggest` from {self.source} on {datetime.now(UTC).date().isoformat()}.\n"
        )
        out.write("# Check every line against your providers (hosts differ) before merging it into your price table.\n")
        if self.unmatched:
            out.write(f"# No price found for: {', '.join(self.unmatched)} (add their lines by hand).\n")
        writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return out.getvalue()


def _genai_prices():
    try:
        import genai_prices
        from genai_prices import data_snapshot
    except ImportError:
        raise PriceSourceError(
            "gensql prices suggest needs the maintained price data of the genai-prices package: "
            "pip install 'gensql[prices]' (or pip install genai-prices)"
        ) from None
    return genai_prices, data_snapshot


def _money(value) -> tuple[Decimal | None, str]:
    """(price per million tokens, remark) of a genai-prices price: a Decimal, tiered prices or None."""
    if value is None:
        return None, ""
    if isinstance(value, Decimal):
        return value, ""
    base = getattr(value, "base", None)
    tiers = getattr(value, "tiers", None) or []
    starts = ", ".join(f"{t.start:,}" for t in tiers)
    return base, f"higher price above {starts} tokens per call not represented" if tiers else ""


def _plain(value: Decimal) -> str:
    """``value`` in plain notation with at least two decimals (``2.50``, ``0.135``)."""
    whole, _, frac = format(value.normalize(), "f").partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def model_days(con) -> dict[str, list[tuple[date, int]]]:
    """Every model id with model calls: its (UTC day, calls), from the ``token_usage`` view."""
    found: dict[str, list[tuple[date, int]]] = {}
    for model, day, calls in con.sql(_MODEL_DAYS_SQL).fetchall():
        found.setdefault(model, []).append((day, calls))
    return found


def suggest_prices(con, provider: str | None = None) -> PriceSuggestion:
    """Suggested price-table rows for every model with model calls in the index (see the module docstring)."""
    genai_prices, data_snapshot = _genai_prices()
    snapshot = data_snapshot.get_snapshot()
    if provider is not None and data_snapshot.find_provider_by_id(snapshot.providers, provider) is None:
        import difflib

        known = sorted(p.id for p in snapshot.providers)
        near = difflib.get_close_matches(provider, known, n=3)
        raise PriceSourceError(
            f"genai-prices knows no provider {provider!r}"
            + (f" (closest: {', '.join(near)})" if near else f"; providers: {', '.join(known)}")
        )
    rows, unmatched, notes = [], [], []
    for model in model_days(con):
        try:
            found_provider, info = snapshot.find_provider_model(model, None, provider, None)
        except LookupError:
            unmatched.append(model)
            continue
        periods = info.prices if isinstance(info.prices, list) else [None]
        for period in periods:
            constraint = getattr(period, "constraint", None)
            prices = info.prices if period is None else period.prices
            starts = getattr(constraint, "start_date", None)
            if constraint is not None and starts is None:  # a time-of-day price: not expressible per day
                notes.append(
                    f"{model}: {found_provider.id}/{info.id} has time-of-day prices "
                    f"({getattr(constraint, 'start_time', '?')}-{getattr(constraint, 'end_time', '?')} UTC) "
                    "the table cannot express: the suggested line is the price outside those hours"
                )
                continue
            input_price, input_remark = _money(getattr(prices, "input_mtok", None))
            output_price, output_remark = _money(getattr(prices, "output_mtok", None))
            if input_price is None or output_price is None:
                notes.append(f"{model}: {found_provider.id}/{info.id} has no per-token input and output price")
                continue
            remark = "; ".join(dict.fromkeys(r for r in (input_remark, output_remark) if r))
            rows.append(
                {
                    "model": model,
                    "match": "exact",
                    "input_per_mtok": _plain(input_price),
                    "output_per_mtok": _plain(output_price),
                    "currency": "USD",
                    "effective_from": starts.isoformat() if starts else "",
                    "note": f"genai-prices {genai_prices.__version__}: {found_provider.id}/{info.id}"
                    + (f" ({remark})" if remark else ""),
                }
            )
    if unmatched:
        notes.insert(
            0,
            f"genai-prices has no price for {len(unmatched)} model id(s): {', '.join(unmatched)}"
            + ("" if provider else " (try --provider, e.g. openrouter)"),
        )
    return PriceSuggestion(
        rows,
        unmatched,
        notes,
        f"genai-prices {genai_prices.__version__}" + (f" (provider {provider})" if provider else ""),
    )


def check_prices(con, table: PriceTable) -> pa.Table:
    """One row per problem of ``table`` against the store: ``unpriced_model`` (a model with calls on
    days no rule prices: how many calls, first and last such day) and ``unused_rule`` (a rule that
    matches no model id with model calls). Empty when every call is priced and every rule is used."""
    columns: tuple[list[Any], ...] = ([], [], [], [], [], [])
    kinds, subjects, calls, firsts, lasts, details = columns

    def add(kind, subject, n, first, last, detail):
        for column, value in zip(columns, (kind, subject, n, first, last, detail)):
            column.append(value)

    days = model_days(con)
    for model, per_day in days.items():
        unpriced = [(d, n) for d, n in per_day if table.lookup(model, d) is None]
        if unpriced:
            total = sum(n for _, n in per_day)
            what = (
                "no rule matches this id"
                if len(unpriced) == len(per_day) and not any(r.matches(model) for r in table.rules)
                else "no rule in effect on these days"
            )
            add(
                "unpriced_model",
                model,
                sum(n for _, n in unpriced),
                unpriced[0][0],
                unpriced[-1][0],
                f"{sum(n for _, n in unpriced):,} of {total:,} calls unpriced: {what}",
            )
    for rule in table.rules:
        if not any(rule.matches(m) for m in days):
            since = f", effective from {rule.effective_from}" if rule.effective_from else ""
            add(
                "unused_rule",
                rule.model,
                None,
                None,
                None,
                f"line {rule.line} ({rule.match}{since}) matches no model id with model calls in the index",
            )
    return pa.table(
        {
            "kind": pa.array(kinds, pa.string()),
            "model": pa.array(subjects, pa.string()),
            "calls": pa.array(calls, pa.int64()),
            "first_day": pa.array(firsts, pa.date32()),
            "last_day": pa.array(lasts, pa.date32()),
            "detail": pa.array(details, pa.string()),
        }
    )


def suggest_from_store(
    data_root: str | os.PathLike | None = None, index_dir=None, provider: str | None = None
) -> PriceSuggestion:
    from .catalog import connect

    return suggest_prices(connect(data_root, index_dir), provider)


def check_store_prices(data_root=None, index_dir=None, prices=None) -> pa.Table:
    from .catalog import connect
    from .prices import load_prices

    table = prices if isinstance(prices, PriceTable) else load_prices(prices)
    return check_prices(connect(data_root, index_dir), table)

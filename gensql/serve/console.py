"""The SQL console page: SQL and ``$parameters`` from the URL, a few hundred rows shown, every row downloadable.

Parameters travel in the URL as ``p.<name>=<value>``: a value that reads as JSON (a number, ``null``,
``true``, a ``[list]``, a ``"quoted string"``) is bound as that value, anything else as its text. That is
how "Open in the SQL console" carries a page's bound parameters over (:func:`console_url`), and they
are bound by DuckDB, never formatted into the SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

import orjson

from ..errors import QueryError
from ..render import render_bytes
from .pages import Page, rows
from .workbench import CONSOLE_BYTE_CAP, CONSOLE_ROW_CAP, CONSOLE_SHOW_ROWS, Workbench

#: URL query parameters named ``p.<name>`` bind ``$name``.
PARAM_PREFIX = "p."
#: Download formats of a console result: media types.
DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
}
#: Characters of one cell shown on the page (downloads have every character).
CELL_SHOW_CHARS = 1_000
#: Characters of all shown cells together: past it, fewer rows are shown.
PAGE_SHOW_CHARS = 2_000_000
EXAMPLE_SQL = (
    "SELECT model_id, count(*) AS generations, sum(completion_tokens) AS completion_tokens\n"
    "FROM gens\nGROUP BY 1\nORDER BY 2 DESC"
)


def url_params(items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The bound parameters of a console URL: every ``p.<name>=<value>`` pair (see the module doc)."""
    out: dict[str, Any] = {}
    for key, raw in items:
        if key.startswith(PARAM_PREFIX) and len(key) > len(PARAM_PREFIX):
            out[key[len(PARAM_PREFIX) :]] = decode_value(raw)
    return out


def decode_value(raw: str) -> Any:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw
    return value if isinstance(value, (str, int, float, bool, list)) or value is None else raw


def encode_value(value: Any) -> str:
    """The URL form of a parameter value: its text when that reads back as the same string, else JSON."""
    if isinstance(value, str) and decode_value(value) == value:
        return value
    return orjson.dumps(value, default=str).decode()


def console_url(sql: str, params: dict | None = None) -> str:
    """The console URL that runs ``sql`` with ``params`` bound ("Open in the SQL console" links)."""
    items = [("q", sql)] + [(PARAM_PREFIX + k, encode_value(v)) for k, v in (params or {}).items()]
    return "/sql?" + urlencode(items)


def _shown(table_rows: list[dict]) -> tuple[list[dict], bool]:
    """The rows to render: long cells cut to CELL_SHOW_CHARS, and no more rows than PAGE_SHOW_CHARS allows."""
    out, total, clipped = [], 0, False
    for row in table_rows:
        shown = {}
        for key, value in row.items():
            if isinstance(value, str) and len(value) > CELL_SHOW_CHARS:
                value, clipped = value[:CELL_SHOW_CHARS] + "…", True
            elif isinstance(value, bytes) and len(value) > CELL_SHOW_CHARS:
                value, clipped = value[:CELL_SHOW_CHARS] + b"...", True
            shown[key] = value
            total += len(value) if isinstance(value, (str, bytes)) else 8
        out.append(shown)
        if total > PAGE_SHOW_CHARS:
            break
    return out, clipped


def sql_page(wb: Workbench, q: str | None, params: dict[str, Any]) -> Page:
    """The console: the schema, the SQL and its parameters, and the first rows of its result."""
    schema: dict[str, list[tuple[str, str]]] = {}
    for r in rows(wb.schema()):
        schema.setdefault(r["view"], []).append((r["column"], r["type"]))
    ctx: dict[str, Any] = {
        "q": q if q is not None else EXAMPLE_SQL,
        "schema": schema,
        "params": {k: encode_value(v) for k, v in params.items()},
        "error": None,
        "ran": False,
        "cap": CONSOLE_ROW_CAP,
        "byte_cap_mb": CONSOLE_BYTE_CAP // 2**20,
        "show": CONSOLE_SHOW_ROWS,
    }
    if q:
        try:
            result = wb.console(q, params or None)
        except QueryError as exc:
            ctx["error"] = str(exc)
        else:
            table = result.table
            shown, clipped = _shown(table.slice(0, CONSOLE_SHOW_ROWS).to_pylist())
            ctx.update(
                ran=True,
                rows=shown,
                columns=table.column_names,
                total=table.num_rows,
                cut=result.cut,
                clipped=clipped,
                elapsed=result.elapsed,
                console_downloads={}
                if result.cut
                else {fmt: console_url(q, params) + "&" + urlencode({"format": fmt}) for fmt in DOWNLOADS},
            )
    return Page("sql.html", "SQL", None, None, None, ctx, status_code=400 if ctx["error"] else 200)


def download(wb: Workbench, q: str, params: dict[str, Any], fmt: str) -> tuple[bytes, str]:
    """Every row of ``q``'s result in ``fmt`` (csv, json, parquet) and its media type; a result over the
    console's caps is refused (a :class:`QueryError` saying so), never cut silently."""
    if fmt not in DOWNLOADS:
        raise QueryError(f"unknown format {fmt!r}: expected {', '.join(DOWNLOADS)}")
    result = wb.console(q, params or None)
    if result.cut:
        raise QueryError(
            f"the result is over the console's download cap ({CONSOLE_ROW_CAP:,} rows or "
            f"{CONSOLE_BYTE_CAP // 2**20} MB): narrow the query, or run it with `gensql sql ... -o FILE`"
        )
    return render_bytes(result.table, fmt), DOWNLOADS[fmt]


__all__ = [
    "DOWNLOADS",
    "EXAMPLE_SQL",
    "console_url",
    "decode_value",
    "download",
    "encode_value",
    "sql_page",
    "url_params",
]

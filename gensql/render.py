"""Rendering result tables: one renderer for every command, for reading and as exact machine formats.

Reading formats (``table``, ``vertical``, ``markdown``) format numbers (thousands separators, trimmed
floats) and show NULL as ``NULL``, distinct from the empty string (an empty cell). ``table`` draws a
box no wider than the terminal (``$COLUMNS``, else the terminal's width, else 120): id columns
(``*_id``, ``id``, ``logical_key``) and numbers are never cut, long headers wrap onto up to three
lines, other long cells are cut with ``…``; when the columns do not fit even so, trailing columns are
dropped and the footer names them (``-x`` shows every column). ``vertical`` prints one ``column | value`` line per field, one block per row, as
psql's expanded mode does, nothing cut. ``table`` and ``vertical`` show at most :data:`TABLE_MAX_ROWS`
rows and the footer says so; ``markdown`` shows every row.

Machine formats (``csv``, ``json``, ``jsonl``, ``parquet``, ``xlsx``) are exact: every row and
column, NULL distinct from the empty string (an empty CSV field is NULL, ``""`` is an empty string),
floats in shortest round-trip form, timestamps in ISO 8601. JSON columns (DuckDB's JSON type, such
as ``gens.meta`` and ``membership.extras``) are nested values in json/jsonl and JSON text in csv and
xlsx; other nested values (lists, structs, maps) are JSON text in csv and xlsx. In json/jsonl,
integer decimals (DuckDB's HUGEINT sums) are JSON integers and other decimals JSON numbers.

CSV is meant to be opened in a spreadsheet, and model outputs are untrusted text: a text cell (or
header) that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` so
a spreadsheet shows it instead of running it as a formula (OWASP's CSV injection rule,
:func:`neutralise_formulas`); numbers are never touched. ``--raw-csv`` (:func:`raw_csv`) keeps the
exact text; JSON, JSONL and Parquet are always exact.

The renderer is hand-written rather than DuckDB's box renderer (it prints a relation, not an Arrow
table, and cuts any column, ids included) or polars' (no NULL/empty distinction in cut strings, no
protected columns): neither keeps ids whole.
"""

from __future__ import annotations

import io
import math
import os
import shutil
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from .columnsets import ColumnSet
from .errors import OutputError
from .formats import BINARY_FORMATS as BINARY_FORMATS  # re-exported: gensql.render names every format fact
from .formats import EXTENSION_FORMATS, FORMATS, READING_FORMATS

#: Rows shown by ``table`` and ``vertical`` (every command); the machine formats write every row.
TABLE_MAX_ROWS = 1000
#: How a reading format shows NULL (the empty string shows as an empty cell).
NULL_TEXT = "NULL"
DEFAULT_WIDTH = 120
_ELLIPSIS = "…"
_MIN_WIDTH = 4
#: A header longer than its column wraps onto at most this many lines (then it is cut with …).
HEADER_LINES = 3
#: Arrow field metadata key marking a column that holds JSON text (set by :func:`mark_json_columns`).
JSON_METADATA_KEY = b"gensql.type"


def format_for_output(fmt: str | None, output: str | os.PathLike | None, allowed: Sequence[str] = FORMATS) -> str:
    """The format to write: ``fmt`` when given, else the one ``output``'s extension names, else table.

    Raises ``ValueError`` (with a message for the user) when the extension contradicts ``fmt`` or
    names a format ``allowed`` does not contain. ``.txt`` goes with any reading format.
    """
    implied = EXTENSION_FORMATS.get(Path(output).suffix.lower()) if output else None
    if fmt is None:
        fmt = implied or "table"
        if fmt not in allowed:
            raise ValueError(
                f"-o {output}: the extension means --format {fmt}, which this command does not write "
                f"(one of {', '.join(allowed)}); give --format or another extension"
            )
        return fmt
    if implied is not None and implied != fmt and not (implied == "table" and fmt in READING_FORMATS):
        raise ValueError(
            f"-o {output} has the extension of {implied} but --format is {fmt}: drop --format or change the extension"
        )
    return fmt


def terminal_width() -> int:
    """``$COLUMNS`` when set, else the terminal's width, else 120."""
    return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns


def is_id_column(name: str) -> bool:
    """A column whose values are identifiers: never cut in ``table``."""
    name = name.lower()
    return name == "id" or name.endswith("_id") or name in ("logical_key", "product")


#: How :func:`format_value` writes a float of each kind (a report names the kind of each column).
VALUE_KINDS = ("plain", "cost", "rate", "seconds", "score")


def format_value(value: object, null: str = NULL_TEXT, kind: str = "plain") -> str:
    """A cell for reading: thousands separators, trimmed floats, ISO times, ``null`` for NULL.

    ``kind`` (:data:`VALUE_KINDS`) formats a float the way its column is read: a ``cost`` to four
    decimals (``<0.0001`` rather than a misleading 0), a ``rate`` as a percentage, ``seconds`` to a
    tenth, a ``score`` to two decimals.
    """
    if value is None:
        return null  # a cost too: NULL is "unpriced", never 0
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (float, Decimal)):
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if kind == "cost":
            if value != 0 and abs(value) < 0.00005:
                return "<0.0001" if value > 0 else "-<0.0001"
            return f"{value:,.4f}"
        if kind == "rate":
            return f"{value * 100:.1f}%"
        if kind == "seconds":
            return f"{value:,.1f}"
        if kind == "score":
            return f"{value:.2f}"
        if value != 0 and abs(value) < 0.01:
            return f"{value:.2e}"
        text = f"{value:,.4f}" if abs(value) < 100 else f"{value:,.2f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds" if not value.microsecond else "microseconds")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (dict, list, tuple)):
        import orjson

        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    return str(value).replace("\r\n", " ").replace("\n", " ").replace("\t", " ")


def _is_numeric(dtype: pa.DataType) -> bool:
    return pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype)


@dataclass
class Cells:
    """A table as display strings: what every reading format draws.

    ``rows`` are the rows shown (at most the cap), ``total_rows`` how many the result has;
    ``footer_rows`` (a TOTAL row) are drawn after a rule and are not counted.
    """

    header: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    total_rows: int
    footer_rows: list[list[str]]
    row_word: str = "row"
    extra_note: str | None = None
    #: The columns ``table`` shows by default, in order (:mod:`gensql.columnsets`); None: every column.
    headline: list[str] | None = None
    #: More columns whose values are ids (never cut), beyond what :func:`is_id_column` recognises.
    ids: frozenset[str] = frozenset()


def table_cells(table: pa.Table, max_rows: int | None = TABLE_MAX_ROWS, columns: ColumnSet | None = None) -> Cells:
    shown = table if max_rows is None else table.slice(0, max_rows)
    values = [[format_value(v) for v in col.to_pylist()] for col in shown.columns]
    rows = [list(r) for r in zip(*values)] if values else []
    cells = Cells(list(table.column_names), rows, [_is_numeric(f.type) for f in table.schema], table.num_rows, [])
    return with_columns(cells, columns)


def with_columns(cells: Cells, columns: ColumnSet | None, lead: Sequence[str] = ()) -> Cells:
    """``cells`` with the default columns of a command: ``lead`` (a report's group columns), then the set's."""
    if columns is not None:
        cells.headline = [*lead, *(c for c in columns.headline if c not in lead)]
        cells.ids = columns.ids
    return cells


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + _ELLIPSIS


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _fit(
    header: list[str],
    cell_widths: list[int],
    numeric: list[bool],
    width: int,
    ids: Sequence[bool],
    order: list[int] | None = None,
) -> tuple[list[int], list[int]]:
    """Columns to show (indexes, in ``order``) and their widths, within ``width`` characters.

    Neither ids nor numbers are ever cut (a cut number reads as another number); headers wrap onto
    up to :data:`HEADER_LINES` lines, so a column can be narrower than its name.
    """
    natural = [max(len(h), c) for h, c in zip(header, cell_widths)]
    floor = []
    for h, c, i, n in zip(header, cell_widths, ids, numeric):
        head = _header_floor(h)
        floor.append(max(c, head) if i or n else max(min(c, 8), head))
    shown = list(range(len(header))) if order is None else list(order)
    cost = lambda cols: sum(floor[c] for c in cols) + 3 * len(cols) + 1  # noqa: E731  ("│ " + " " per column)
    while len(shown) > 1 and cost(shown) > width:  # drop trailing columns, keeping at least one
        shown.pop()
    widths = {c: natural[c] for c in shown}
    budget = width - (3 * len(shown) + 1)
    while sum(widths.values()) > budget:
        cuttable = [c for c in shown if widths[c] > floor[c]]  # an id's floor is its longest value
        if not cuttable:
            break
        widest = max(cuttable, key=lambda c: widths[c] - floor[c])
        widths[widest] -= 1
    return shown, [widths[c] for c in shown]


def _footer(cells: Cells, hidden: list[str], width: int, vertical: bool = False, *, chosen: bool = False) -> str:
    notes = [_plural(cells.total_rows, cells.row_word)]
    if cells.footer_rows:
        notes[0] += " + total"
    if len(cells.rows) < cells.total_rows:
        notes.append(f"first {len(cells.rows):,} shown")
    if hidden:
        notes.append(f"{_plural(len(hidden), 'more column')} not shown: {', '.join(hidden)}")
    if len(notes) > 1:
        notes.append(
            ("--all-columns or -x shows them" if chosen else "use -x (--format vertical) to see every column")
            if hidden and not vertical
            else "use --format csv/json for everything"
        )
    if cells.extra_note:
        notes.append(cells.extra_note)
    text = "; ".join(notes)
    if len(text) <= width:
        return text
    return "\n".join(textwrap.wrap(text, max(width, 20), break_on_hyphens=False, break_long_words=False))


def draw_table(cells: Cells, width: int | None = None, all_columns: bool = False) -> str:
    """A boxed text table no wider than ``width`` columns (the terminal's by default), ids never cut.

    With a ``headline`` (and not ``all_columns``) it shows those columns, and names the others in the
    footer; when even they do not fit, it shows them one per line (:func:`draw_vertical`) instead
    of cutting an id or leaving out what the command is for.
    """
    width = max(width or terminal_width(), 20)
    header = cells.header
    if not header:
        return "(no columns)\n"
    ids = [is_id_column(h) or h in cells.ids for h in header]
    everything = cells.rows + cells.footer_rows
    cell_widths = [max([0] + [len(r[i]) for r in everything]) for i in range(len(header))]
    chosen = cells.headline is not None and not all_columns
    order = [header.index(h) for h in cells.headline or () if h in header] if chosen else None
    shown, widths = _fit(header, cell_widths, cells.numeric, width, ids, order)
    if order is not None and len(shown) < len(order):
        return _draw_expanded(cells, order, width)

    def line(row: list[str], align: bool = True) -> str:
        out = []
        for c, w in zip(shown, widths):
            cell = row[c] if ids[c] or cells.numeric[c] else _cut(row[c], w)
            out.append(cell.rjust(w) if cells.numeric[c] and align else cell.ljust(w))
        return "│ " + " │ ".join(out) + " │"

    rule = lambda left, mid, right: left + mid.join("─" * (w + 2) for w in widths) + right  # noqa: E731
    wrapped = {c: _wrap_header(header[c], w) for c, w in zip(shown, widths)}
    height = max(len(v) for v in wrapped.values())
    head_lines = [
        line([wrapped[c][k] if c in wrapped and k < len(wrapped[c]) else "" for c in range(len(header))])
        for k in range(height)
    ]
    parts = [rule("┌", "┬", "┐"), *head_lines, rule("├", "┼", "┤")]
    parts += [line(r) for r in cells.rows]
    if cells.footer_rows:
        if cells.rows:
            parts.append(rule("├", "┼", "┤"))
        parts += [line(r) for r in cells.footer_rows]
    parts.append(rule("└", "┴", "┘"))
    parts.append(_footer(cells, [header[c] for c in range(len(header)) if c not in shown], width, chosen=chosen))
    return "\n".join(parts) + "\n"


def _draw_expanded(cells: Cells, order: list[int], width: int) -> str:
    """The default columns one per line, when they do not fit across (psql's ``\\x auto``)."""
    picked = Cells(
        [cells.header[c] for c in order],
        [[row[c] for c in order] for row in cells.rows],
        [cells.numeric[c] for c in order],
        cells.total_rows,
        [[row[c] for c in order] for row in cells.footer_rows],
        cells.row_word,
        cells.extra_note,
    )
    text = draw_vertical(picked, width)
    hidden = [h for i, h in enumerate(cells.header) if i not in order]
    if hidden:
        text += "\n".join(
            textwrap.wrap(
                f"{_plural(len(hidden), 'more column')} not shown: {', '.join(hidden)}; --all-columns shows them",
                max(width, 20),
                break_on_hyphens=False,
                break_long_words=False,
            )
        )
        text += "\n"
    return text


def _header_floor(name: str) -> int:
    """The narrowest column in which ``name`` wraps at its separators onto at most HEADER_LINES lines
    (capped at 16: a longer word is cut)."""
    if len(name) <= 8:
        return len(name)  # a short name is never wrapped
    start = max(8, -(-len(name) // HEADER_LINES))
    for w in range(start, len(name) + 1):
        if w >= 16:
            return min(w, len(name))
        lines = _wrap_header(name, w)
        if (
            len(lines) <= HEADER_LINES
            and not lines[-1].endswith(_ELLIPSIS)
            and all(line.endswith(("_", "/", "-")) for line in lines[:-1])
        ):
            return w
    return len(name)


def _wrap_header(name: str, width: int) -> list[str]:
    """``name`` on lines of at most ``width`` characters, broken after ``_``, ``/`` or ``-`` where it can."""
    if len(name) <= width:
        return [name]
    import re

    lines, current = [], ""
    for token in re.findall(r"[^_/\-]+[_/\-]?|[_/\-]", name):
        while len(token) > width:  # a token longer than the column: hard break
            if current:
                lines.append(current)
                current = ""
            lines.append(token[:width])
            token = token[width:]
        if len(current) + len(token) > width:
            lines.append(current)
            current = ""
        current += token
    if current:
        lines.append(current)
    if len(lines) > HEADER_LINES:
        lines = lines[: HEADER_LINES - 1] + [_cut("".join(lines[HEADER_LINES - 1 :]), width)]
    return lines


def draw_vertical(cells: Cells, width: int | None = None, labels: Sequence[str] | None = None) -> str:
    """One block per row, one ``column | value`` line per field (psql's expanded display); nothing cut."""
    width = max(width or terminal_width(), 20)
    if not cells.header:
        return "(no columns)\n"
    name_width = max(len(h) for h in cells.header)
    parts = []
    records = [(f"RECORD {i:,}", r) for i, r in enumerate(cells.rows, start=1)]
    records += [(label, r) for label, r in zip(labels or ["TOTAL"] * len(cells.footer_rows), cells.footer_rows)]
    for title, row in records:
        head = f"-[ {title} ]"
        parts.append(head + "-" * max(0, min(width, name_width + 20) - len(head)))
        parts += [f"{h.ljust(name_width)} | {v}".rstrip() for h, v in zip(cells.header, row)]
    if not records:
        parts.append("(0 rows)")
    parts.append(_footer(cells, [], width, vertical=True))
    return "\n".join(parts) + "\n"


def draw_markdown(cells: Cells) -> str:
    """A GitHub-flavoured Markdown table (pipes in cells escaped), every row."""
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(esc(h) for h in cells.header) + " |"]
    lines.append("| " + " | ".join("---:" if n else "---" for n in cells.numeric) + " |")
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in cells.rows + cells.footer_rows]
    return "\n".join(lines) + "\n"


def render_table(
    table: pa.Table,
    width: int | None = None,
    max_rows: int = TABLE_MAX_ROWS,
    columns: ColumnSet | None = None,
    all_columns: bool = False,
) -> str:
    """``table`` format of an Arrow table (see the module docstring)."""
    return draw_table(table_cells(table, max_rows, columns), width, all_columns)


def render_vertical(table: pa.Table, width: int | None = None, max_rows: int = TABLE_MAX_ROWS) -> str:
    return draw_vertical(table_cells(table, max_rows), width)


def render_markdown(table: pa.Table) -> str:
    return draw_markdown(table_cells(table, None))


def render_text(
    cells_of: Callable[[int | None], Cells], fmt: str, width: int | None = None, all_columns: bool = False
) -> str:
    """A reading format from a function giving the cells for a row cap (None: every row)."""
    if fmt == "table":
        return draw_table(cells_of(TABLE_MAX_ROWS), width, all_columns)
    if fmt == "vertical":
        return draw_vertical(cells_of(TABLE_MAX_ROWS), width)
    if fmt == "markdown":
        return draw_markdown(cells_of(None))
    raise ValueError(f"{fmt!r} is not a reading format")


# --- machine formats -------------------------------------------------------------------------------


def mark_json_columns(table: pa.Table, types: Sequence[object]) -> pa.Table:
    """Mark the columns DuckDB typed ``JSON`` (``types``: ``relation.types`` as strings), which Arrow
    receives as plain strings, so json/jsonl nest them instead of writing escaped strings."""
    if not any(str(t) == "JSON" for t in types):
        return table
    fields = [
        f.with_metadata({**(f.metadata or {}), JSON_METADATA_KEY: b"JSON"}) if str(t) == "JSON" else f
        for f, t in zip(table.schema, types)
    ]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def _is_json(field: pa.Field) -> bool:
    if (field.metadata or {}).get(JSON_METADATA_KEY) == b"JSON":
        return True
    return isinstance(field.type, pa.ExtensionType) and getattr(field.type, "extension_name", "") == "arrow.json"


def _json_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    import orjson

    def dump(value: object) -> str | None:
        if value is None:
            return None
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()

    return pa.chunked_array([pa.array([dump(v) for v in column.to_pylist()], pa.string())])


def _is_nested(dtype: pa.DataType) -> bool:
    return pa.types.is_nested(dtype) or pa.types.is_map(dtype)


def _machine_table(table: pa.Table, fmt: str) -> pa.Table:
    """Column types every machine writer handles, without losing information."""
    columns, fields = [], []
    for field, column in zip(table.schema, table.columns):
        t = field.type
        if _is_json(field):
            if isinstance(t, pa.ExtensionType):
                column = pa.chunked_array([c.storage for c in column.chunks], t.storage_type).cast(pa.string())
        elif pa.types.is_decimal(t) and fmt in ("json", "jsonl"):
            if t.scale == 0 and t.precision <= 18:
                column = column.cast(pa.int64())
            elif t.scale == 0:
                values = column.to_pylist()
                if all(v is None or -(2**63) <= v < 2**63 for v in values):
                    column = pa.chunked_array([pa.array([None if v is None else int(v) for v in values], pa.int64())])
                else:
                    column = column.cast(pa.string())
            else:
                column = column.cast(pa.float64())
        elif _is_nested(t) and fmt in ("csv", "xlsx"):
            column = _json_text(column)
        elif (
            pa.types.is_interval(t)
            or pa.types.is_duration(t)
            or pa.types.is_binary(t)
            or pa.types.is_large_binary(t)
            or pa.types.is_fixed_size_binary(t)
            or isinstance(t, pa.ExtensionType)
        ):
            column = pa.chunked_array(
                [pa.array([None if v is None else format_value(v) for v in column.to_pylist()], pa.string())]
            )
        columns.append(column)
        fields.append(pa.field(field.name, columns[-1].type, metadata=field.metadata))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _json_default(value: object):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _json_records(table: pa.Table) -> list[bytes]:
    """One JSON object per row (orjson): JSON columns parsed into nested values."""
    import orjson

    json_columns = [i for i, f in enumerate(table.schema) if _is_json(f)]
    names = table.column_names
    columns = [c.to_pylist() for c in table.columns]
    for i in json_columns:
        columns[i] = [None if v is None else orjson.loads(v) for v in columns[i]]
    # orjson writes NaN and infinities as null (JSON has no such numbers)
    return [
        orjson.dumps(dict(zip(names, values)), default=_json_default, option=orjson.OPT_NON_STR_KEYS)
        for values in (zip(*columns) if columns else ())
    ]


#: What starts a spreadsheet formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_RAW_CSV: ContextVar[bool] = ContextVar("gensql_raw_csv", default=False)


@contextmanager
def raw_csv(on: bool = True) -> Iterator[None]:
    """CSV written inside the block keeps formula-leading text as it is (the CLI's ``--raw-csv``)."""
    token = _RAW_CSV.set(on)
    try:
        yield
    finally:
        _RAW_CSV.reset(token)


def neutralise_formulas(table: pa.Table) -> pa.Table:
    """``table`` with a ``'`` before every text value and column name that a spreadsheet would run as a
    formula (starting with one of :data:`FORMULA_STARTS`); other columns, numbers included, unchanged."""
    import pyarrow.compute as pc

    pattern = r"^[=+\-@\t\r]"  # FORMULA_STARTS as a regular expression
    names = ["'" + n if n.startswith(FORMULA_STARTS) else n for n in table.column_names]
    columns = []
    for column in table.columns:
        if getattr(pa.types, "is_string_view", lambda t: False)(column.type):
            column = column.cast(pa.large_string())  # polars' strings: the compute kernels below take these
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            quoted = pc.binary_join_element_wise(pa.scalar("'", column.type), column, pa.scalar("", column.type))
            column = pc.if_else(pc.match_substring_regex(column, pattern), quoted, column)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=names)


def render_bytes(
    table: pa.Table, fmt: str, width: int | None = None, columns: ColumnSet | None = None, all_columns: bool = False
) -> bytes:
    """The whole output for ``fmt`` as bytes (text formats are UTF-8); ``columns``: what ``table`` shows; CSV
    with formulas neutralised unless inside :func:`raw_csv`."""
    if fmt == "table":
        return render_table(table, width, columns=columns, all_columns=all_columns).encode()
    if fmt == "vertical":
        return render_vertical(table, width).encode()
    if fmt == "markdown":
        return render_markdown(table).encode()
    buf = io.BytesIO()
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(
            _machine_table(table, fmt) if any(isinstance(f.type, pa.ExtensionType) for f in table.schema) else table,
            buf,
        )
        return buf.getvalue()
    if fmt not in ("csv", "json", "jsonl", "xlsx"):
        raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    machine = _machine_table(table, fmt)
    if fmt == "csv" and not _RAW_CSV.get():
        machine = neutralise_formulas(machine)
    if fmt == "json":
        records = _json_records(machine)
        return b"[\n" + b",\n".join(records) + b"\n]\n" if records else b"[]\n"
    if fmt == "jsonl":
        return b"".join(r + b"\n" for r in _json_records(machine))
    import polars as pl

    df = pl.DataFrame(machine) if table.num_columns else pl.DataFrame()
    if fmt == "csv":
        df.write_csv(buf)
    else:
        df.write_excel(buf)
    return buf.getvalue()


def write_output(data: bytes, fmt: str, output: str | os.PathLike | None, stdout: BinaryIO) -> None:
    """Write to ``output`` (a path) or to stdout; a path that cannot be written is an :class:`OutputError`."""
    if output:
        try:
            with open(output, "wb") as f:
                f.write(data)
        except OSError as exc:
            raise OutputError(f"cannot write {output}: {exc.strerror or exc}; pick another -o FILE") from None
        return
    stdout.write(data)
    stdout.flush()

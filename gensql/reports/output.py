"""Report display (table, vertical, markdown: gensql/render.py's renderer) and export with provenance
(csv, json, jsonl, parquet, xlsx + sidecar)."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import UTC, datetime
from pathlib import Path

from .. import __version__
from ..columnsets import REPORTS
from ..formats import BINARY_FORMATS as BINARY_FORMATS  # re-exported by gensql.reports
from ..formats import FORMATS
from ..render import Cells, format_value, with_columns
from ..render import render_text as _render_reading
from .report import COST_COLUMNS, Report, ReportError

REPORT_FORMATS: tuple[str, ...] = FORMATS  # every report writes every format (the name stays for gensql.reports)
TOTAL_LABEL = "TOTAL"
PROVENANCE_KEY = "gensql.provenance"
SIDECAR_SUFFIX = ".meta.json"


def _kind(column: str) -> str:
    if column in COST_COLUMNS:
        return "cost"
    if column.endswith("_rate"):
        return "rate"
    if column.startswith("duration_s"):
        return "seconds"
    if column.endswith(("/mean", "/min", "/max")) or column in (
        "mean",
        "min",
        "max",
        "ci_low",
        "ci_high",
        "mean_a",
        "mean_b",
        "mean_diff",
        "mean_abs_diff",
    ):
        return "score"
    return "plain"


def report_cells(report: Report, max_rows: int | None = None) -> Cells:
    """The report as display strings (costs, rates, seconds and scores formatted; a labelled TOTAL row)."""
    df = report.df
    header = list(df.columns)
    numeric = [df.schema[c].is_numeric() for c in header]
    kinds = [_kind(c) for c in header]
    shown = df if max_rows is None else df.head(max_rows)
    rows = [[format_value(v, kind=k) for v, k in zip(record, kinds)] for record in shown.iter_rows()]
    footer = []
    if report.totals is not None:
        for record in report.totals.select(header).iter_rows():
            total = [format_value(v, kind=k) for v, k in zip(record, kinds)]
            first = header.index(report.group_columns[0]) if report.group_columns else 0
            total[first] = TOTAL_LABEL  # label it in the first group column (or the first column)
            footer.append(total)
    return with_columns(Cells(header, rows, numeric, df.height, footer), REPORTS.get(report.name), report.group_columns)


def render_text(report: Report, fmt: str, width: int | None = None, all_columns: bool = False) -> str:
    """``table`` (the report's default columns, ids never cut), ``vertical`` or ``markdown``, with a totals row."""
    return _render_reading(lambda cap: report_cells(report, cap), fmt, width, all_columns)


def provenance(report: Report, fmt: str, *, generated_at: datetime | None = None) -> dict:
    """What produced a report: gensql version, snapshot, price table, filters and grouping, columns.

    With ``generated_at`` (the sidecar) the report time is included; without it (inside parquet and
    xlsx files) it is not, so the data file's bytes depend only on what went into it.
    """
    doc = {
        "gensql_version": __version__,
        "report": report.name,
        "snapshot_id": report.snapshot_id,
        "prices": report.prices.describe() if report.prices is not None else None,
        **report.params,
        "format": fmt,
        "columns": list(report.df.columns),
        "rows": report.df.height,
    }
    if generated_at is not None:
        doc["generated_at"] = generated_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return doc


def _json_dumps(doc: dict) -> bytes:
    import orjson

    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def render_report(report: Report, fmt: str, all_columns: bool = False) -> bytes:
    """The bytes of ``report`` in ``fmt`` (parquet and xlsx carry the provenance inside)."""
    if fmt in ("table", "vertical", "markdown"):
        return render_text(report, fmt, all_columns=all_columns).encode()
    df = report.df
    if fmt in ("csv", "json", "jsonl"):
        from ..render import render_bytes

        return render_bytes(df.to_arrow(), fmt)
    buf = io.BytesIO()
    if fmt == "parquet":
        inner = _json_dumps(provenance(report, fmt)).decode()
        df.write_parquet(buf, metadata={PROVENANCE_KEY: inner})
    elif fmt == "xlsx":
        _write_xlsx(report, buf)
    else:
        raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(REPORT_FORMATS)}")
    return buf.getvalue()


def _write_xlsx(report: Report, buf: io.BytesIO) -> None:
    import orjson
    from xlsxwriter import Workbook

    workbook = Workbook(buf, {"in_memory": True})
    # A fixed creation time: xlsxwriter stamps "now" otherwise, and the bytes would differ per run.
    workbook.set_properties({"created": datetime(2000, 1, 1), "title": f"gensql report {report.name}"})
    df = report.df
    if df.width:
        df.write_excel(workbook, worksheet="report", float_precision=6, autofit=False)
    else:
        workbook.add_worksheet("report")
    sheet = workbook.add_worksheet("provenance")
    sheet.write_row(0, 0, ["key", "value"])
    for i, (key, value) in enumerate(sorted(provenance(report, "xlsx").items()), start=1):
        sheet.write_string(i, 0, key)
        sheet.write_string(i, 1, value if isinstance(value, str) else orjson.dumps(value).decode())
    workbook.close()


def export(report: Report, fmt: str, output: str | os.PathLike, *, now: datetime | None = None) -> Path:
    """Write ``report`` to ``output`` in ``fmt`` and its provenance to ``output + '.meta.json'``.

    Returns the sidecar's path. The sidecar holds :func:`provenance` with the report time and the
    data file's name and sha256.
    """
    output = Path(output)
    data = render_report(report, fmt)
    _atomic_write(output, data)
    doc = provenance(report, fmt, generated_at=now or datetime.now(UTC))
    doc["file"] = output.name
    doc["sha256"] = hashlib.sha256(data).hexdigest()
    sidecar = output.with_name(output.name + SIDECAR_SUFFIX)
    _atomic_write(sidecar, _json_dumps(doc))
    return sidecar


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise

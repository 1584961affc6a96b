"""Cohort membership: ``cohorts/<cohort_id>/membership.csv`` read into one table.

The current form is exactly ``stage,gen_id``; older files carry more columns, which are kept as a JSON
object in ``extras`` so nothing is lost. A file without ``stage``/``gen_id`` columns, or a row without a
gen id, is reported in ``scan_errors`` instead of being skipped silently.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Collection, Iterator
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from . import layout
from .safeio import check_inside, read_file, store_roots

MEMBERSHIP_SCHEMA = pa.schema(
    [
        pa.field("cohort_id", pa.string()),
        pa.field("stage", pa.string()),
        pa.field("gen_id", pa.string()),
        pa.field("line", pa.int64()),
        pa.field("extras", pa.string()),
    ]
)


def read_memberships(data_root: Path, cohorts: Collection[str] | None = None) -> tuple[pa.Table, list[tuple]]:
    """All membership rows and the ``scan_errors`` tuples of files or rows that could not be used.

    ``cohorts`` limits the reading to those cohort ids (the ones changed since a snapshot).
    """
    rows: dict[str, list] = {name: [] for name in MEMBERSHIP_SCHEMA.names}
    fast_tables: list[pa.Table] = []  # current-form files, kept as Arrow (no Python object per row)
    errors: list[tuple] = []
    roots = store_roots(data_root)
    paths = _membership_paths(data_root, roots, errors, cohorts)
    for path in paths:
        cohort_id = path.parent.name
        rel = f"{layout.COHORTS_DIR}/{cohort_id}/{layout.MEMBERSHIP_FILE}"

        def error(kind: str, message: str, rel: str = rel) -> None:
            errors.append((rel, None, None, layout.MEMBERSHIP_FILE, kind, message))

        try:
            text = read_file(str(path), roots)[0].decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            error("bad_membership", f"not valid UTF-8 at byte {exc.start}")
            continue
        except OSError as exc:  # UnsafeFileError names its kind: unreadable, too_large, outside_store
            error(getattr(exc, "kind", "unreadable"), f"cannot read: {exc.strerror or exc}")
            continue
        fast = _read_fast(text, cohort_id, error)
        if fast is not None:
            fast_tables.append(fast)
            continue
        reader = csv.DictReader(io.StringIO(text), strict=True)
        try:
            fields = [f.strip() for f in (reader.fieldnames or [])]
        except csv.Error as exc:
            error("bad_membership", f"header: {exc}; the file is not read")
            continue
        if "stage" not in fields or "gen_id" not in fields:
            error("bad_membership", f"header {','.join(fields) or '(empty)'} lacks the required columns stage,gen_id")
            continue
        reader.fieldnames = fields
        for record in _records(reader, error):
            line = reader.line_num
            stage = (record.get("stage") or "").strip()
            gen_id = (record.get("gen_id") or "").strip()
            if not gen_id or stage not in layout.STAGES:
                error("bad_membership", f"line {line}: stage {stage!r} / gen_id {gen_id!r} is not a valid member")
                continue
            extras = {k: v for k, v in record.items() if k not in ("stage", "gen_id") and k is not None}
            if None in record:  # more cells than header fields
                extras["_extra_cells"] = record[None]
            rows["cohort_id"].append(cohort_id)
            rows["stage"].append(stage)
            rows["gen_id"].append(gen_id)
            rows["line"].append(line)
            rows["extras"].append(orjson.dumps(extras, option=orjson.OPT_SORT_KEYS).decode() if extras else None)
    table = pa.concat_tables([pa.table(rows, schema=MEMBERSHIP_SCHEMA), *fast_tables])
    # Cohort order, then line order, whichever reader a file went through.
    return table.sort_by([("cohort_id", "ascending"), ("line", "ascending")]), errors


def _records(reader: csv.DictReader, error) -> Iterator[dict]:
    """The rows of ``reader`` up to the first one the CSV module cannot parse (a quoted field over its
    128 KiB limit, a quote never closed): that one is a ``bad_membership`` error naming its line, and
    the rows after it are not read, since a broken quote leaves no trustworthy line boundary."""
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            error("bad_membership", f"after line {reader.line_num}: {exc}; the rest of the file is not read")
            return
        yield record


def _membership_paths(
    data_root: Path, roots: tuple[str, ...], errors: list[tuple], cohorts: Collection[str] | None = None
) -> list[Path]:
    """``membership.csv`` of every cohort directory, in cohort order, by :mod:`gensql.safeio`'s rules.

    ``cohorts/`` or a cohort directory that cannot be read, or a cohort symlink leading outside the
    store, is a ``scan_errors`` row: its members are never silently missing.
    """
    cohorts_root = data_root / layout.COHORTS_DIR
    try:
        with os.scandir(cohorts_root) as it:
            entries = sorted(it, key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        errors.append((layout.COHORTS_DIR, None, None, None, "unreadable", f"cannot list: {exc.strerror or exc}"))
        return []
    paths = []
    for entry in entries:
        if entry.name.startswith(".") or (cohorts is not None and entry.name not in cohorts):
            continue
        rel = f"{layout.COHORTS_DIR}/{os.fsencode(entry.name).decode('utf-8', 'backslashreplace')}"
        try:
            entry.name.encode("utf-8")
        except UnicodeEncodeError:
            errors.append((rel, None, None, None, "bad_name", "cohort directory name is not valid UTF-8"))
            continue
        try:
            if entry.is_symlink():
                check_inside(entry.path, roots)
            if not entry.is_dir():
                continue
            os.lstat(os.path.join(entry.path, layout.MEMBERSHIP_FILE))
        except FileNotFoundError:
            continue
        except OSError as exc:
            errors.append(
                (rel, None, None, None, getattr(exc, "kind", "unreadable"), f"cannot read: {exc.strerror or exc}")
            )
            continue
        paths.append(Path(entry.path) / layout.MEMBERSHIP_FILE)
    return paths


def _read_fast(text: str, cohort_id: str, error) -> pa.Table | None:
    """Read a current-form file (exactly ``stage,gen_id``) with Arrow's CSV reader.

    Returns None to let the general reader handle anything else (wide files, ragged rows, quoting
    surprises), so the fast path never changes what is read, only how fast.
    """
    header = text.split("\n", 1)[0].strip().split(",")
    if [h.strip() for h in header] != ["stage", "gen_id"] or "\n\n" in text or "\r" in text or '"' in text:
        return None  # blank lines, CRs or quotes would shift line numbers: the general reader counts them
    try:
        table = pacsv.read_csv(
            pa.py_buffer(text.encode()),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header}, strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid:
        return None
    table = table.rename_columns(["stage", "gen_id"])
    stage = pc.utf8_trim_whitespace(table.column("stage"))
    gen_id = pc.utf8_trim_whitespace(table.column("gen_id"))
    valid = pc.and_(pc.is_in(stage, value_set=pa.array(layout.STAGES)), pc.greater(pc.utf8_length(gen_id), 0))
    if not pc.all(valid).as_py():
        for i, (s, g, ok) in enumerate(zip(stage.to_pylist(), gen_id.to_pylist(), valid.to_pylist())):
            if not ok:
                error("bad_membership", f"line {i + 2}: stage {s!r} / gen_id {g!r} is not a valid member")
    lines = pc.filter(pa.array(range(2, len(valid) + 2), pa.int64()), valid)
    n = len(lines)
    return pa.table(
        [
            pa.array([cohort_id] * n, pa.string()),
            stage.filter(valid),
            gen_id.filter(valid),
            lines,
            pa.nulls(n, pa.string()),
        ],
        schema=MEMBERSHIP_SCHEMA,
    )

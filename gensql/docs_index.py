"""Seed 000's SQLite index of the docs store (``db/documents.sqlite``), read read-only as facts of docs rows.

The database belongs to the pipeline: gensql never writes it, never creates its ``-wal``/``-shm``
files and never takes a lock on it. It is opened with SQLite's ``immutable=1`` URI (no locking, no
change detection) in read-only mode. A database in WAL mode can hold committed rows that are still
only in its ``-wal`` file, which an immutable reader would not see: then the database and its WAL
are copied (plain reads, no lock) into a private temporary directory and the copy is read.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa

from . import layout
from .fields import SQLITE_FACTS
from .safeio import UnsafeFileError, safe_stat, store_roots

#: What :func:`read_documents` returns: one row per ``documents`` row with a usable stage and doc_id.
DOCUMENTS_SCHEMA = pa.schema(
    [pa.field("stage", pa.string()), pa.field("gen_id", pa.string())]
    + [pa.field(col, pa.string()) for col in dict.fromkeys(SQLITE_FACTS.values())]
    + [pa.field("created_at", pa.timestamp("us", tz="UTC"))]
)
_COLUMNS = ["stage", "doc_id", *dict.fromkeys(SQLITE_FACTS.values()), "created_at"]
#: The table `gensql export sqlite` adds; a database holding it is gensql's export of its own index,
#: and reading it back as facts would feed the index into itself.
EXPORT_TABLE = "gensql_export"
_NULL_LIKE = frozenset({"", "nan", "none", "null"})


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text.lower() in _NULL_LIKE else text


def _time(value: object) -> datetime | None:
    """``created_at`` as written by the pipeline (``%Y-%m-%dT%H:%M:%fZ``), or any ISO time; else None."""
    text = _text(value)
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _query(path: Path, immutable: bool) -> list[tuple]:
    uri = f"file:{quote(str(path))}?mode=ro" + ("&immutable=1" if immutable else "")
    con = sqlite3.connect(uri, uri=True)
    try:
        if con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (EXPORT_TABLE,)).fetchone():
            return []  # gensql's own export (`gensql export sqlite`): facts from the index, not new ones
        present = {row[1] for row in con.execute("PRAGMA table_info(documents)")}
        if not present:
            raise sqlite3.DatabaseError("no table 'documents'")
        missing = {"stage", "doc_id"} - present
        if missing:
            raise sqlite3.DatabaseError(f"table 'documents' lacks column(s) {', '.join(sorted(missing))}")
        select = ", ".join(f'"{c}"' if c in present else "NULL" for c in _COLUMNS)  # names from the declared table
        return con.execute(f"SELECT {select} FROM documents").fetchall()
    finally:
        con.close()


def read_documents(data_root: Path) -> tuple[pa.Table | None, list[tuple]]:
    """The ``documents`` rows of ``<data_root>/db/documents.sqlite`` and ``scan_errors`` tuples.

    Returns ``(None, [])`` when there is no database; ``(None, [error])`` when it cannot be read.
    """
    path = data_root / layout.DOCS_DB_FILE
    if not os.path.lexists(path):
        return None, []
    wal = Path(f"{path}-wal")
    roots = store_roots(data_root)
    try:
        # A FIFO, a device (a link to /dev/zero), a directory or a link out of the store is a scan_errors
        # row, never opened: SQLite would block on a FIFO or read /dev/zero forever.
        safe_stat(path, roots)
        if os.path.lexists(wal) and safe_stat(wal, roots).st_size > 0:
            with tempfile.TemporaryDirectory(prefix="gensql-sqlite-") as tmp:
                copy = Path(tmp) / path.name
                shutil.copyfile(path, copy)
                shutil.copyfile(wal, f"{copy}-wal")
                os.chmod(copy, 0o600)
                rows = _query(copy, immutable=False)  # the copy is ours: SQLite may replay its WAL
        else:
            rows = _query(path, immutable=True)
    except UnsafeFileError as exc:
        return None, [(layout.DOCS_DB_FILE, None, None, path.name, exc.kind, f"cannot read the documents index: {exc}")]
    except (sqlite3.Error, OSError) as exc:
        return None, [
            (layout.DOCS_DB_FILE, None, None, path.name, "bad_sqlite", f"cannot read the documents index: {exc}")
        ]
    columns: list[list] = [[] for _ in DOCUMENTS_SCHEMA]
    for row in rows:
        stage, doc_id = _text(row[0]), _text(row[1])
        if stage not in layout.STAGES or doc_id is None:
            continue  # not a row of any docs directory: nothing to attach it to
        values = [stage, doc_id, *(_text(v) for v in row[2:-1]), _time(row[-1])]
        for column, value in zip(columns, values):
            column.append(value)
    table = pa.table(columns, schema=DOCUMENTS_SCHEMA)
    return table, []

"""Seed 000's SQLite ``documents`` index, written as an export of the current snapshot.

Not a live index: the files stay the truth. The export is a new database file renamed over the old
one, so a reader sees the previous export or the new one; the table ``gensql_export`` says which
snapshot it came from. Tools written against seed 000 (the ``sqlite3`` shell, Datasette) work unchanged.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from .. import __version__, layout
from ..catalog import define_views
from ..docs_index import EXPORT_TABLE
from ..fsutil import fsync_path, tmp_name
from ..index import require_snapshot

#: Seed 000_4b878bc531465b49's DDL, verbatim (plan step 2), and its two indexes.
DOCUMENTS_DDL = (
    "CREATE TABLE documents (\n"
    "  doc_id TEXT PRIMARY KEY,\n"
    "  logical_key_id TEXT,\n"
    "  stage TEXT,\n"
    "  task_id TEXT,\n"
    "  parent_doc_id TEXT,\n"
    "  template_id TEXT,\n"
    "  model_id TEXT,\n"
    "  run_id TEXT,\n"
    "  prompt_hash TEXT,\n"
    "  parser TEXT,\n"
    "  status TEXT,\n"
    "  usage_prompt_tokens INTEGER,\n"
    "  usage_completion_tokens INTEGER,\n"
    "  usage_max_tokens INTEGER,\n"
    "  created_at TEXT,\n"
    "  doc_dir TEXT,\n"
    "  raw_chars INTEGER,\n"
    "  parsed_chars INTEGER,\n"
    "  meta_small TEXT,\n"
    "  lineage_prev_doc_id TEXT\n"
    ");"
)
DOCUMENTS_INDEXES = (
    "CREATE INDEX idx_documents_logical ON documents(logical_key_id, created_at);",
    "CREATE INDEX idx_documents_stage ON documents(stage, created_at);",
)
DOCUMENTS_COLUMNS: tuple[str, ...] = (
    "doc_id",
    "logical_key_id",
    "stage",
    "task_id",
    "parent_doc_id",
    "template_id",
    "model_id",
    "run_id",
    "prompt_hash",
    "parser",
    "status",
    "usage_prompt_tokens",
    "usage_completion_tokens",
    "usage_max_tokens",
    "created_at",
    "doc_dir",
    "raw_chars",
    "parsed_chars",
    "meta_small",
    "lineage_prev_doc_id",
)
_EXPORT_DDL = (
    f"CREATE TABLE {EXPORT_TABLE} (snapshot_id TEXT, exported_at TEXT, gensql_version TEXT, documents INTEGER);"
)
_BATCH = 50_000


@dataclass(frozen=True)
class SqliteExport:
    path: Path
    snapshot_id: str
    documents: int


def default_db_path(data_root: str | os.PathLike | None) -> Path:
    return layout.resolve(data_root).data_root / layout.DOCS_DB_FILE


def export_sqlite(
    data_root: str | os.PathLike | None,
    db: str | os.PathLike | None = None,
    *,
    index_dir: str | os.PathLike | None = None,
) -> SqliteExport:
    """Write the ``documents`` view of the current snapshot to ``db`` (default ``<data-root>/db/documents.sqlite``).

    ``created_at`` is ISO 8601 text in UTC (``2025-03-01T12:00:00.000000+00:00``), as seed 000 stores
    TEXT times; the database is left in WAL mode, as seed 000's writers opened it.
    """
    where = layout.resolve(data_root, index_dir)
    snap = require_snapshot(where.index_dir)
    target = Path(db).expanduser().absolute() if db else default_db_path(where.data_root)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / tmp_name(target.name)
    con = duckdb.connect()
    n = 0
    try:
        define_views(con, snap.path)
        cur = con.execute(f"SELECT {', '.join(DOCUMENTS_COLUMNS)} FROM documents ORDER BY doc_id")
        out = sqlite3.connect(tmp)
        try:
            out.execute(DOCUMENTS_DDL)
            placeholders = ", ".join("?" * len(DOCUMENTS_COLUMNS))
            insert = f"INSERT INTO documents VALUES ({placeholders})"
            at = DOCUMENTS_COLUMNS.index("created_at")
            while batch := cur.fetchmany(_BATCH):
                out.executemany(insert, (_row(r, at) for r in batch))
                n += len(batch)
            for ddl in DOCUMENTS_INDEXES:
                out.execute(ddl)
            out.execute(_EXPORT_DDL)
            out.execute(
                f"INSERT INTO {EXPORT_TABLE} VALUES (?, ?, ?, ?)",
                (snap.path.name, datetime.now(UTC).isoformat(), __version__, n),
            )
            out.commit()
            out.execute("PRAGMA journal_mode=WAL")
        finally:
            out.close()  # checkpoints and removes the -wal file: the file alone is the database
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        _checkpoint_old(target)
        os.replace(tmp, target)
        fsync_path(target.parent)
    except BaseException:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)
        raise
    finally:
        con.close()
    return SqliteExport(path=target, snapshot_id=snap.path.name, documents=n)


def _row(row: tuple, at: int) -> tuple:
    created = row[at]
    if isinstance(created, datetime):
        row = (*row[:at], created.astimezone(UTC).isoformat(timespec="microseconds"), *row[at + 1 :])
    return row


def _checkpoint_old(target: Path) -> None:
    """Fold a previous export's WAL into it, so no stale ``-wal`` file outlives it (SQLite would replay it)."""
    wal = Path(f"{target}-wal")
    if not wal.exists():
        return
    old = sqlite3.connect(target)
    try:
        old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        old.close()
    wal.unlink(missing_ok=True)
    Path(f"{target}-shm").unlink(missing_ok=True)

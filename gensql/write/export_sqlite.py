"""Seed 000's SQLite ``documents`` index, written as an export of the current snapshot.

Not a live index: the files stay the truth. The export never destroys input:

- its default path is ``<index>/exports/documents.sqlite``, inside gensql's own index directory, never
  the pipeline's ``<data-root>/db/documents.sqlite`` (a fact source of refresh);
- it replaces only a file gensql exported: one carrying :data:`APPLICATION_ID` in its SQLite header (or,
  from before that, the ``gensql_export`` table); anything else at the path is refused with one line;
- the new database is written completely under a fresh hidden name and renamed over the old one, in
  SQLite's default rollback-journal mode, so there is never a ``-wal`` or ``-shm`` file: a reader that
  has the old export open keeps reading the old file (its inode) until it reopens the path.

The table ``gensql_export`` says which snapshot it came from. Tools written against seed 000 (the
``sqlite3`` shell, Datasette) work unchanged.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import duckdb

from .. import __version__, faults, layout
from ..catalog import define_views
from ..docs_index import EXPORT_TABLE
from ..errors import IndexWriteError, OutputError, WriteError
from ..fsutil import fsync_path, tmp_name
from ..index import Snapshot, require_snapshot, store_umask
from ..workers import pid_alive

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


#: SQLite ``PRAGMA application_id`` of a gensql export ("gsql"): the marker checked before a replace.
APPLICATION_ID = 0x6773716C
#: Where the export goes by default, inside the index directory: ``<index>/exports/documents.sqlite``.
EXPORTS_DIR = "exports"
_SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True)
class SqliteExport:
    path: Path
    snapshot_id: str
    documents: int
    #: Temporary files of killed exports that this export removed.
    removed: tuple[Path, ...] = ()


def default_db_path(data_root: str | os.PathLike | None, index_dir: str | os.PathLike | None = None) -> Path:
    """``<index>/exports/documents.sqlite``: gensql's own directory, never an input of refresh."""
    return layout.resolve(data_root, index_dir).index_dir / EXPORTS_DIR / Path(layout.DOCS_DB_FILE).name


def export_sqlite(
    data_root: str | os.PathLike | None,
    db: str | os.PathLike | None = None,
    *,
    index_dir: str | os.PathLike | None = None,
) -> SqliteExport:
    """Write the ``documents`` view of the current snapshot to ``db`` (default :func:`default_db_path`).

    ``created_at`` is ISO 8601 text in UTC (``2025-03-01T12:00:00.000000+00:00``), as seed 000 stores
    TEXT times. An existing ``db`` is replaced only if gensql exported it (:class:`WriteError`
    otherwise); temporary files of killed exports beside it are removed (and returned in ``removed``).
    The file is no more open than the store (a ``0700`` store gives a ``0600`` export). A full disk is
    :class:`IndexWriteError` (exit 5), with the previous export unchanged.
    """
    where = layout.resolve(data_root, index_dir)
    snap = require_snapshot(where.index_dir)
    target = Path(db).expanduser().absolute() if db else default_db_path(where.data_root, where.index_dir)
    _check_replaceable(target)
    with store_umask(where.data_root):
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            removed = _remove_leftovers(target)
            n = _write(snap, target)
        except (OSError, sqlite3.Error) as exc:
            raise _export_error(exc, target) from None
    return SqliteExport(path=target, snapshot_id=snap.path.name, documents=n, removed=tuple(removed))


def _write(snap: Snapshot, target: Path) -> int:
    """Write the export under a fresh hidden name beside ``target``, then rename it over ``target``."""
    tmp = target.parent / tmp_name(target.name)
    con = duckdb.connect()
    n = 0
    try:
        define_views(con, snap.path)
        cur = con.execute(f"SELECT {', '.join(DOCUMENTS_COLUMNS)} FROM documents ORDER BY doc_id")
        try:
            out = sqlite3.connect(tmp)
        except sqlite3.Error as exc:  # /proc/x.sqlite, a read-only folder: one line, not a traceback
            raise OutputError(f"cannot write {target}: {exc}; pick another --db FILE") from None
        try:
            out.execute(f"PRAGMA application_id = {APPLICATION_ID}")
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
            faults.point("export.commit")
            out.commit()
        finally:
            out.close()  # rollback-journal mode: the file alone is the database
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
    return n


def is_gensql_export(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a regular file ``gensql export sqlite`` wrote (its header's application id,
    or the ``gensql_export`` table of an export from before the id)."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            return False
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError:
        return False
    if len(header) < 100 or not header.startswith(_SQLITE_HEADER):
        return False
    if int.from_bytes(header[68:72], "big") == APPLICATION_ID:
        return True
    try:
        # immutable: no locking and no -wal/-shm files, which a WAL-mode database (the pipeline's own
        # documents.sqlite) would otherwise get beside it, inside the store, even from a read-only open
        con = sqlite3.connect(f"file:{quote(os.fspath(path))}?mode=ro&immutable=1", uri=True)
        try:
            found = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (EXPORT_TABLE,))
            return found.fetchone() is not None
        finally:
            con.close()
    except sqlite3.Error:
        return False


def _check_replaceable(target: Path) -> None:
    if not os.path.lexists(target):
        return
    if os.path.islink(target) or not os.path.isfile(target):
        what = "a symlink" if os.path.islink(target) else "not a regular file"
        raise WriteError(f"{target} exists and is {what}: refusing to replace it; pass another --db")
    if not is_gensql_export(target):
        raise WriteError(
            f"{target} exists and was not written by `gensql export sqlite` (it may be the pipeline's own "
            "index): refusing to replace it; pass another --db, or move that file away first"
        )


def _remove_leftovers(target: Path) -> list[Path]:
    """Temporary files of exports to ``target`` whose process is gone (killed mid-export): removed."""
    prefix = f"{layout.WRITER_TMP_PREFIX}{target.name}."
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix) or not entry.is_file(follow_symlinks=False):
            continue
        pid = entry.name[len(prefix) :].split("-")[1] if "-" in entry.name[len(prefix) :] else ""
        if pid.isdigit() and pid_alive(int(pid)):
            continue  # another export is writing it right now
        os.unlink(entry.path)
        removed.append(Path(entry.path))
    return removed


def _export_error(exc: BaseException, target: Path) -> Exception:
    """One line for what went wrong writing the export; the previous export is unchanged in every case."""
    text = str(exc)
    code = getattr(exc, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT) or "disk is full" in text or "No space left" in text:
        return IndexWriteError(
            f"disk full while writing the export {target}; the previous export (if any) is unchanged and "
            "nothing was left behind: free some space and run the command again"
        )
    return WriteError(f"cannot write the export {target}: {getattr(exc, 'strerror', None) or text}")


def _row(row: tuple, at: int) -> tuple:
    created = row[at]
    if isinstance(created, datetime):
        row = (*row[:at], created.astimezone(UTC).isoformat(timespec="microseconds"), *row[at + 1 :])
    return row


def _checkpoint_old(target: Path) -> None:
    """Fold the WAL of an export from before journal mode DELETE into it, so no stale ``-wal`` file outlives
    it (SQLite would replay it into the new file). Exports written now never have one."""
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

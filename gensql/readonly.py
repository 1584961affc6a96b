"""The read-only connection: what the web SQL console, named queries and ``gensql sql`` run user SQL on.

SQL typed into a console or shipped in a ``.sql`` file is untrusted: it must be able to read the index
and nothing else, whatever statement it is, however it is wrapped (``EXPLAIN ANALYZE COPY ...``, a CTE,
a prepared statement). gensql does not try to recognise dangerous statements; it gives DuckDB nothing it
could write with:

- **No file access at all.** DuckDB's ``allowed_directories`` would let it read the snapshot's Parquet
  files, but it lets it *write* them too (a ``COPY ... TO`` onto a partition file emptied the index). So
  DuckDB opens no file: the four base relations (``_gens``, ``_membership``, ``_scan_errors``,
  ``_texts``) are pyarrow datasets over the snapshot, which pyarrow opens read-only, registered on each
  connection. ``enable_external_access`` is off from the start (no ``COPY``, ``EXPORT``, ``ATTACH``,
  ``INSTALL``, file reader, replacement scan), with no path allowed.
- **A read-only catalog.** The views live in a small DuckDB file built from ``gensql/views/*.sql`` in a
  private temporary folder, opened with ``read_only=True`` and unlinked at once: ``CREATE``, ``DROP``,
  ``ALTER``, ``INSERT`` and friends fail on it. The snapshot's own ``gensql.duckdb`` is never opened.
  What a statement can still create (``CREATE TEMP ...``) lives in its connection's temporary schema and
  dies with it: each request gets a connection of its own (:meth:`ReadOnlyIndex.cursor`).
- **Locked configuration.** ``lock_configuration`` is on, so ``SET``/``RESET``/``PRAGMA`` cannot undo any
  of this, raise the memory cap or point ``temp_directory``, profiling or logging output at a file.
  Extensions are neither installed nor auto-loaded; persistent secrets are off.
- **Temporary files.** The web console never spills to disk (``temp_directory`` empty: its memory cap is
  the bound). A command-line connection spills into its private folder, removed when it closes.

``tests/test_readonly.py`` runs every statement kind DuckDB has, alone and wrapped, on both doors, and
checks that the index files are byte-identical afterwards (docs/hardening.md, "Read-only").
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

import duckdb

from . import layout
from .catalog import BASE_TABLES, view_files

#: DuckDB's words when a read-only connection touches a file, writes the catalog or changes a setting.
NO_FILE_ACCESS = "disabled by configuration"
READ_ONLY = "read-only mode"
LOCKED = "the configuration has been locked"


@dataclass(frozen=True)
class Limits:
    """What one read-only database may use. ``None`` keeps DuckDB's default."""

    memory_limit: str | None = None  # e.g. "2GB"
    threads: int | None = None
    spill: bool = True  # may spill to a private temporary folder (False: memory_limit is a hard bound)


def physical_memory() -> int:
    """Bytes of RAM of this machine (0 when unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def _datasets(snapshot_path: Path) -> dict:
    """One pyarrow dataset per base relation: pyarrow opens the snapshot's files read-only."""
    from .startup import pandas_blocked

    with pandas_blocked():
        import pyarrow as pa
        import pyarrow.dataset as ds

    from .partitions import HIVE_COLUMN, declared_schema

    out = {}
    for table in BASE_TABLES:
        path = snapshot_path / layout.TABLE_FILES[table]
        if table in layout.PARTITIONED_TABLES:
            # every part file of every stage=<stage>/ folder; `stage` comes from the folder names
            files = sorted(str(p) for p in path.glob("stage=*/*.parquet"))
            if not files:
                raise duckdb.IOException(f"no Parquet file under {path}")
            out[table] = ds.dataset(
                files,
                format="parquet",
                schema=declared_schema(Path(files[0])),
                partitioning=ds.partitioning(pa.schema([(HIVE_COLUMN, pa.string())]), flavor="hive"),
                partition_base_dir=str(path),
            )
        else:
            out[table] = ds.dataset(str(path), format="parquet")
    return out


def _register(con: duckdb.DuckDBPyConnection, datasets: dict) -> None:
    for table, dataset in datasets.items():
        con.register(f"_{table}", dataset)


class ReadOnlyIndex:
    """One index snapshot opened for untrusted SQL: a read-only views catalog, no file access, locked settings.

    :meth:`cursor` gives a fresh connection (its own temporary schema, its own interrupt) on the shared
    database, so the memory and thread caps bound every query run through this object together.
    """

    def __init__(self, snapshot_path: Path, limits: Limits | None = None):
        limits = limits or Limits()
        self.snapshot_path = Path(snapshot_path)
        self._datasets = _datasets(self.snapshot_path)
        self._folder = Path(tempfile.mkdtemp(prefix="gensql-readonly-"))  # 0700: ours alone
        self._closed = False
        self._lock = threading.Lock()
        try:
            views = self._folder / "views.duckdb"
            self._build(views)
            config: dict[str, str | bool | int | float | list[str]] = {
                "enable_external_access": False,
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                "allow_community_extensions": False,
                "allow_persistent_secrets": False,
                "temp_directory": str(self._folder / "spill") if limits.spill else "",
            }
            if limits.memory_limit:
                config["memory_limit"] = limits.memory_limit
            if limits.threads:
                config["threads"] = limits.threads
            self._con = duckdb.connect(str(views), read_only=True, config=config)
            self._con.execute("SET lock_configuration = true")
            views.unlink()  # the open database keeps its file; nothing else can reach it
        except BaseException:
            shutil.rmtree(self._folder, ignore_errors=True)
            raise
        self._finalizer = weakref.finalize(self, _cleanup, self._con, self._folder)

    def _build(self, target: Path) -> None:
        """Write the views (bound to the base relations by name, no file path in them) into ``target``."""
        con = duckdb.connect(str(target))
        try:
            con.execute("SET enable_progress_bar = false")
            _register(con, self._datasets)
            for name, sql in view_files():
                try:
                    con.execute(sql)
                except duckdb.Error as exc:
                    raise duckdb.Error(f"gensql/views/{name}: {exc}") from exc
            # what the connection reads, for the "snapshot was removed" message (gensql.query)
            con.execute(f"CREATE VIEW _gensql_snapshot AS SELECT {_literal(str(self.snapshot_path))} AS path")
            con.execute("CHECKPOINT")
        finally:
            con.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new connection on the read-only database, with the base relations registered on it.

        Close it when done (or let it be collected); a statement's temporary objects die with it.
        """
        with self._lock:
            if self._closed:
                raise duckdb.ConnectionException("this read-only index was closed")
            cur = self._con.cursor()
        try:
            _register(cur, self._datasets)
        except BaseException:
            cur.close()
            raise
        weakref.finalize(cur, lambda _keep: None, self)  # the database lives as long as any cursor
        return cur

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._finalizer()


def _cleanup(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    try:
        con.close()
    except duckdb.Error:
        pass
    shutil.rmtree(folder, ignore_errors=True)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def snapshot_of(con: duckdb.DuckDBPyConnection) -> str | None:
    """The snapshot directory a read-only connection reads (None for other connections)."""
    try:
        rows = con.sql("SELECT path FROM _gensql_snapshot").fetchall()
    except duckdb.Error:
        return None
    return rows[0][0] if rows else None


def connect_readonly(
    data_root: str | os.PathLike | None = None,
    index_dir: str | os.PathLike | None = None,
    limits: Limits | None = None,
) -> duckdb.DuckDBPyConnection:
    """A connection on the current index snapshot that can read the index and nothing else.

    What named queries and ``gensql sql`` run on (without ``--allow-file-access``), and, one per
    request, the web console (:class:`ReadOnlyIndex`). The snapshot is held (a reader lease) while the
    connection lives. Raises :class:`~gensql.errors.IndexNotFoundError` when there is no readable index.
    """
    from .errors import IndexNotFoundError
    from .index import acquire_lease, hold_lease

    where = layout.resolve(data_root, index_dir)
    snap, lease = acquire_lease(where.index_dir)
    try:
        index = ReadOnlyIndex(snap.path, limits)
    except (duckdb.Error, OSError) as exc:
        os.close(lease)
        raise IndexNotFoundError(
            f"the index snapshot {snap.path} cannot be read ({exc}): run `gensql refresh --full`"
        ) from None
    con = index.cursor()
    hold_lease(con, lease)
    from .staleness import warn_if_stale

    warn_if_stale(where.data_root, snap.id, snap.info)
    return con


__all__ = [
    "LOCKED",
    "NO_FILE_ACCESS",
    "READ_ONLY",
    "Limits",
    "ReadOnlyIndex",
    "connect_readonly",
    "physical_memory",
    "snapshot_of",
]

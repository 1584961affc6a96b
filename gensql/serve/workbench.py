"""The data side of the web workbench: the current snapshot's connections, the read-only SQL console, texts read safely."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from .. import layout
from ..catalog import define_views, describe_views, lock_file_access
from ..errors import IndexNotFoundError, InvalidIdError, QueryError
from ..index import acquire_lease, current_snapshot, hold_lease
from ..safeio import read_file, store_roots

#: Rows the SQL console returns at most (the page says when a result was cut).
CONSOLE_ROW_CAP = 5000
#: Seconds a console query may run before it is interrupted.
CONSOLE_TIME_LIMIT = 5.0
#: Characters of one text shown on a page (the rest is behind the file's size).
TEXT_SHOW_CHARS = 200_000
#: Statement types the console runs: reading only.
_READ_ONLY_STATEMENTS = {"SELECT", "EXPLAIN"}


class NoIndexError(IndexNotFoundError):
    """No index snapshot yet: the workbench shows how to make one."""


@dataclass
class _Open:
    snapshot_id: str
    snapshot_path: Path
    info: dict
    link: str  # where index/current pointed when this snapshot was opened
    con: duckdb.DuckDBPyConnection  # pages: every view, file access locked to the snapshot's tables
    console: duckdb.DuckDBPyConnection | None = None  # the SQL console: a database of its own, same views, same lock
    schema: pa.Table | None = None
    cache: dict = field(default_factory=dict)


class Workbench:
    """One store's index as the web pages read it; follows ``index/current`` to each new snapshot.

    Nothing here writes: connections are in-memory DuckDB databases whose only readable files are the
    snapshot's Parquet tables (``enable_external_access = false``, configuration locked), texts are
    read with :mod:`gensql.safeio`'s rules from inside the store.
    """

    def __init__(self, data_root: str | os.PathLike | None = None, index_dir: str | os.PathLike | None = None):
        where = layout.resolve(data_root, index_dir)
        self.data_root = where.data_root
        self.index_dir = where.index_dir
        self._lock = threading.Lock()
        self._open: _Open | None = None
        self._previous: _Open | None = None
        #: Functions ``f(workbench)`` run in a background thread each time a new snapshot is opened, so
        #: the first visitor of a page finds its per-snapshot facts already computed.
        self.warmers: list = []
        #: Set when the current snapshot's warmers have finished (benchmarks wait for it).
        self.warm_done = threading.Event()
        self._warm_thread: threading.Thread | None = None
        self._warm_cursor: duckdb.DuckDBPyConnection | None = None
        self._stopping = False

    # -- snapshot tracking -------------------------------------------------------------------------

    def current(self) -> _Open:
        """The open current snapshot, reopened when a refresh swapped in a new one."""
        opened = self._open
        if opened is not None:
            try:  # one readlink per call: the snapshot's info is parsed only when the link moved
                if os.readlink(self.index_dir / layout.INDEX_CURRENT_LINK) == opened.link:
                    return opened
            except OSError:
                pass
        snap = current_snapshot(self.index_dir)
        if snap is None:
            raise NoIndexError(
                f"no index at {self.index_dir} yet: run `gensql refresh --data-root {self.data_root}` "
                "(this page follows the new index as soon as it exists, no restart needed)"
            )
        opened = self._open
        if opened is not None and opened.snapshot_id == snap.id:
            return opened
        with self._lock:
            if self._open is not None and self._open.snapshot_id == snap.id:
                return self._open
            new = self._connect()
            # keep the previous snapshot open until the next switch, so requests running on it finish
            if self._previous is not None:
                _close(self._previous)
            self._previous, self._open = self._open, new
        self.warm_done.clear()
        if self.warmers and not self._stopping:
            self._warm_thread = threading.Thread(target=self._warm, args=(new,), daemon=True, name="gensql-serve-warm")
            self._warm_thread.start()
        return new

    def _warm(self, opened: _Open) -> None:
        for warm in self.warmers:
            if self._open is not opened or self._stopping:
                return  # a newer snapshot came in meanwhile, or the server stops
            try:
                warm(self)
            except Exception:  # noqa: BLE001 - warming is best effort: the page computes it when asked
                pass
        if self._open is opened:
            self.warm_done.set()

    def _connect(self) -> _Open:
        try:
            link = os.readlink(self.index_dir / layout.INDEX_CURRENT_LINK)
        except OSError:
            link = ""
        snap, lease = acquire_lease(self.index_dir)
        try:
            con = _open_locked(snap.path)
        except duckdb.Error as exc:
            os.close(lease)
            raise IndexNotFoundError(
                f"the index snapshot {snap.path} cannot be read ({exc}): run `gensql refresh --full`"
            ) from None
        if snap.path.name not in link:  # moved between the readlink and the lease: check again next time
            link = ""
        opened = _Open(snap.id, snap.path, snap.info, link, con)
        hold_lease(opened, lease)  # refresh keeps this snapshot while it is open here
        return opened

    def console_connection(self, opened: _Open) -> duckdb.DuckDBPyConnection:
        """The SQL console's database for ``opened`` (made on first use: a database of its own, same views, same lock)."""
        if opened.console is None:
            with self._lock:
                if opened.console is None:
                    try:
                        opened.console = _open_locked(opened.snapshot_path)
                    except duckdb.Error as exc:
                        raise QueryError(f"the index snapshot cannot be read ({exc})") from None
        return opened.console

    def close(self) -> None:
        """Stop the background warm-up (interrupting its query) and close every connection."""
        self._stopping = True
        thread, cursor = self._warm_thread, self._warm_cursor
        if thread is not None and thread.is_alive():
            if cursor is not None:
                try:
                    cursor.interrupt()
                except duckdb.Error:
                    pass
            thread.join(30)
        for opened in (self._open, self._previous):
            if opened is not None:
                _close(opened)
        self._open = self._previous = None

    # -- queries -----------------------------------------------------------------------------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the current snapshot's page connection (one per request: cursors are not shared)."""
        return self.current().con.cursor()

    def query(self, sql: str, params: dict | None = None) -> pa.Table:
        cur = self.cursor()
        if threading.current_thread() is self._warm_thread:
            self._warm_cursor = cur  # close() interrupts it
        try:
            return (cur.sql(sql, params=params) if params else cur.sql(sql)).to_arrow_table()
        except duckdb.Error as exc:
            raise QueryError(str(exc)) from None
        finally:
            cur.close()

    def execute(self, sql: str) -> None:
        """Run one statement on the page connection (the server's own in-memory lookup tables)."""
        cur = self.cursor()
        if threading.current_thread() is self._warm_thread:
            self._warm_cursor = cur
        try:
            cur.execute(sql)
        except duckdb.Error as exc:
            raise QueryError(str(exc)) from None
        finally:
            cur.close()

    def cached(self, key, compute):
        """``compute()`` once per snapshot and key (facts of a snapshot never change)."""
        opened = self.current()
        if key not in opened.cache:
            value = compute()
            if len(opened.cache) > 512:
                opened.cache.clear()
            opened.cache[key] = value
        return opened.cache[key]

    def schema(self) -> pa.Table:
        opened = self.current()
        if opened.schema is None:
            cur = opened.con.cursor()
            try:
                opened.schema = describe_views(cur)
            finally:
                cur.close()
        return opened.schema

    def console(
        self, sql: str, cap: int = CONSOLE_ROW_CAP, time_limit: float = CONSOLE_TIME_LIMIT
    ) -> tuple[pa.Table, bool, float]:
        """Run one read-only statement in the console: (rows up to ``cap``, whether cut, seconds).

        Only a single SELECT (or EXPLAIN) runs; anything else, a syntax error, a file outside the
        snapshot or a query running past ``time_limit`` is a :class:`QueryError` with DuckDB's words.
        """
        if not sql.strip():
            raise QueryError("empty query")
        try:
            statements = duckdb.extract_statements(sql)
        except duckdb.Error as exc:
            raise QueryError(str(exc)) from None
        if len(statements) != 1:
            raise QueryError(f"one statement at a time, not {len(statements)}")
        kind = statements[0].type.name
        if kind not in _READ_ONLY_STATEMENTS:
            raise QueryError(
                f"the console is read-only: {kind} statements are not run (SELECT, WITH ... SELECT, EXPLAIN)"
            )
        opened = self.current()
        cur = self.console_connection(opened).cursor()
        timer = threading.Timer(time_limit, cur.interrupt)
        started = time.perf_counter()
        timer.start()
        try:
            relation = cur.sql(statements[0].query)
            table = relation.limit(cap + 1).to_arrow_table() if relation is not None else pa.table({})
        except duckdb.InterruptException:
            raise QueryError(f"the query ran longer than {time_limit:g} s and was stopped") from None
        except duckdb.Error as exc:
            if "INTERRUPT" in str(exc).upper():
                raise QueryError(f"the query ran longer than {time_limit:g} s and was stopped") from None
            raise QueryError(str(exc)) from None
        finally:
            timer.cancel()
            cur.close()
        elapsed = time.perf_counter() - started
        cut = table.num_rows > cap
        return (table.slice(0, cap) if cut else table), cut, elapsed

    # -- texts -------------------------------------------------------------------------------------

    def read_text(self, gen_dir: str, file_name: str) -> tuple[str | None, int | None, str | None]:
        """(text, size in bytes, problem) of one text file of a generation directory from the index.

        ``gen_dir`` is the index's ``gens.gen_dir`` (relative to the data root); every part is checked
        to be a plain name, and the file is read only if it resolves inside the store.
        """
        parts = Path(gen_dir).parts
        if not parts or parts[0] not in layout.STORE_ROOTS:
            raise InvalidIdError(f"generation directory {gen_dir!r} is not inside the store")
        for part in parts:
            layout.check_name(part, "path part")
        if file_name not in layout.TEXT_FILES:
            raise InvalidIdError(f"unknown text file {file_name!r}")
        path = self.data_root.joinpath(*parts, file_name)
        try:
            data, st = read_file(str(path), store_roots(self.data_root))
        except FileNotFoundError:
            return None, None, None
        except OSError as exc:
            return None, None, f"{file_name}: cannot read: {getattr(exc, 'strerror', None) or exc}"
        text = data[: TEXT_SHOW_CHARS * 4].decode("utf-8", errors="replace")
        return text[:TEXT_SHOW_CHARS], st.st_size, None


def _open_locked(snapshot_path: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory database with every view over the snapshot, then locked to its tables (nothing else readable)."""
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        define_views(con, snapshot_path)
        lock_file_access(con, snapshot_path)
    except duckdb.Error:
        con.close()
        raise
    return con


def _close(opened: _Open) -> None:
    for con in (opened.con, opened.console):
        if con is None:
            continue
        try:
            con.close()
        except duckdb.Error:
            pass


__all__ = ["CONSOLE_ROW_CAP", "CONSOLE_TIME_LIMIT", "NoIndexError", "Workbench"]

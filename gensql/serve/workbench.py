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
from ..query import check_sql
from ..readonly import LOCKED, NO_FILE_ACCESS, READ_ONLY, Limits, ReadOnlyIndex, physical_memory
from ..render import mark_json_columns
from ..safeio import read_file, store_roots

#: Rows of a console result fetched at most: the page shows the first CONSOLE_SHOW_ROWS, downloads all of them.
CONSOLE_ROW_CAP = 100_000
#: Bytes (Arrow) of a console result fetched at most; a bigger result is cut, and its downloads refused.
CONSOLE_BYTE_CAP = 64 * 1024 * 1024
#: Rows of a console result rendered on the page.
CONSOLE_SHOW_ROWS = 500
#: Seconds a console query may run before it is interrupted.
CONSOLE_TIME_LIMIT = 5.0
#: Console queries running at once; more wait (up to the time limit) for a turn.
CONSOLE_CONCURRENCY = 2
#: Environment variables that change the console's memory cap (DuckDB size, e.g. ``2GB``) and threads.
CONSOLE_MEMORY_ENV = "GENSQL_CONSOLE_MEMORY_LIMIT"
CONSOLE_THREADS_ENV = "GENSQL_CONSOLE_THREADS"
#: Characters of one text shown on a page (the rest is behind the file's size).
TEXT_SHOW_CHARS = 200_000


def console_limits() -> Limits:
    """The console's caps: a quarter of the machine's RAM (at least 256 MB) and half its cores (1 to 4),
    unless ``$GENSQL_CONSOLE_MEMORY_LIMIT`` / ``$GENSQL_CONSOLE_THREADS`` say otherwise. It never spills to disk."""
    memory = os.environ.get(CONSOLE_MEMORY_ENV) or f"{max(256, physical_memory() // 4 // 2**20)}MB"
    threads = os.environ.get(CONSOLE_THREADS_ENV)
    return Limits(
        memory_limit=memory,
        threads=int(threads) if threads and threads.isdigit() else max(1, min(4, (os.cpu_count() or 2) // 2)),
        spill=False,
    )


@dataclass
class ConsoleResult:
    """What one console query gave: its rows (up to the caps), whether they were cut, and its time."""

    table: pa.Table
    cut: bool  # more rows (or bytes) than the caps: ``table`` has the first ones
    elapsed: float


class NoIndexError(IndexNotFoundError):
    """No index snapshot yet: the workbench shows how to make one."""


@dataclass
class _Open:
    snapshot_id: str
    snapshot_path: Path
    info: dict
    link: str  # where index/current pointed when this snapshot was opened
    con: duckdb.DuckDBPyConnection  # pages: every view, file access locked to the snapshot's tables
    console: ReadOnlyIndex | None = None  # the SQL console's read-only database (gensql.readonly)
    schema: pa.Table | None = None
    cache: dict = field(default_factory=dict)


class Workbench:
    """One store's index as the web pages read it; follows ``index/current`` to each new snapshot.

    Nothing here writes: connections are in-memory DuckDB databases whose only readable files are the
    snapshot's Parquet tables (``enable_external_access = false``, configuration locked), texts are
    read with :mod:`gensql.safeio`'s rules from inside the store.
    """

    def __init__(
        self,
        data_root: str | os.PathLike | None = None,
        index_dir: str | os.PathLike | None = None,
        limits: Limits | None = None,
    ):
        where = layout.resolve(data_root, index_dir)
        self.limits = limits or console_limits()
        self._console_turns = threading.BoundedSemaphore(CONSOLE_CONCURRENCY)
        #: Console queries running now (their cursors): close() and interrupt_console() stop them.
        self.console_running: set[duckdb.DuckDBPyConnection] = set()
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

    def console_connection(self, opened: _Open) -> ReadOnlyIndex:
        """The SQL console's read-only database for ``opened`` (made on first use; :mod:`gensql.readonly`)."""
        if opened.console is None:
            with self._lock:
                if opened.console is None:
                    try:
                        opened.console = ReadOnlyIndex(opened.snapshot_path, self.limits)
                    except (duckdb.Error, OSError) as exc:
                        raise QueryError(f"the index snapshot cannot be read ({exc})") from None
        return opened.console

    def interrupt_console(self) -> None:
        """Stop every console query running now (each answers that it was interrupted)."""
        for cur in list(self.console_running):
            try:
                cur.interrupt()
            except duckdb.Error:
                pass

    def close(self) -> None:
        """Stop the background warm-up (interrupting its query) and close every connection."""
        self._stopping = True
        self.interrupt_console()
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
        self,
        sql: str,
        params: dict | None = None,
        max_rows: int = CONSOLE_ROW_CAP,
        max_bytes: int = CONSOLE_BYTE_CAP,
        time_limit: float = CONSOLE_TIME_LIMIT,
    ) -> ConsoleResult:
        """Run SQL typed into the console, with ``params`` bound, on a connection that cannot write.

        Safety does not come from looking at the statement: each call gets its own connection on the
        snapshot's read-only database (:class:`~gensql.readonly.ReadOnlyIndex`: no file access, read-only
        catalog, locked settings, memory and thread caps shared by every console query). The query is
        interrupted after ``time_limit`` seconds, and at most ``max_rows`` rows / ``max_bytes`` bytes are
        fetched. Any failure is a :class:`QueryError` with DuckDB's words.
        """
        check_sql(sql, params, how="p.{}=VALUE in the URL")
        if not self._console_turns.acquire(timeout=time_limit):
            raise QueryError(
                f"the console is busy: {CONSOLE_CONCURRENCY} queries are running; try again when one finishes"
            )
        try:
            opened = self.current()
            cur = self.console_connection(opened).cursor()
            stopped = threading.Event()

            def stop() -> None:
                stopped.set()
                cur.interrupt()

            timer = threading.Timer(time_limit, stop)
            started = time.perf_counter()
            timer.start()
            self.console_running.add(cur)
            try:
                table, cut = _fetch(cur, sql, params, max_rows, max_bytes)
            except duckdb.Error as exc:
                if isinstance(exc, duckdb.InterruptException) and not stopped.is_set():
                    raise QueryError("the query was interrupted (the server is stopping)") from None
                if stopped.is_set():
                    raise QueryError(
                        f"the query was stopped after {time_limit:g} s (the console's time limit): "
                        "narrow it, or run it with `gensql sql`"
                    ) from None
                message = str(exc)
                if any(words in message for words in (NO_FILE_ACCESS, READ_ONLY, LOCKED)):
                    message += " (the console is read-only: it reads the index and nothing else)"
                raise QueryError(message) from None
            finally:
                self.console_running.discard(cur)
                timer.cancel()
                cur.close()
            return ConsoleResult(table, cut, time.perf_counter() - started)
        finally:
            self._console_turns.release()

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


#: Rows per Arrow batch fetched from a console query: small, so that one batch of huge values stays
#: near the byte cap (500 values of 1 MB came as one 500 MB batch at 1,024 rows a batch).
FETCH_BATCH_ROWS = 64


def _fetch(
    cur: duckdb.DuckDBPyConnection, sql: str, params: dict | None, max_rows: int, max_bytes: int
) -> tuple[pa.Table, bool]:
    """The result of ``sql`` as Arrow, fetched batch by batch, stopping at ``max_rows`` rows or
    ``max_bytes`` bytes (of the batch that crosses the byte cap, the rows that fit are kept)."""
    relation = cur.sql(sql, params=params) if params else cur.sql(sql)
    if relation is None:
        return pa.table({}), False
    types = relation.types
    reader = relation.to_arrow_reader(FETCH_BATCH_ROWS)
    batches: list[pa.RecordBatch] = []
    rows, size, cut = 0, 0, False
    for batch in reader:
        if size + batch.nbytes > max_bytes:
            # keep the rows of this batch that fit (by its mean row size), at least one row in all
            fit = int((max_bytes - size) / (batch.nbytes / max(batch.num_rows, 1)))
            fit = max(fit, 0 if batches else 1)
            if fit:
                batches.append(batch.slice(0, fit))
                rows += fit
            cut = True
            break
        batches.append(batch)
        rows += batch.num_rows
        size += batch.nbytes
        if rows > max_rows or size > max_bytes:
            cut = True
            break
    table = pa.Table.from_batches(batches, schema=reader.schema)
    if rows > max_rows:
        table = table.slice(0, max_rows)
    return mark_json_columns(table, types), cut


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
    try:
        opened.con.close()
    except duckdb.Error:
        pass
    if opened.console is not None:
        opened.console.close()


__all__ = [
    "CONSOLE_BYTE_CAP",
    "CONSOLE_ROW_CAP",
    "CONSOLE_SHOW_ROWS",
    "CONSOLE_TIME_LIMIT",
    "ConsoleResult",
    "NoIndexError",
    "Workbench",
    "console_limits",
]

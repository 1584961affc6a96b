"""DuckDB views over one index snapshot, defined from the ``.sql`` files in ``gensql/views/``.

The same DDL builds the views of :func:`gensql.connect` (an in-memory connection) and of the catalog
file each refresh writes into its snapshot (``<index>/current/gensql.duckdb``), which any DuckDB
client can open without Python. View files run in name order; each opens with a comment saying what a
row is and what each column means.

The base relations ``_gens``, ``_membership``, ``_scan_errors`` and ``_texts`` read the snapshot's
Parquet files (``gens`` and ``texts`` hive-partitioned by stage: docs/index-layout.md).
DuckDB does not accept bound parameters in view definitions, so the file paths (written by gensql
itself, never user input) are embedded as string literals through :func:`sql_string`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from importlib import resources
from pathlib import Path

import duckdb

from . import layout

BASE_TABLES: tuple[str, ...] = ("gens", "membership", "scan_errors", "texts")


def sql_string(text: str) -> str:
    """A SQL string literal for ``text`` (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def view_files() -> list[tuple[str, str]]:
    """``(file name, SQL)`` of every view file, in the order they must run."""
    folder = resources.files("gensql") / "views"
    return sorted((f.name, f.read_text(encoding="utf-8")) for f in folder.iterdir() if f.name.endswith(".sql"))


def base_relation(snapshot_path: Path, table: str) -> str:
    """The relation that reads one table of a snapshot (docs/index-layout.md).

    A partitioned table is every ``<table>/stage=<stage>/*.parquet`` file, read with hive partitioning:
    ``stage`` is in the directory names only (:mod:`gensql.partitions`), and a filter on it opens only
    that stage's files. The select puts it back after ``gen_id``, its place in the table's schema.
    """
    path = snapshot_path / layout.TABLE_FILES[table]
    if table in layout.PARTITIONED_TABLES:
        glob = sql_string(str(path / "stage=*" / "*.parquet"))
        return (
            f"(SELECT gen_id, stage, * EXCLUDE (gen_id, stage) FROM read_parquet({glob}, hive_partitioning = true,"
            " hive_types = {'stage': VARCHAR}))"
        )
    return f"read_parquet({sql_string(str(path))})"


def _define_base_relations(con: duckdb.DuckDBPyConnection, snapshot_path: Path) -> None:
    for table in BASE_TABLES:
        con.execute(f"CREATE OR REPLACE VIEW _{table} AS SELECT * FROM {base_relation(snapshot_path, table)}")


def define_views(con: duckdb.DuckDBPyConnection, snapshot_path: Path) -> None:
    """Create the base relations over ``snapshot_path`` and every gensql view on ``con``.

    DuckDB binds a view when it is created, reading the Parquet footers of every file it touches;
    views over views would re-read the same footers dozens of times, so the connection caches
    Parquet metadata (snapshot files never change, so the cache cannot go stale).
    """
    con.execute("SET parquet_metadata_cache = true")
    _define_base_relations(con, snapshot_path)
    for name, sql in view_files():
        try:
            con.execute(sql)
        except duckdb.Error as exc:
            raise duckdb.Error(f"gensql/views/{name}: {exc}") from exc


def views_digest() -> str:
    """A fingerprint of every view file: two catalogs with the same one differ only in their paths."""
    h = hashlib.sha256()
    for name, sql in view_files():
        h.update(name.encode() + b"\0" + sql.encode() + b"\0")
    return h.hexdigest()


def write_catalog(snapshot_path: Path, previous: Path | None = None) -> Path:
    """Write the catalog database (views only) into a finished snapshot directory.

    Called by refresh after the snapshot has its final name and before it becomes current, because
    DuckDB checks a view's files when the view is created. ``previous`` is the previous snapshot's
    catalog when it holds the same views (same :func:`views_digest`): a copy of it needs only its base
    relations pointed at this snapshot, a third of the time of binding every view afresh, which
    matters to a watcher committing a snapshot per update. DuckDB binds the other views when
    they are queried, so they read this snapshot's files.
    """
    target = snapshot_path / layout.INDEX_CATALOG_FILE
    tmp = snapshot_path / (layout.INDEX_CATALOG_FILE + ".tmp")
    if previous is not None:
        try:
            shutil.copyfile(previous, tmp)
            _fill_catalog(tmp, target, lambda con: _define_base_relations(con, snapshot_path))
            return target
        except (OSError, duckdb.Error):
            tmp.unlink(missing_ok=True)  # an unreadable previous catalog: build this one from the view files
    _fill_catalog(tmp, target, lambda con: define_views(con, snapshot_path))
    return target


def _fill_catalog(tmp: Path, target: Path, define) -> None:
    """Open the database file ``tmp``, run ``define(con)``, checkpoint, and move it to ``target``."""
    con = duckdb.connect(str(tmp))
    try:
        define(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, target)


def connect(
    data_root: str | os.PathLike | None = None, index_dir: str | os.PathLike | None = None, *, file_access: bool = True
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with every gensql view over the current index snapshot.

    The snapshot is resolved once: every view of this connection reads the same complete index, even
    while a refresh swaps in a new one, and refresh keeps that snapshot while the connection is alive
    (a reader lease). With ``file_access=False`` it is :func:`gensql.readonly.connect_readonly`'s
    connection instead, which can read the index and nothing else: what named queries run on. Raises :class:`~gensql.errors.IndexNotFoundError` when no
    index exists yet. Issues a :class:`~gensql.staleness.StaleIndexWarning` (with the snapshot's time)
    when a stage directory or cohort file of the store changed after the snapshot was taken.
    """
    if not file_access:
        from .readonly import connect_readonly

        return connect_readonly(data_root, index_dir)
    from .errors import IndexNotFoundError
    from .index import acquire_lease, hold_lease

    where = layout.resolve(data_root, index_dir)
    snap, lease = acquire_lease(where.index_dir)
    con = duckdb.connect()
    hold_lease(con, lease)  # refresh keeps this snapshot while the connection lives
    try:
        define_views(con, snap.path)
    except duckdb.Error as exc:
        con.close()
        raise IndexNotFoundError(
            f"the index snapshot {snap.path} cannot be read ({exc}): run `gensql refresh --full`"
        ) from None
    from .staleness import warn_if_stale

    warn_if_stale(where.data_root, snap.id, snap.info)  # a StaleIndexWarning when the store changed since
    return con


def lock_file_access(con: duckdb.DuckDBPyConnection, snapshot_path: Path) -> None:
    """Let ``con`` read the snapshot's tables and no other file, and lock the settings.

    For gensql's own SQL only (the web pages): DuckDB lets an allowed directory be written too (a
    ``COPY ... TO`` onto a partition file), so user SQL runs on :mod:`gensql.readonly` instead.
    """
    files = [str(snapshot_path / layout.TABLE_FILES[t]) for t in BASE_TABLES if t not in layout.PARTITIONED_TABLES]
    folders = [str(snapshot_path / layout.TABLE_FILES[t]) + "/" for t in BASE_TABLES if t in layout.PARTITIONED_TABLES]
    con.execute("SET allowed_paths = ?", [files])
    con.execute("SET allowed_directories = ?", [folders])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def describe_views(con: duckdb.DuckDBPyConnection, names=None):
    """One row per public view column: view, column, type; table macros appear as ``name(params)``.

    Views and macros whose name starts with '_' are internal and not listed. ``names``: only these
    views and macros (an unknown name is a :class:`~gensql.errors.QueryInputError` naming the closest).
    """
    import pyarrow as pa

    views = con.sql(
        """
        SELECT table_name AS view, column_name AS column, data_type AS type
        FROM information_schema.columns
        WHERE table_schema = 'main' AND NOT starts_with(table_name, '_')
          AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_type = 'VIEW')
        ORDER BY table_name, ordinal_position
        """
    ).to_arrow_table()
    macros = con.sql(
        """
        SELECT function_name, parameters FROM duckdb_functions()
        WHERE function_type = 'table_macro' AND NOT internal AND schema_name = 'main'
          AND NOT starts_with(function_name, '_')
        ORDER BY function_name
        """
    ).fetchall()
    rows: dict[str, list] = {"view": [], "column": [], "type": []}
    for name, params in macros:
        nulls = ", ".join("NULL" for _ in params)
        for column, type_, *_ in con.sql(f'DESCRIBE SELECT * FROM "{name}"({nulls})').fetchall():
            rows["view"].append(f"{name}({', '.join(params)})")
            rows["column"].append(column)
            rows["type"].append(type_)
    table = pa.concat_tables([views, pa.table(rows, schema=views.schema)])
    if not names:
        return table
    import difflib

    import pyarrow.compute as pc

    from .errors import QueryInputError

    bare = [v.split("(", 1)[0] for v in table.column("view").to_pylist()]
    unknown = [n for n in names if n not in bare]
    if unknown:
        near = difflib.get_close_matches(unknown[0], sorted(set(bare)), n=3)
        raise QueryInputError(
            f"no view {unknown[0]!r}"
            + (f" (closest: {', '.join(near)})" if near else "")
            + ": `gensql views` lists them"
        )
    return table.filter(pc.is_in(pa.array(bare), pa.array(list(names))))

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
import re
import shutil
import stat
from collections.abc import Callable
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


#: The DuckDB storage format of the catalog file: the oldest that holds every view, so that the DuckDB
#: 1.x CLIs and drivers people have installed open it (DuckDB 2.0 writes version 69 by default, which
#: 1.x refuses). ``tests/test_catalog.py`` opens the catalog with a 1.x CLI.
CATALOG_STORAGE_VERSION = "v1.0.0"
#: Write bits a catalog file never has: nobody writes into it (open it with ``duckdb -readonly``); its
#: read bits follow the store's umask (0444 in a shared store, 0400 in a private one).
CATALOG_WRITE_BITS = 0o222


def base_relation(snapshot_path: Path, table: str, *, portable: bool = False) -> str:
    """The relation that reads one table of a snapshot (docs/index-layout.md).

    A partitioned table is every ``<table>/stage=<stage>/*.parquet`` file, read with hive partitioning:
    ``stage`` is in the directory names only (:mod:`gensql.partitions`), and a filter on it opens only
    that stage's files. The select puts it back after ``gen_id``, its place in the table's schema.

    ``portable`` (the catalog file): the path is relative to the snapshot directory when the reader
    set DuckDB's ``file_search_path`` (to the directory of ``gensql.duckdb``: a copied or moved store
    reads its own files), else absolute (the store where refresh wrote it, from any working directory).
    """
    rel = layout.TABLE_FILES[table]
    if table in layout.PARTITIONED_TABLES:
        rel = f"{rel}/stage=*/*.parquet"
    if portable:
        here = sql_string(str(snapshot_path) + "/")
        path = f"CASE WHEN current_setting('file_search_path') = '' THEN {here} ELSE '' END || {sql_string(rel)}"
    else:
        path = sql_string(str(snapshot_path / rel))
    if table in layout.PARTITIONED_TABLES:
        return (
            f"(SELECT gen_id, stage, * EXCLUDE (gen_id, stage) FROM read_parquet({path}, hive_partitioning = true,"
            " hive_types = {'stage': VARCHAR}))"
        )
    return f"read_parquet({path})"


def _in_place_guard(snapshot_path: Path) -> str:
    """A WHERE clause that fails with one line when the catalog file is read from another place than the
    index refresh wrote it into (a copied or moved store), unless ``file_search_path`` is set: the
    absolute paths would read the original store's files (a copy) or none (a move)."""
    index_dir = sql_string(str(snapshot_path.parent.parent) + "/")
    message = sql_string(
        f"gensql.duckdb was written for the index at {snapshot_path.parent.parent} and is read from elsewhere "
        "(a copied or moved store): run `gensql refresh` in the new place, or SET file_search_path to the "
        "directory of this gensql.duckdb"
    )
    return (
        "WHERE CASE WHEN current_setting('file_search_path') <> '' OR (SELECT bool_or(starts_with(path, "
        f"{index_dir})) FROM duckdb_databases()) THEN true ELSE error({message}) END"
    )


def _define_base_relations(con: duckdb.DuckDBPyConnection, snapshot_path: Path, *, portable: bool = False) -> None:
    for table in BASE_TABLES:
        guard = _in_place_guard(snapshot_path) if portable else ""
        relation = base_relation(snapshot_path, table, portable=portable)
        con.execute(f"CREATE OR REPLACE VIEW _{table} AS SELECT * FROM {relation} {guard}")


def define_views(con: duckdb.DuckDBPyConnection, snapshot_path: Path, *, portable: bool = False) -> None:
    """Create the base relations over ``snapshot_path`` and every gensql view on ``con``.

    DuckDB binds a view when it is created, reading the Parquet footers of every file it touches;
    views over views would re-read the same footers dozens of times, so the connection caches
    Parquet metadata (snapshot files never change, so the cache cannot go stale). ``portable``: the
    base relations of the catalog file (:func:`base_relation`).
    """
    con.execute("SET parquet_metadata_cache = true")
    _define_base_relations(con, snapshot_path, portable=portable)
    for name, sql in view_files():
        try:
            con.execute(sql)
        except duckdb.Error as exc:
            raise duckdb.Error(f"gensql/views/{name}: {exc}") from exc


_CREATED = re.compile(r"^CREATE\s+OR\s+REPLACE\s+(?:VIEW|MACRO)\s+(\w+)", re.IGNORECASE | re.MULTILINE)


def own_objects() -> frozenset[str]:
    """Names of every view and macro gensql creates in a catalog (the base relations and the view files)."""
    names = {f"_{t}" for t in BASE_TABLES}
    for _name, sql in view_files():
        names.update(m.group(1) for m in _CREATED.finditer(sql))
    return frozenset(names)


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
    they are queried, so they read this snapshot's files. Anything else in the copy (a table a client
    created in the previous catalog) is dropped: only gensql's own views and macros go on.

    The file is in DuckDB storage :data:`CATALOG_STORAGE_VERSION` (DuckDB 1.x opens it) and read-only
    (no write bit: :data:`CATALOG_WRITE_BITS`).
    """
    target = snapshot_path / layout.INDEX_CATALOG_FILE
    tmp = snapshot_path / (layout.INDEX_CATALOG_FILE + ".tmp")
    if previous is not None:
        try:
            shutil.copyfile(previous, tmp)
            os.chmod(tmp, stat.S_IMODE(os.stat(tmp).st_mode) | stat.S_IWUSR)  # copyfile kept no mode; to be sure

            def repoint(con: duckdb.DuckDBPyConnection) -> None:
                _drop_foreign_objects(con)
                _define_base_relations(con, snapshot_path, portable=True)

            _fill_catalog(tmp, target, repoint)
            return target
        except (OSError, duckdb.Error):
            tmp.unlink(missing_ok=True)  # an unreadable previous catalog: build this one from the view files
    tmp.unlink(missing_ok=True)
    _fill_catalog(tmp, target, lambda con: define_views(con, snapshot_path, portable=True))
    return target


def _drop_foreign_objects(con: duckdb.DuckDBPyConnection) -> None:
    """Drop from the attached catalog ``cat`` every object gensql did not create there."""
    own = own_objects()
    drops = []
    for kind, sql in (
        ("VIEW", "SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = 'cat' AND NOT internal"),
        ("TABLE", "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'cat'"),
        ("SEQUENCE", "SELECT schema_name, sequence_name FROM duckdb_sequences() WHERE database_name = 'cat'"),
        ("TYPE", "SELECT schema_name, type_name FROM duckdb_types() WHERE database_name = 'cat' AND NOT internal"),
        (
            "MACRO",
            "SELECT schema_name, function_name FROM duckdb_functions() WHERE database_name = 'cat' AND NOT internal"
            " AND function_type = 'macro'",
        ),
        (
            "MACRO TABLE",
            "SELECT schema_name, function_name FROM duckdb_functions() WHERE database_name = 'cat' AND NOT internal"
            " AND function_type = 'table_macro'",
        ),
    ):
        for schema, name in con.execute(sql).fetchall():
            if not (schema == "main" and name in own):
                drops.append(f"DROP {kind} IF EXISTS cat.{_ident(schema)}.{_ident(name)} CASCADE")
    schemas = con.execute(
        "SELECT schema_name FROM duckdb_schemas() WHERE database_name = 'cat' AND NOT internal AND schema_name <> 'main'"
    ).fetchall()
    drops += [f"DROP SCHEMA IF EXISTS cat.{_ident(s)} CASCADE" for (s,) in schemas]
    for sql in drops:
        con.execute(sql)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _fill_catalog(tmp: Path, target: Path, define: Callable[[duckdb.DuckDBPyConnection], None]) -> None:
    """Attach the database file ``tmp`` (created in :data:`CATALOG_STORAGE_VERSION` when new), run
    ``define(con)`` in it, checkpoint, make it read-only and move it to ``target``."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {sql_string(str(tmp))} AS cat (STORAGE_VERSION {sql_string(CATALOG_STORAGE_VERSION)})")
        con.execute("USE cat")
        define(con)
        con.execute("CHECKPOINT cat")
        con.execute("USE memory")
        con.execute("DETACH cat")
    finally:
        con.close()
    os.chmod(tmp, stat.S_IMODE(os.stat(tmp).st_mode) & ~CATALOG_WRITE_BITS)
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

"""The DuckDB connection a report reads, and the id of the index snapshot behind it."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TypeAlias

import duckdb

from ..layout import INDEX_SNAPSHOTS_DIR

#: What a report reads: a data root (None: ``$GENSQL_DATA_ROOT``, else ``./data``, as the CLI) or a
#: connection from :func:`gensql.connect` (its snapshot, its views).
DataRoot: TypeAlias = "str | os.PathLike[str] | duckdb.DuckDBPyConnection | None"


def connection(data_root: DataRoot, index_dir: str | os.PathLike[str] | None) -> duckdb.DuckDBPyConnection:
    """``data_root`` itself when it is a connection, else ``gensql.connect(data_root, index_dir)``."""
    if isinstance(data_root, duckdb.DuckDBPyConnection):
        return data_root
    from ..catalog import connect

    con = connect(data_root, index_dir)
    con.execute("SET enable_progress_bar = false")  # our connection: no progress bar mixed into output
    return con


_PARQUET_PATH = re.compile(r"read_parquet\('((?:[^']|'')*)'")


def snapshot_id(con: duckdb.DuckDBPyConnection) -> str | None:
    """Id of the snapshot a gensql connection reads (the directory its ``_membership`` view reads: an unpartitioned file)."""
    rows = con.sql("SELECT sql FROM duckdb_views() WHERE view_name = '_membership'").fetchall()
    if not rows:
        return None
    found = _PARQUET_PATH.search(rows[0][0] or "")
    if not found:
        return None
    path = Path(found.group(1).replace("''", "'"))
    # <index>/snapshots/<id>/gens.parquet, or partitioned: <index>/snapshots/<id>/gens/stage=*/*.parquet
    parts = path.parts
    if INDEX_SNAPSHOTS_DIR in parts[:-1]:
        return parts[len(parts) - 1 - parts[::-1].index(INDEX_SNAPSHOTS_DIR) + 1]
    return path.parent.name

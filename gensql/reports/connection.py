"""The DuckDB connection a report reads, and the id of the index snapshot behind it."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb


def connection(con_or_root, index_dir) -> duckdb.DuckDBPyConnection:
    if isinstance(con_or_root, duckdb.DuckDBPyConnection):
        return con_or_root
    from ..catalog import connect

    con = connect(con_or_root, index_dir)
    con.execute("SET enable_progress_bar = false")  # our connection: no progress bar mixed into output
    return con


_PARQUET_PATH = re.compile(r"read_parquet\('((?:[^']|'')*)'\)")


def snapshot_id(con: duckdb.DuckDBPyConnection) -> str | None:
    """Id of the snapshot a gensql connection reads (the directory its ``_membership`` view reads: an unpartitioned file)."""
    rows = con.sql("SELECT sql FROM duckdb_views() WHERE view_name = '_membership'").fetchall()
    if not rows:
        return None
    found = _PARQUET_PATH.search(rows[0][0] or "")
    return Path(found.group(1).replace("''", "'")).parent.name if found else None


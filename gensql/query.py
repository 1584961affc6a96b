"""Running SQL and named queries against a gensql connection.

A named query is a ``.sql`` file: its first comment line is its description, and ``$name``
placeholders are parameters, always bound by DuckDB (never formatted into the text). Named queries are
looked up in ``--queries-dir``, then ``$GENSQL_QUERIES_DIR``, then ``./queries``, then the ones shipped
with gensql.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa

from .errors import QueryError, QueryInputError
from .readonly import LOCKED, NO_FILE_ACCESS, READ_ONLY, snapshot_of
from .safeio import read_file

QUERIES_DIR_ENV = "GENSQL_QUERIES_DIR"
_PARAM = re.compile(r"(?<![:$\w])\$([A-Za-z_]\w*)")
#: String literals, quoted identifiers and comments: a ``$name`` inside them is no parameter.
_NOT_CODE = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)


_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


class ShadowedQueryWarning(UserWarning):
    """A user's named query replaces a shipped one of the same name (the CLI prints it on stderr)."""


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    sql: str
    params: tuple[str, ...]
    source: str
    shadows: str | None = None  # the source of the query this one replaces


def check_sql(sql: str, params: dict | list | None = None, how: str = "--param {}=VALUE") -> None:
    """Raise :class:`QueryInputError` for SQL that is empty or has a ``$name`` with no value in ``params``.

    ``how`` says how to give a value (``{}`` is the name): ``--param {}=VALUE`` on the command line.
    """
    if not _COMMENTS.sub(" ", sql).strip(" \t\r\n;"):
        raise QueryInputError("the SQL is empty (nothing but whitespace, comments or semicolons): give a statement")
    if not isinstance(params, (list, tuple)):
        unbound = [p for p in dict.fromkeys(_PARAM.findall(_NOT_CODE.sub(" ", sql))) if p not in (params or {})]
        if unbound:
            raise QueryInputError(
                f"no value for parameter {', '.join('$' + p for p in unbound)}: bind it with "
                + " ".join(how.format(p) for p in unbound)
            )


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: dict | list | None = None) -> pa.Table:
    """Run one SQL statement (parameters bound) and return its result as an Arrow table."""
    check_sql(sql, params)
    try:
        relation = con.sql(sql, params=params) if params else con.sql(sql)
        if relation is None:
            return pa.table({})
        from .render import mark_json_columns

        return mark_json_columns(relation.to_arrow_table(), relation.types)
    except duckdb.Error as exc:
        gone = _snapshot_gone(con)
        if gone:
            raise QueryError(
                f"the index snapshot this connection reads ({gone}) was removed (by a later refresh or by hand): "
                "reconnect (gensql.connect(), or run the command again) to read the current index"
            ) from None
        message = _explain(exc)
        if any(words in message for words in (NO_FILE_ACCESS, READ_ONLY, LOCKED)) and snapshot_of(con) is not None:
            message += READ_ONLY_HINT
        raise QueryError(message) from None


def _explain(exc: duckdb.Error) -> str:
    """DuckDB's message, pointing at ``gensql views`` when a name is unknown (not at DuckDB's internals)."""
    text = str(exc)
    if isinstance(exc, duckdb.CatalogException) and "does not exist" in text:
        lines = [line for line in text.splitlines() if "duckdb_" not in line]  # "Did you mean duckdb_views?"
        return " ".join(lines).rstrip() + " (`gensql views` lists the views and their columns)"
    return text


#: Added to DuckDB's words when SQL on a read-only connection (gensql.readonly) tried to change something.
READ_ONLY_HINT = (
    " (this SQL runs read-only: it reads the index and nothing else, CREATE TEMP TABLE/VIEW work;"
    " --allow-file-access gives a connection that can read and write files)"
)

_VIEW_PATH = re.compile(r"read_parquet\('((?:[^']|'')*)'\)")


def _snapshot_gone(con: duckdb.DuckDBPyConnection) -> str | None:
    """The snapshot directory a gensql connection reads, when it no longer exists; else None."""
    readonly = snapshot_of(con)  # a read-only connection says which snapshot it reads
    if readonly is not None:
        return None if Path(readonly).is_dir() else readonly
    try:
        # _membership reads one file in the snapshot directory (_gens a partitioned folder: docs/index-layout.md)
        rows = con.sql("SELECT sql FROM duckdb_views() WHERE view_name = '_membership'").fetchall()
    except duckdb.Error:
        return None
    found = _VIEW_PATH.search(rows[0][0] or "") if rows else None
    if not found:
        return None
    folder = Path(found.group(1).replace("''", "'")).parent
    return None if folder.is_dir() else str(folder)


def _parse(name: str, text: str, source: str) -> NamedQuery:
    description = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("--"):
            description = stripped.lstrip("-").strip()
            break
        if stripped:
            break
    params = tuple(dict.fromkeys(_PARAM.findall(_NOT_CODE.sub(" ", text))))
    return NamedQuery(name, description, text, params, source)


def _search_dirs(queries_dir: str | os.PathLike | None) -> list[Path]:
    dirs = [queries_dir, os.environ.get(QUERIES_DIR_ENV), "queries"]
    return [Path(d) for d in dirs if d and Path(d).is_dir()]


def list_queries(queries_dir: str | os.PathLike | None = None) -> list[NamedQuery]:
    """Every named query visible from here; a user's file shadows a shipped one of the same name."""
    found: dict[str, NamedQuery] = {}
    shipped = resources.files("gensql.queries")
    for entry in shipped.iterdir():
        if entry.name.endswith(".sql"):
            found[entry.name[:-4]] = _parse(entry.name[:-4], entry.read_text(encoding="utf-8"), "gensql")
    shipped_dir = os.path.realpath(str(shipped)) if isinstance(shipped, Path) else None
    for folder in reversed(_search_dirs(queries_dir)):
        if shipped_dir is not None and os.path.realpath(folder) == shipped_dir:
            continue  # the shipped folder itself (a source checkout run from its root): nothing is shadowed
        for path in folder.glob("*.sql"):
            query = _parse(path.stem, read_file(path)[0].decode("utf-8", errors="replace"), str(path))
            replaced = found.get(path.stem)
            if replaced is not None and replaced.sql == query.sql:
                continue  # the same query (a checkout's queries/ beside an installed gensql): nothing shadowed
            if replaced is not None:
                query = replace(query, shadows=replaced.shadows or replaced.source)
            found[path.stem] = query
    return [found[k] for k in sorted(found)]


def shadow_note(query: NamedQuery) -> str:
    return f"named query {query.name!r} from {query.source} shadows the one from {query.shadows}"


def get_query(name: str, queries_dir: str | os.PathLike | None = None) -> NamedQuery:
    for query in list_queries(queries_dir):
        if query.name == name:
            if query.shadows:
                warnings.warn(shadow_note(query), ShadowedQueryWarning, stacklevel=2)
            return query
    names = ", ".join(q.name for q in list_queries(queries_dir))
    raise QueryInputError(f"no named query {name!r}; available: {names} (see `gensql query --list`)")


def run_named(
    con: duckdb.DuckDBPyConnection,
    name: str,
    params: dict[str, str] | None = None,
    queries_dir: str | os.PathLike | None = None,
) -> pa.Table:
    """Run a named query with its ``$name`` parameters bound from ``params``."""
    query = get_query(name, queries_dir)
    params = dict(params or {})
    missing = [p for p in query.params if p not in params]
    unknown = [p for p in params if p not in query.params]
    if missing or unknown:
        detail = []
        if missing:
            detail.append("missing " + ", ".join(f"--param {p}=..." for p in missing))
        if unknown:
            detail.append("unknown " + ", ".join(unknown))
        raise QueryInputError(
            f"query {name!r} takes parameters ({', '.join(query.params) or 'none'}): {'; '.join(detail)}"
        )
    try:
        return run_sql(con, query.sql, {p: params[p] for p in query.params} or None)
    except QueryError as exc:
        if READ_ONLY_HINT in str(exc):
            raise QueryError(f"named query {query.source}: {exc}") from None
        raise

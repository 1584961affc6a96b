"""SQL cells in IPython and Jupyter: ``%load_ext gensql.magic``, then ``%%gsql`` or ``%gsql``.

::

    %load_ext gensql.magic
    %gsql -c con                  # run on the notebook's `con` (e.g. con = gensql.connect(root)),
                                  # looked up at each cell, so a new `con` is used at once
    %gsql ../data                 # or open one on a data root (gensql.connect)
                                  # neither: $GENSQL_DATA_ROOT, when set, as the CLI reads it

    n = %gsql SELECT count(*) FROM gens       # one line of SQL: its result is the value

    %%gsql by_model
    SELECT model_id, sum(completion_tokens) AS completion_tokens
    FROM token_usage
    WHERE day >= $since           -- $since is the notebook variable `since`, bound, never pasted in
    GROUP BY ALL ORDER BY 2 DESC

The cell's SQL runs on the connection and its result is displayed as a table and is the cell's value
(``_`` and ``Out[n]`` hold the polars DataFrame, as after any expression); a name on the magic line
(``%%gsql by_model`` or ``-o by_model``) also stores it in the notebook. ``%gsql SQL`` (a line that
parses as SQL) returns the result, so ``x = %gsql SELECT 42`` works and a bare one displays it.

Options of ``%%gsql``: ``[NAME] [-o NAME] [-c CONNECTION] [-n ROWS] [-q]``: ``-c`` runs this cell on
another connection variable, ``-n`` sets how many rows the table shows (default 50; ``-1``: all),
``-q`` stores without displaying. A cell may hold several statements separated by ``;``: they run
in order and the last one's result is displayed and stored.

Parameters: ``$name`` in the SQL is a DuckDB named parameter, bound to the notebook variable
``name`` (a number, string, date, list, path...). Values are never formatted into the SQL text, so a
value cannot change the query. Positional parameters (``?``, ``$1``) are refused: name them.

Errors: a DuckDB error (or an undefined parameter) shows as one line, ``gsql: <message>``, instead
of a Python traceback, and the cell fails, so "Run all" stops there as with any failing cell.
"""

from __future__ import annotations

import argparse
import keyword
import os
import shlex

import duckdb
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class, no_var_expand

from .layout import DATA_ROOT_ENV

__all__ = ["GsqlError", "GsqlMagics", "load_ipython_extension", "run_sql", "unload_ipython_extension"]

DEFAULT_ROWS = 50

# Statements that change state and return no table worth showing (DuckDB 2 answers them with an
# empty "Count" relation). Every other statement type (SELECT, PIVOT, EXPLAIN, INSERT...) is shown.
_SILENT = frozenset(
    {
        "CREATE",
        "DROP",
        "ALTER",
        "SET",
        "VARIABLE_SET",
        "TRANSACTION",
        "ATTACH",
        "DETACH",
        "LOAD",
        "EXTENSION",
        "PREPARE",
        "ANALYZE",
        "VACUUM",
        "CREATE_FUNC",
        "EXPORT",
        "COPY_DATABASE",
    }
)


class GsqlError(Exception):
    """A query that failed, shown by IPython as one line (``gsql: ...``) instead of a traceback."""

    def _render_traceback_(self) -> list[str]:
        return [f"gsql: {self}"]


def one_line(message: str) -> str:
    """A DuckDB error message on one line: its sentences joined, the ``LINE n:`` caret drawing dropped."""
    parts = []
    lines = str(message).splitlines()
    skip_caret = False
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if text.startswith("LINE ") and ":" in text:
            skip_caret = True
            continue
        if skip_caret and set(text) <= {"^"}:
            skip_caret = False
            continue
        parts.append(text)
    return " ".join(parts) if parts else str(message).strip()


def _bind(names: set[str], namespace: dict) -> dict:
    params = {}
    for name in sorted(names):
        if name.isdigit():
            raise GsqlError(f"positional parameter ${name} (or ?): name it ($name binds the notebook variable name)")
        if name not in namespace:
            raise GsqlError(f"${name}: no variable {name!r} in the notebook")
        value = namespace[name]
        params[name] = os.fspath(value) if isinstance(value, os.PathLike) else value
    return params


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, namespace: dict | None = None):
    """Run every statement of ``sql`` on ``con``, ``$name`` bound from ``namespace``.

    Returns the last statement's result as a polars DataFrame, or ``None`` when that statement
    returns no table (CREATE, SET...). Raises :class:`GsqlError` with a one-line message.
    """
    namespace = namespace if namespace is not None else {}
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise GsqlError(one_line(str(exc))) from None
    if not statements:
        raise GsqlError("the cell has no SQL statement")
    result = None
    for i, statement in enumerate(statements, 1):
        where = f"statement {i} of {len(statements)}: " if len(statements) > 1 else ""
        try:
            params = _bind(set(statement.named_parameters), namespace)
        except GsqlError as exc:
            raise GsqlError(where + str(exc)) from None
        try:
            rel = con.sql(statement.query, params=params or None)
            result = None if rel is None or statement.type.name in _SILENT else rel.pl()
        except duckdb.Error as exc:
            raise GsqlError(where + one_line(str(exc))) from None
    return result


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="%%gsql", add_help=False, exit_on_error=False)
    p.add_argument("name", nargs="?", help="store the result in this notebook variable (polars DataFrame)")
    p.add_argument("-o", "--out", help="same as NAME")
    p.add_argument("-c", "--con", help="run on this connection variable instead of the current one")
    p.add_argument("-n", "--rows", type=int, default=DEFAULT_ROWS, help="rows to show (-1: all)")
    p.add_argument("-q", "--quiet", action="store_true", help="store the result, do not display it")
    return p


def _connect_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="%gsql", add_help=False, exit_on_error=False)
    p.add_argument("data_root", nargs="?")
    p.add_argument("-c", "--con")
    return p


def _parse(parser: argparse.ArgumentParser, line: str) -> argparse.Namespace:
    try:
        args, extra = parser.parse_known_args(shlex.split(line))
    except (argparse.ArgumentError, ValueError) as exc:
        raise UsageError(f"{parser.prog}: {exc}") from None
    if extra:
        raise UsageError(f"{parser.prog}: unexpected {' '.join(extra)!r}")
    return args


@magics_class
class GsqlMagics(Magics):
    """``%gsql`` chooses the connection; ``%%gsql`` runs a cell of SQL on it."""

    def __init__(self, shell):
        super().__init__(shell)
        self.variable: str | None = None  # %gsql -c NAME: the notebook variable, looked up at each cell
        self.connection: duckdb.DuckDBPyConnection | None = None  # %gsql DATA_ROOT: a connection of our own
        self.described = ""

    @property
    def ipython(self) -> InteractiveShell:
        """The shell these magics are registered in (IPython types ``shell`` as optional; here it is set)."""
        assert self.shell is not None
        return self.shell

    def _connection_variable(self, name: str) -> duckdb.DuckDBPyConnection:
        con = self.ipython.user_ns.get(name)
        if con is None:
            raise UsageError(f"gsql: no variable {name!r} in the notebook")
        if not isinstance(con, duckdb.DuckDBPyConnection):
            raise UsageError(f"gsql: {name!r} is a {type(con).__name__}, not a DuckDB connection")
        return con

    def _current(self) -> duckdb.DuckDBPyConnection:
        if self.variable is not None:
            return self._connection_variable(self.variable)
        if self.connection is None and os.environ.get(DATA_ROOT_ENV):
            self._open(None)  # the store the CLI would read
        if self.connection is not None:
            return self.connection
        raise UsageError(
            "%%gsql: no connection yet: run `%gsql -c con` with con = gensql.connect(root), or `%gsql DATA_ROOT`"
            f" (or set ${DATA_ROOT_ENV})"
        )

    def _open(self, data_root: str | None) -> None:
        """Make ``gensql.connect(data_root)`` the connection (None: ``$GENSQL_DATA_ROOT``, as the CLI)."""
        from . import catalog
        from .errors import GensqlError

        try:
            con = catalog.connect(os.path.expanduser(data_root) if data_root is not None else None)
        except GensqlError as exc:
            raise GsqlError(one_line(str(exc))) from None
        if self.connection is not None:
            self.connection.close()
        self.variable, self.connection = None, con
        self.described = (
            f"gensql.connect({data_root!r})" if data_root is not None else f"gensql.connect() (${DATA_ROOT_ENV})"
        )

    @no_var_expand  # $name in SQL is a bound parameter: IPython must not paste the value into the line
    @line_magic
    def gsql(self, line: str = ""):
        """``%gsql SQL``: run one line of SQL and return its result (``x = %gsql SELECT 42``);
        ``%gsql -c VAR``: run %%gsql cells on the connection VAR; ``%gsql DATA_ROOT``: open one."""
        if _is_sql(line):
            return run_sql(self._current(), line, self.ipython.user_ns)
        args = _parse(_connect_parser(), self.ipython.var_expand(line))  # a path may be `{root}`, as before
        if args.con and args.data_root:
            raise UsageError("%gsql: give a data root or -c VARIABLE, not both")
        if args.con:
            self._connection_variable(args.con)  # check it now, use whatever it holds at each cell
            self.variable, self.described = args.con, f"the notebook variable {args.con}"
        elif args.data_root:
            self._open(args.data_root)
        elif not self.described and os.environ.get(DATA_ROOT_ENV):
            self._open(None)
        if not self.described:
            print(
                "gsql: no connection yet: `%gsql -c con` (a connection variable) or `%gsql DATA_ROOT`"
                f" (or set ${DATA_ROOT_ENV})"
            )
        else:
            print(f"gsql: %%gsql cells run on {self.described}")
        return None

    @cell_magic("gsql")  # type: ignore[arg-type]  # IPython types the decorated method as Never
    def gsql_cell(self, line: str, cell: str):
        """Run the cell's SQL; ``%%gsql NAME`` also stores the result as a polars DataFrame."""
        args = _parse(_parser(), line)
        if args.name and args.out and args.name != args.out:
            raise UsageError("%%gsql: give the result one name (NAME or -o NAME)")
        target = args.out or args.name
        if target is not None and (not target.isidentifier() or keyword.iskeyword(target)):
            raise UsageError(f"%%gsql: {target!r} is not a Python variable name")
        con = self._connection_variable(args.con) if args.con else self._current()
        df = run_sql(con, cell, self.ipython.user_ns)
        if target is not None:
            if df is None:
                raise GsqlError(f"the last statement returns no table to store in {target}")
            self.ipython.user_ns[target] = df
        if df is not None and not args.quiet:
            _display(df, args.rows)
            # the cell's value, as an expression's: `_`, `__` and Out[n] hold it (shown once, above,
            # with the -n rows: a returned value would be shown again with polars' defaults)
            self.ipython.displayhook.update_user_ns(df)


def _is_sql(line: str) -> bool:
    """Whether a ``%gsql`` line is SQL to run rather than a data root or options: a line that DuckDB
    parses, or more than one word not starting with an option (a typo in SQL is shown as SQL's error)."""
    text = line.strip()
    if not text or text.startswith("-"):
        return False
    try:
        if duckdb.extract_statements(text):
            return True
    except duckdb.Error:
        pass
    try:
        words = shlex.split(text)
    except ValueError:
        return True
    return len(words) > 1 and not any(w in ("-c", "--con") for w in words)


def _display(df, rows: int) -> None:
    import polars as pl
    from IPython.display import display

    with pl.Config(tbl_rows=rows, tbl_cols=-1, fmt_str_lengths=120, tbl_hide_dataframe_shape=False):
        display(df)


def load_ipython_extension(ipython) -> None:
    """``%load_ext gensql.magic``."""
    ipython.register_magics(GsqlMagics)


def unload_ipython_extension(ipython) -> None:  # pragma: no cover - nothing to release
    pass

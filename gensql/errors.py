"""One exception hierarchy for everything gensql reports to a user.

Library code raises these with a message that says what failed, which file, and what to do next;
the CLI turns any :class:`GensqlError` into that message and the exit code below, without a traceback.
"""

from __future__ import annotations

from typing import Any


class GensqlError(Exception):
    """Base class: a problem the user can act on. ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class StoreNotFoundError(GensqlError):
    """The data root has no ``gens/`` directory."""

    exit_code = 2


class InvalidIdError(GensqlError, ValueError):
    """A stage or id that is unknown or would leave the store (``..``, separators, absolute paths)."""

    exit_code = 2


class GenerationNotFoundError(GensqlError, LookupError):
    """No generation directory for the given stage and id."""

    exit_code = 2


class LegacyStoreNotFoundError(StoreNotFoundError):
    """The data root has none of the legacy flat folders the backfill reads."""


class IndexNotFoundError(GensqlError):
    """No index has been written yet: run ``gensql refresh``."""

    exit_code = 2


class IndexLockedError(GensqlError):
    """Another refresh holds the index lock."""

    exit_code = 3


class StrictModeError(GensqlError):
    """``--strict`` was given and some files could not be read (the index was still written: ``result``
    is the :class:`~gensql.refresh.RefreshResult` of that refresh when there is one)."""

    exit_code = 4
    result: Any = None


class QueryError(GensqlError):
    """A SQL query or named query failed; the message is DuckDB's."""

    exit_code = 1


class QueryInputError(QueryError):
    """Bad input to a query: an unknown named query, a missing or unknown parameter, an empty SQL string."""

    exit_code = 2


class PriceTableError(GensqlError):
    """A price table file is malformed; the message names the line."""

    exit_code = 2


class WriteError(GensqlError, ValueError):
    """The write path refused a generation or cohort: a missing or invalid fact, or a broken invariant."""

    exit_code = 2


class OutputError(GensqlError):
    """A command's output file (``-o FILE``, ``--db FILE``) cannot be written: no such folder, no permission."""

    exit_code = 2


class GenerationExistsError(WriteError):
    """A generation with that id already exists; gensql never overwrites one."""


class SearchQueryError(GensqlError, ValueError):
    """A search query that cannot be parsed, or an invalid search option."""

    exit_code = 2


class IndexDirError(GensqlError):
    """The index directory is not one gensql may write: inside the store, or a folder gensql did not make."""

    exit_code = 2


class IndexWriteError(GensqlError):
    """The index could not be written (disk full, quota); the previous index stays current."""

    exit_code = 5


class WatchError(GensqlError):
    """The store cannot be watched (``gensql refresh --watch``), e.g. the inotify watch limit is too low."""

    exit_code = 2


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: raised by the CLI's signal handler so every cleanup runs, like Ctrl-C.

    Not a :class:`GensqlError` (no ``except Exception`` may swallow it); the CLI exits 143 (128 + 15).
    """

    exit_code = 143

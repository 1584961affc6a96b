"""gensql: query the on-disk store of an LLM generation pipeline with SQL.

The public API, small on purpose::

    import gensql
    result = gensql.refresh("data")          # scan the store into the Parquet index
    con = gensql.connect("data")             # DuckDB connection with every view
    con.sql("SELECT model_id, sum(completion_tokens) FROM token_usage GROUP BY 1").pl()
    gen = gensql.load_generation("data", "essay", "e_abc123")

One convention for every function: the first argument is ``data_root``, the folder holding ``gens/``;
``None`` means what the CLI uses (``$GENSQL_DATA_ROOT``, else ``./data``), and where nothing required
follows it, it can be left out (``gensql.connect()``). Paths a function returns as ``gen_dir`` are
relative to the data root, as in the index (``gens.gen_dir``); absolute ones are called ``path``.

The names below are imported on first use, so ``import gensql`` (and the CLI's start-up) stays cheap
(about 4 ms; importing them all takes DuckDB, pyarrow and polars, a few hundred ms). Type checkers
and IDEs read the ``TYPE_CHECKING`` imports, ``help(gensql)`` and ``dir(gensql)`` list ``__all__``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._lazy import lazy_dir, lazy_getattr

__version__ = "0.1.0"

if TYPE_CHECKING:
    from . import reports as reports
    from .catalog import connect as connect
    from .errors import GensqlError as GensqlError
    from .fulltext import search as search
    from .refresh.index import RefreshResult as RefreshResult
    from .refresh.index import refresh as refresh
    from .reports import Report as Report
    from .reports import agreement_report as agreement_report
    from .reports import cohort_report as cohort_report
    from .reports import compare_report as compare_report
    from .reports import judge_panel as judge_panel
    from .reports import judge_points as judge_points
    from .reports import judges_report as judges_report
    from .reports import scores_report as scores_report
    from .reports import tokens_report as tokens_report
    from .store import load_generation as load_generation
    from .write import CohortRef as CohortRef
    from .write import GenerationRef as GenerationRef
    from .write import SqliteExport as SqliteExport
    from .write import resolve_latest as resolve_latest
    from .write import update_generation as update_generation
    from .write import write_generation as write_generation
    from .write import write_membership as write_membership
    from .write.export_sqlite import export_sqlite as export_sqlite

#: name -> module it is imported from on first use (the same pairs as the TYPE_CHECKING imports above).
_EXPORTS = {
    "refresh": "gensql.refresh",
    "RefreshResult": "gensql.refresh",
    "connect": "gensql.catalog",
    "load_generation": "gensql.store",
    "GensqlError": "gensql.errors",
    "Report": "gensql.reports",
    "tokens_report": "gensql.reports",
    "scores_report": "gensql.reports",
    "cohort_report": "gensql.reports",
    "agreement_report": "gensql.reports",
    "compare_report": "gensql.reports",
    "judges_report": "gensql.reports",
    "judge_panel": "gensql.reports",
    "judge_points": "gensql.reports",
    "write_generation": "gensql.write",
    "update_generation": "gensql.write",
    "write_membership": "gensql.write",
    "resolve_latest": "gensql.write",
    "export_sqlite": "gensql.write.export_sqlite",  # gensql.write.export_sqlite is also a module name
    "GenerationRef": "gensql.write",
    "CohortRef": "gensql.write",
    "SqliteExport": "gensql.write",
    "search": "gensql.fulltext",
    "reports": "gensql.reports",  # the module: its build_* functions return a Report (.df, .notes)
}

__all__ = [
    "CohortRef",
    "GenerationRef",
    "GensqlError",
    "RefreshResult",
    "Report",
    "SqliteExport",
    "__version__",
    "agreement_report",
    "cohort_report",
    "compare_report",
    "connect",
    "export_sqlite",
    "judge_panel",
    "judge_points",
    "judges_report",
    "load_generation",
    "refresh",
    "reports",
    "resolve_latest",
    "scores_report",
    "search",
    "tokens_report",
    "update_generation",
    "write_generation",
    "write_membership",
]

_lazy = lazy_getattr(__name__, _EXPORTS, globals())
__dir__ = lazy_dir(globals(), __all__)


def __getattr__(name: str) -> Any:
    if name == "refresh":  # the package gensql.refresh, callable as its function: one object, whoever imports first
        from importlib import import_module

        return import_module("gensql.refresh")
    return _lazy(name)

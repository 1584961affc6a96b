"""gensql: query the on-disk store of an LLM generation pipeline with SQL.

The public API, small on purpose::

    import gensql
    result = gensql.refresh("data")          # scan the store into the Parquet index
    con = gensql.connect("data")             # DuckDB connection with every view
    con.sql("SELECT model_id, sum(completion_tokens) FROM token_usage GROUP BY 1").pl()
    gen = gensql.load_generation("data/gens", "essay", "e_abc123")

Attributes are imported lazily so ``import gensql`` (and the CLI's start-up) stays cheap.
"""

from __future__ import annotations

from ._lazy import lazy_getattr

__version__ = "0.1.0"

_EXPORTS = {
    "refresh": "gensql.refresh",
    "RefreshResult": "gensql.refresh",
    "connect": "gensql.catalog",
    "load_generation": "gensql.store",
    "GensqlError": "gensql.errors",
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
    "export_sqlite": "gensql.write",
    "GenerationRef": "gensql.write",
    "search": "gensql.fulltext",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


_lazy = lazy_getattr(__name__, _EXPORTS, globals())


def __getattr__(name: str):
    if name == "refresh":  # the package gensql.refresh, callable as its function: one object, whoever imports first
        from importlib import import_module

        return import_module("gensql.refresh")
    return _lazy(name)

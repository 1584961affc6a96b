"""Ranked full-text search over the prompt, raw and parsed texts of a snapshot (tantivy: BM25, phrases, booleans).

The package is `fulltext`, not `search`, so that `gensql.search(...)` stays the function.
"""

from __future__ import annotations

from .engine import SEARCH_DIR, SEARCH_MAX_CHARS, SearchIndexStats, update_search_index


def __getattr__(name: str):
    """``search`` and ``SEARCH_COLUMNS`` load the query side (polars) only when asked for: a refresh,
    which needs the engine alone, starts faster."""
    if name in ("search", "SEARCH_COLUMNS"):
        from . import query

        return getattr(query, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SEARCH_COLUMNS", "SEARCH_DIR", "SEARCH_MAX_CHARS", "SearchIndexStats", "search", "update_search_index"]

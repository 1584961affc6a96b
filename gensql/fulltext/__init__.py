"""Ranked full-text search over the prompt, raw and parsed texts of a snapshot (tantivy: BM25, phrases, booleans).

The package is `fulltext`, not `search`, so that `gensql.search(...)` stays the function.
"""

from __future__ import annotations

from .engine import SEARCH_DIR, SEARCH_MAX_CHARS, SearchIndexStats, update_search_index
from .query import SEARCH_COLUMNS, search

__all__ = ["SEARCH_COLUMNS", "SEARCH_DIR", "SEARCH_MAX_CHARS", "SearchIndexStats", "search", "update_search_index"]

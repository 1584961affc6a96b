"""The write path: pipelines write generations and cohorts through gensql, exactly as refresh reads them.

- :func:`write_generation` / :func:`update_generation`: one generation, atomic, validated, never overwritten;
- :func:`write_membership` / :func:`list_cohorts`: cohorts;
- :func:`resolve_latest`: the newest successful attempt of a logical product (seed 000's read path);
- :func:`export_sqlite`: seed 000's SQLite ``documents`` index as an export of the current snapshot.
"""

from __future__ import annotations

from .cohorts import CohortInfo, CohortRef, create_cohort_from_query, list_cohorts, write_membership
from .export_sqlite import SqliteExport, export_sqlite
from .generation import GenerationRef, update_generation, write_generation
from .resolve import resolve_latest

__all__ = [
    "CohortInfo",
    "CohortRef",
    "GenerationRef",
    "create_cohort_from_query",
    "SqliteExport",
    "export_sqlite",
    "list_cohorts",
    "resolve_latest",
    "update_generation",
    "write_generation",
    "write_membership",
]

"""Backfill: migrate the legacy flat folders into the gens store, one directory per attempt.

Before the gens store the pipeline wrote one text file per task and stage into flat folders
(``3_generation/``, ``4_evaluation/``; :data:`~gensql.layout.LEGACY_DIRS` and the single-phase and
links folders next to them). :func:`backfill` turns them into ``<data-root>/gens/<stage>/<gen_id>/``
directories, as seed 000's migration plan describes, reading the pipeline's own task tables
(``2_tasks/``) and id lists (``1_raw/``) to split task ids. The modules, one job each:

- :mod:`.names`: ``<task_id>_vN.txt`` file names (only ``_vN`` is a version);
- :mod:`.tasks`: what a task id means (task tables, then id lists, then the name);
- :mod:`.plan`: the attempts, their files, facts, mode, parent and whether they were imported before;
- :mod:`.write`: carrying the plan out atomically, and the summary.

The rules, era by era, are in docs/backfill.md.
"""

from __future__ import annotations

from ..errors import LegacyStoreNotFoundError
from .plan import (
    GEN_ID_NAMESPACE,
    KIND_LINKS,
    KIND_PARSED,
    KIND_RAW,
    KIND_SINGLE,
    KIND_SINGLE_ESSAY,
    PlannedGeneration,
    backfill_gen_id,
    build_plan,
)
from .write import TMP_PREFIX, BackfillSummary, backfill, default_run_id

__all__ = [
    "GEN_ID_NAMESPACE",
    "KIND_LINKS",
    "KIND_PARSED",
    "KIND_RAW",
    "KIND_SINGLE",
    "KIND_SINGLE_ESSAY",
    "TMP_PREFIX",
    "BackfillSummary",
    "LegacyStoreNotFoundError",
    "PlannedGeneration",
    "backfill",
    "backfill_gen_id",
    "build_plan",
    "default_run_id",
]

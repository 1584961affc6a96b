"""Deterministic generator of realistic gens stores, with the facts a scanner must find in them.

Three users:

* the small **sample store** committed in ``data/`` (:func:`make_sample_store`, fixed seed);
* **tests**, which build stores in a temporary directory and compare what gensql reports with the
  :class:`StoreTruth` returned here (:func:`make_store`, profile ``"mixed"``);
* **benchmarks**, which need 100,000 to 1,000,000 clean generations fast (profile ``"bench"``).

The ``"mixed"`` profile writes every format era the pipeline produced over its life (see
``shared/store-formats.md`` and docs/eras.md): the legacy flat folders of the single-phase, two-phase
and versioned eras with the pipeline's task tables (``2_tasks/``) and id lists (``1_raw/``), seed 000's
docs store in both nestings with ``db/documents.sqlite``, the 2025-09-15 gens store whose combo ids
live only in its wide membership.csv, the 2025-09-24 importer's copies of legacy texts, and the gens
store's later eras; and every anomaly a reader must survive: placeholders, aliases, null-like
strings, digit strings, all usage shapes, copy-mode essays, truncations, parse failures, skipped and
failed calls, three score forms, dangling / wrong-stage parents, stale ids inside JSON, malformed files
of every kind, unexpected entries, old and new membership files, missing members, retries and
replicates.

The expected values are computed from what the generator *meant* to write (the logical value of each
key in each JSON file, which files exist, which were corrupted), never by reading the files back, and
include the facts refresh borrows from outside a directory (``facts_from``: the wide membership, the
documents index, the essay templates' generators) and the ``store_root`` of docs rows.

Modules: :mod:`.vocab` (ids, names, texts), :mod:`.model` (one generation directory in memory),
:mod:`.plan` (what a generation is meant to be), one renderer per format era (:mod:`.era_current`,
:mod:`.era_single`, :mod:`.era_imported`, :mod:`.era_fat`, :mod:`.era_importer`, :mod:`.era_docs`,
:mod:`.era_legacy`), :mod:`.mixed` (the mixed store: kit, families, reruns, the real eras, cohorts), :mod:`.bench` (the bench profile), :mod:`.truth` (expected values), :mod:`.store` (entry
points), :mod:`.cli`.

Command line::

    python -m gensql.synth sample DIR
    python -m gensql.synth store DIR --n N --seed S --profile mixed|bench
"""

from __future__ import annotations

from .cli import main
from .era_legacy import LEGACY_ERAS, LegacyTask, LegacyVersion
from .mixed import COHORT_MANIFEST_FILE, STRAY_FILE
from .store import PROFILES, SAMPLE_N, SAMPLE_SEED, make_sample_store, make_store
from .truth import ERAS, ERROR_KINDS, NULL_LIKE, ExpectedError, ExpectedGen, StoreTruth

__all__ = [
    "COHORT_MANIFEST_FILE",
    "ERAS",
    "ERROR_KINDS",
    "LEGACY_ERAS",
    "LegacyTask",
    "LegacyVersion",
    "NULL_LIKE",
    "PROFILES",
    "SAMPLE_N",
    "SAMPLE_SEED",
    "STRAY_FILE",
    "ExpectedError",
    "ExpectedGen",
    "StoreTruth",
    "main",
    "make_sample_store",
    "make_store",
]

"""Deterministic generator of realistic gens stores, with the facts a scanner must find in them.

Three users:

* the small **sample store** committed in ``data/`` (:func:`make_sample_store`, fixed seed);
* **tests**, which build stores in a temporary directory and compare what gensql reports with the
  :class:`StoreTruth` returned here (:func:`make_store`, profile ``"mixed"``);
* **benchmarks**, which need 100,000 to 1,000,000 clean generations fast (profile ``"bench"``).

The ``"mixed"`` profile writes every format era the pipeline produced over its life (see
``shared/store-formats.md``) and every anomaly a reader must survive: placeholders, aliases, null-like
strings, digit strings, all usage shapes, copy-mode essays, truncations, parse failures, skipped and
failed calls, three score forms, dangling / wrong-stage parents, stale ids inside JSON, malformed files
of every kind, unexpected entries, old and new membership files, missing members, retries and
replicates.

The expected values are computed from what the generator *meant* to write (the logical value of each
key in each JSON file, which files exist, which were corrupted), never by reading the files back.

Modules: :mod:`.vocab` (ids, names, texts), :mod:`.model` (one generation directory in memory),
:mod:`.plan` (what a generation is meant to be), one renderer per format era (:mod:`.era_current`,
:mod:`.era_single`, :mod:`.era_imported`), :mod:`.mixed` (the mixed store: kit, families, reruns,
cohorts), :mod:`.bench` (the bench profile), :mod:`.truth` (expected values), :mod:`.store` (entry
points), :mod:`.cli`.

Command line::

    python -m gensql.synth sample DIR
    python -m gensql.synth store DIR --n N --seed S --profile mixed|bench
"""

from __future__ import annotations

from .cli import main
from .mixed import COHORT_MANIFEST_FILE, STRAY_FILE
from .store import PROFILES, SAMPLE_N, SAMPLE_SEED, make_sample_store, make_store
from .truth import ERAS, ERROR_KINDS, NULL_LIKE, ExpectedError, ExpectedGen, StoreTruth

__all__ = [
    "COHORT_MANIFEST_FILE",
    "ERAS",
    "ERROR_KINDS",
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

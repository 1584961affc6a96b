"""The public entry points: :func:`make_store` (mixed or bench profile) and :func:`make_sample_store`."""

from __future__ import annotations

from pathlib import Path

from ..layout import COHORTS_DIR, DOCS_DIR, GENS_DIR
from .bench import make_bench
from .mixed import MixedBuilder
from .truth import StoreTruth

PROFILES: tuple[str, ...] = ("mixed", "bench")
#: Strings that mean "missing" (compared case-insensitively), besides JSON null.
SAMPLE_SEED = 20250301
SAMPLE_N = 720  # large enough for the planted judges to show in the agreement report


def _check_empty(root: Path) -> None:
    for sub in (GENS_DIR, COHORTS_DIR, DOCS_DIR):
        p = root / sub
        if p.exists() and any(p.iterdir()):
            raise FileExistsError(f"{p} already has content: synth writes into an empty data root")


def make_store(root: Path, *, n: int, seed: int = 0, profile: str = "mixed") -> StoreTruth:
    """Write a synthetic store under ``root`` (``root/gens/...``, ``root/cohorts/...``); return its truth.

    ``profile="mixed"``: every era and every anomaly (see the module docstring). ``n`` is a target:
    the mixed profile always writes a fixed kit of 61 directories that carries each anomaly at least
    once plus at least one realistic family per era, and the real pipeline's other eras: 27
    directories of the 09-24 importer and seed 000's docs store, the 2025-09-15 gens store (about 5%
    of ``n``, at least two families) and 40 legacy flat-file tasks (files, not directories); ``n=0``
    gives 110 to 160 directories. It then fills up to roughly ``n`` (within a few percent) with
    families: draft -> essays -> evaluations, with replicates, retries in a later cohort, and
    outcomes drawn in realistic proportions.
    ``ExpectedGen.logical_group`` names the product the generator *meant*. Where a corrupted or
    missing metadata.json hides key parts the scanner's logical key is built from less, but the store
    is made so that grouping by either gives the same partition of directories.

    ``profile="bench"``: exactly ``n`` clean current-era generations with all six files, 10% drafts,
    20% essays, 70% evaluations (about 3% truncated, the rest ok), one current-form cohort per
    100,000 generations. To stay fast and small at 1,000,000 generations the returned truth has
    ``gens == {}``: use ``n_gens``, ``stage_counts`` and ``cohorts`` instead.

    Same ``(n, seed, profile)``, same bytes, names and mtimes.
    """
    root = Path(root)
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: expected one of {', '.join(PROFILES)}")
    if n < 0:
        raise ValueError("n must be >= 0")
    root.mkdir(parents=True, exist_ok=True)
    _check_empty(root)
    if profile == "bench":
        return make_bench(root, n, seed)
    builder = MixedBuilder(seed)
    builder.build(n)
    return builder.write(root)


def make_sample_store(root: Path) -> StoreTruth:
    """The sample store committed in ``data/``: the mixed profile, ``n=SAMPLE_N``, ``seed=SAMPLE_SEED``."""
    return make_store(root, n=SAMPLE_N, seed=SAMPLE_SEED, profile="mixed")

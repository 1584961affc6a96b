"""The pipeline's own importer of 2025-09-24 (``utils/legacy_gens_migration.py`` at 26a140c), run unchanged.

It copied legacy essay/evaluation texts into ``gens/`` with ``source_file``, ``created_from`` and
``legacy_fields.origin_filename``, random 16-character gen ids, and ``mode: copy``. It needs
``<legacy_root>/combo_mappings.csv`` and ``<target_root>/1_raw/{essay,evaluation}_templates.csv`` and
``llm_models.csv``: the legacy store builders of this package write all three. Pure Python: no stubs.
"""

from __future__ import annotations

from pathlib import Path

COMMIT = "26a140c01d9d9891d14a44aff6b200f1dd061fda"


def run_importer(data_root: Path) -> dict:
    """Import ``data_root``'s legacy folders into ``data_root/gens`` as the real pipeline did."""
    from .daydreaming_dagster.utils.legacy_gens_migration import migrate_legacy_gens

    return migrate_legacy_gens(legacy_root=Path(data_root), target_root=Path(data_root), dry_run=False)

# Copied from github.com/zby/DayDreamingDayDreaming at 284970808d0d94fbf67ad56d8778aec8f9bf68bb,
# path src/daydreaming_dagster/config/paths.py. Edits: absolute daydreaming_dagster imports point at this fixture package. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
from __future__ import annotations

"""Deprecated shim: re-export path helpers from realwriter.gens_head.daydreaming_dagster.data_layer.paths."""

from realwriter.gens_head.daydreaming_dagster.data_layer.paths import (  # noqa: F401,F403
    Paths,
    PROMPT_FILENAME,
    RAW_FILENAME,
    PARSED_FILENAME,
    METADATA_FILENAME,
    RAW_METADATA_FILENAME,
    PARSED_METADATA_FILENAME,
)

__all__ = [
    "Paths",
    "PROMPT_FILENAME",
    "RAW_FILENAME",
    "PARSED_FILENAME",
    "METADATA_FILENAME",
    "RAW_METADATA_FILENAME",
    "PARSED_METADATA_FILENAME",
]

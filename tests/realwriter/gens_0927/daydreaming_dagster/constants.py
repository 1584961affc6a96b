# Copied from github.com/zby/DayDreamingDayDreaming at 2e526d04d7a1fc7ac77b8bce4ec5de47ad9bd18c,
# path src/daydreaming_dagster/constants.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
"""Centralized constants for stages and gens filenames.

Defines canonical stage names and per-generation file names used across
assets and utilities. Update here to change project-wide conventions.
"""

from .types import STAGES
from .data_layer.paths import (
    PROMPT_FILENAME,
    RAW_FILENAME,
    PARSED_FILENAME,
    METADATA_FILENAME,
)

# Canonical files persisted under data/gens/<stage>/<gen_id>/
GEN_FILES = (PROMPT_FILENAME, RAW_FILENAME, PARSED_FILENAME, METADATA_FILENAME)

# Backcompat aliases for stage names (prefer using values from STAGES directly)
DRAFT, ESSAY, EVALUATION = STAGES

# Note: Prefer Paths helpers (data_layer.paths.Paths) instead of touching filenames directly.

# Copied from github.com/zby/DayDreamingDayDreaming at 284970808d0d94fbf67ad56d8778aec8f9bf68bb,
# path src/daydreaming_dagster/data_layer/__init__.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
from .paths import Paths
from .gens_data_layer import (
    GensDataLayer,
    GenerationMetadata,
    resolve_generation_metadata,
)

__all__ = [
    "Paths",
    "GensDataLayer",
    "GenerationMetadata",
    "resolve_generation_metadata",
]

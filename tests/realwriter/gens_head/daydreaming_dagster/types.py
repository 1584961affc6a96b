# Copied from github.com/zby/DayDreamingDayDreaming at 284970808d0d94fbf67ad56d8778aec8f9bf68bb,
# path src/daydreaming_dagster/types.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
from typing import Literal, Tuple, get_args, cast

# Shared stage literal across the codebase
Stage = Literal["draft", "essay", "evaluation"]

# Canonical stage sequence (single source of truth for runtime lists),
# derived from the Literal at import time to avoid drift.
STAGES: Tuple[Stage, ...] = cast(Tuple[Stage, ...], get_args(Stage))

__all__ = ["Stage", "STAGES"]

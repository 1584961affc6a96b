# Copied from github.com/zby/DayDreamingDayDreaming at 2e526d04d7a1fc7ac77b8bce4ec5de47ad9bd18c,
# path src/daydreaming_dagster/types.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
from typing import Literal, Tuple, get_args, cast

# Shared stage literal across the codebase
Stage = Literal["draft", "essay", "evaluation"]

# Canonical stage sequence (single source of truth for runtime lists),
# derived from the Literal at import time to avoid drift.
STAGES: Tuple[Stage, ...] = cast(Tuple[Stage, ...], get_args(Stage))

__all__ = ["Stage", "STAGES"]

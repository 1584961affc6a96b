# Copied from github.com/zby/DayDreamingDayDreaming at 869bab4adfc6757efb84ddee4c38149515e6c131,
# path daydreaming_dagster/models/__init__.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
"""Models for the daydreaming experiment."""

from .concept import Concept
from .content_combination import ContentCombination

__all__ = ["Concept", "ContentCombination"]
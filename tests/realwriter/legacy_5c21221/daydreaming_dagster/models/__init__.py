# Copied verbatim from github.com/zby/DayDreamingDayDreaming at 5c21221d6e264047382818d5a10a476f31d47200,
# path daydreaming_dagster/models/__init__.py. Not edited: framework imports (dagster, openai, tenacity, ratelimit) resolve to the
# stubs of tests/realwriter/legacy_stubs while this era is imported (see ../__init__.py).
"""Models for the daydreaming experiment."""

from .concept import Concept
from .content_combination import ContentCombination

__all__ = ["Concept", "ContentCombination"]
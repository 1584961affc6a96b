# Copied verbatim from github.com/zby/DayDreamingDayDreaming at 984d76b4e98e9b39d093f324e53d8012f55e258d,
# path daydreaming_dagster/models/__init__.py. Not edited: framework imports (dagster, openai, tenacity, ratelimit) resolve to the
# stubs of tests/realwriter/legacy_stubs while this era is imported (see ../__init__.py).
"""Models for the daydreaming experiment."""

from .concept import Concept
from .content_combination import ContentCombination

__all__ = ["Concept", "ContentCombination"]
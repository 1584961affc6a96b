# Copied verbatim from github.com/zby/DayDreamingDayDreaming at d4d22154e74cd465f3fb496a5ced093fefcdc2f6,
# path daydreaming_dagster/models/__init__.py. Not edited: framework imports (dagster, openai, tenacity, ratelimit) resolve to the
# stubs of tests/realwriter/legacy_stubs while this era is imported (see ../__init__.py).
"""Models for the daydreaming experiment."""

from .concept import Concept
from .content_combination import ContentCombination

__all__ = ["Concept", "ContentCombination"]
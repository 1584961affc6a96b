# Copied from github.com/zby/DayDreamingDayDreaming at 6915d2dc73c8622589b5579ed581f864cbe866d2,
# path daydreaming_dagster/resources/__init__.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
from .experiment_config import ExperimentConfig
from .llm_client import LLMClientResource

__all__ = [
    "LLMClientResource",
    "ExperimentConfig",
]

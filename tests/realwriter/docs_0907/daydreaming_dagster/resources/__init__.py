# Copied from github.com/zby/DayDreamingDayDreaming at 869bab4adfc6757efb84ddee4c38149515e6c131,
# path daydreaming_dagster/resources/__init__.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
from .experiment_config import ExperimentConfig
from .llm_client import LLMClientResource

__all__ = [
    "LLMClientResource",
    "ExperimentConfig",
]

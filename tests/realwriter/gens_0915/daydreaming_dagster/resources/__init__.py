# Copied from github.com/zby/DayDreamingDayDreaming at 974def230b3e050a323297e14a0a5745878c1332,
# path src/daydreaming_dagster/resources/__init__.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
from .experiment_config import ExperimentConfig
from .llm_client import LLMClientResource

__all__ = [
    "LLMClientResource",
    "ExperimentConfig",
]

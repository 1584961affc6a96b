# Copied from github.com/zby/DayDreamingDayDreaming at 2e526d04d7a1fc7ac77b8bce4ec5de47ad9bd18c,
# path src/daydreaming_dagster/resources/__init__.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
from .experiment_config import ExperimentConfig
from .llm_client import LLMClientResource

__all__ = [
    "LLMClientResource",
    "ExperimentConfig",
]

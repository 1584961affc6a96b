# Copied from github.com/zby/DayDreamingDayDreaming at 284970808d0d94fbf67ad56d8778aec8f9bf68bb,
# path src/daydreaming_dagster/resources/__init__.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
from .cohort_spec import CohortSpecResource
from .experiment_config import ExperimentConfig
from .llm_client import LLMClientResource

__all__ = [
    "CohortSpecResource",
    "LLMClientResource",
    "ExperimentConfig",
]

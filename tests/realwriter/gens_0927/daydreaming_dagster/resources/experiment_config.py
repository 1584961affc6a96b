# Copied from github.com/zby/DayDreamingDayDreaming at 2e526d04d7a1fc7ac77b8bce4ec5de47ad9bd18c,
# path src/daydreaming_dagster/resources/experiment_config.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
from typing import Dict

from dagster import Config, ConfigurableResource
from pydantic import Field


class StageSettings(Config):
    """Per-stage configuration values."""

    generation_max_tokens: int | None = None
    min_lines: int | None = None


class ExperimentConfig(ConfigurableResource):
    """Experiment configuration for two-phase generation and evaluation."""

    k_max: int = 6
    description_level: str = "paragraph"
    evaluation_temperature: float = 0.1
    stage_config: Dict[str, StageSettings] = Field(
        default_factory=lambda: {
            "draft": StageSettings(generation_max_tokens=20480, min_lines=3),
            "essay": StageSettings(generation_max_tokens=20480, min_lines=None),
            "evaluation": StageSettings(generation_max_tokens=20480, min_lines=None),
        }
    )

    # Replication counts are configured via CSV only (data/1_raw/replication_config.csv).
    # No code defaults here — assets will fail if the CSV is missing or malformed.

    # COMMENTED OUT: Variance tracking configuration (future feature)
    # num_evaluation_runs: int = 3  # Number of evaluation runs per generation response for variance tracking

# Copied from github.com/zby/DayDreamingDayDreaming at 2e526d04d7a1fc7ac77b8bce4ec5de47ad9bd18c,
# path src/daydreaming_dagster/assets/partitions.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
from dagster import DynamicPartitionsDefinition

# Gen-id keyed dynamic partitions (one per generation)
draft_gens_partitions = DynamicPartitionsDefinition(name="draft_gens")
essay_gens_partitions = DynamicPartitionsDefinition(name="essay_gens")
evaluation_gens_partitions = DynamicPartitionsDefinition(name="evaluation_gens")

# Copied verbatim from github.com/zby/DayDreamingDayDreaming at 984d76b4e98e9b39d093f324e53d8012f55e258d,
# path daydreaming_dagster/assets/partitions.py. Not edited: framework imports (dagster, openai, tenacity, ratelimit) resolve to the
# stubs of tests/realwriter/legacy_stubs while this era is imported (see ../__init__.py).
from dagster import DynamicPartitionsDefinition

# Create dynamic partition definitions
generation_tasks_partitions = DynamicPartitionsDefinition(name="generation_tasks")
evaluation_tasks_partitions = DynamicPartitionsDefinition(name="evaluation_tasks")

# New partitions for simplified two-phase architecture
link_tasks_partitions = DynamicPartitionsDefinition(name="link_tasks")
essay_tasks_partitions = DynamicPartitionsDefinition(name="essay_tasks")
